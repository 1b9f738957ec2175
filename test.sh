#!/usr/bin/env bash
# Runs every test of the project.
set -euo pipefail
cd "$(dirname "$0")"
# The models the ML tests load; does nothing when setup.sh already fetched them.
ml/fetch.sh
cargo test --workspace --locked
# The unseen evaluation set builds and every needle is in its raw text (tests/fixtures/unseen).
python3 tests/fixtures/unseen/build.py "$(mktemp -d)" >/dev/null
# So does the dev set the compressors are tuned on (tests/fixtures/dev).
python3 tests/fixtures/dev/build.py "$(mktemp -d)" >/dev/null
# client-py: wire vectors, the client against target/release/headroomd, the integrations.
cargo build --release --locked --bins
.venv/bin/python -m pytest -q -p no:cacheprovider client-py/tests
# HTTP front: LiteLLM's guardrail, the OpenAI and Anthropic SDKs against headroomd --http.
.venv/bin/python -m pytest -q -p no:cacheprovider tests/http
# Dashboard: `headroom dashboard` in headless chromium against the real daemon and CLI.
.venv/bin/python -m pytest -q -p no:cacheprovider tests/dashboard
# client-ts: wire vectors, the client against target/release/headroomd, the integrations.
(cd client-ts && npm test)
# Reliability: 64 connections x 1,000 mixed requests against the release daemon, then
# each fuzz target for 60 s on its seeded corpus.
cargo run --release --locked --example loadgen
fuzz/run.sh 60

#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60) on the seeded corpus. cargo-fuzz needs
# nightly flags; RUSTC_BOOTSTRAP lets the machine's stable toolchain accept them.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
./seed.sh
export RUSTC_BOOTSTRAP=1
for target in frame request provider compressors; do
  cargo fuzz run "$target" "corpus/$target" -- -max_total_time="$seconds" -max_len=8192 -rss_limit_mb=2048 2>&1 | tail -n 3
done

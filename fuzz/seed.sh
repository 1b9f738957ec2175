#!/usr/bin/env bash
# Seeds each fuzz target's corpus from the protocol vectors and the real fixtures.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p corpus/frame corpus/request corpus/provider corpus/compressors
for f in ../protocol/vectors/*.bin; do
  cp "$f" "corpus/frame/$(basename "$f")"
  tail -c +5 "$f" > "corpus/request/$(basename "$f")"
done
for f in ../protocol/vectors/request_compress_*.json ../tests/fixtures/github/*.json; do
  cp "$f" "corpus/provider/$(basename "$f")"
done
for f in ../tests/fixtures/logs/*.log ../tests/fixtures/code/*.{py,rs,js,c} ../tests/fixtures/github/*.json; do
  head -c 4000 "$f" > "corpus/compressors/$(basename "$f")"
done
head -c 4000 ../tests/fixtures/diffs/*.diff > corpus/compressors/commit.diff

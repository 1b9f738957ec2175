#!/usr/bin/env bash
# Runs every test of the project.
set -euo pipefail
cd "$(dirname "$0")"
cargo test --workspace --locked

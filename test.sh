#!/usr/bin/env bash
# Runs every test of the project.
set -euo pipefail
cd "$(dirname "$0")"
cargo test --workspace --locked
# client-ts (issue 5): wire vectors, the client against target/release/headroomd, the integrations.
(cd client-ts && npm test)

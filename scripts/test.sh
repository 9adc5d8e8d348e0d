#!/usr/bin/env bash
# Runs every test of the workspace after setting the machine up.
# Tests that build network namespaces run when root and skip, saying so,
# otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# The end-to-end tests run the example programs: build them first.
cargo build --workspace --examples
cargo test --workspace --all-targets "$@"
cargo test --workspace --doc

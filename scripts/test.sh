#!/usr/bin/env bash
# Runs every test of the workspace after setting the machine up.
# Tests that cannot run here (namespace tests without root, the firmware
# without QEMU) are listed as skipped at the end; with WHOHAS_REQUIRE_ALL
# set (CI sets it) a skip fails its test instead.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh test
target_dir=$(cargo metadata --no-deps --format-version 1 | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
skipped=$target_dir/tmp/skipped-tests
rm -f "$skipped"
# The end-to-end tests run the example programs: build them first.
cargo build --workspace --examples
cargo test --workspace --all-targets "$@"
cargo test --workspace --doc
if [[ -s $skipped ]]; then
    echo "test.sh: $(wc -l < "$skipped") tests SKIPPED (they passed without running):"
    sed 's/^/  /' "$skipped"
fi

#!/usr/bin/env bash
# Runs the VM1/VM2 demo on an in-memory segment after setting the machine up.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh demo
cargo run --quiet --profile demo --example demo -- "$@"

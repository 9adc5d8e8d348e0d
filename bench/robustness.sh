#!/usr/bin/env bash
# Robustness figures: the seeded fault-injection trials (run here) and the
# fuzzing results recorded by fuzz/run-all.sh in bench/fuzz-results.md
# (fuzzing takes ~40 minutes, so it is not rerun by bench/run.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(cargo test -q -p whohas-core --test faults -- --nocapture 2>&1)
echo "## Robustness"
echo
echo "### Fault injection (seeded, in-memory segment)"
echo
echo "\`FaultInjector\` wraps a device and drops, duplicates, corrupts (one random"
echo "bit) and reorders frames, from a seeded xorshift generator, so every run is"
echo "the same. Results of \`cargo test -p whohas-core --test faults -- --nocapture\`:"
echo
echo "$out" | grep -oE '(30 %|requests needed|6 nodes).*' | sed 's/^/- /'
echo
echo "With 30 % loss each way a request and its reply both arrive with"
echo "probability 0.49, so 12 attempts fail with probability 0.51^12 = 3e-4;"
echo "the measured rate matches. Data frames have no retransmission in the C"
echo "protocol: under faults some messages are lost, never delivered corrupted"
echo "as another message's text without being counted, and nothing panics."
echo
echo "### Fuzzing (cargo-fuzz, libFuzzer)"
echo
cat bench/fuzz-results.md

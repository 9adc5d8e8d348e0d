#!/usr/bin/env bash
# Runs every fuzz target for RUNS executions (default 10 million) from the
# seed corpus, one after another, and prints one Markdown table row per
# target. Installs cargo-fuzz if it is missing (`cargo install cargo-fuzz`);
# builds on stable Rust with `--sanitizer none` (libFuzzer's coverage
# guidance, no ASan).
#   fuzz/run-all.sh            # 10 M runs each
#   RUNS=100000 fuzz/run-all.sh
#   TARGETS="node decode" fuzz/run-all.sh
set -euo pipefail
cd "$(dirname "$0")"
RUNS=${RUNS:-10000000}
TARGETS=${TARGETS:-ethernet name_arp arp icmpv6 transfer presence auth file_offer node decode}
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "run-all: installing cargo-fuzz" >&2
    cargo install --quiet --locked cargo-fuzz >&2
fi
python3 seed-corpus.py ../tests/captures/*.pcap ../tests/golden/*.pcap
cargo fuzz build --sanitizer none >&2
echo "| target | executions | seconds | exec/s | coverage (edges) | corpus | max input | crashes |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
# Sequences of frames are capped at 512 bytes (about ten frames): longer
# inputs find nothing new and slow the targets tenfold.
for target in $TARGETS; do
    max_len=$([[ $target == node || $target == decode ]] && echo 512 || echo 4096)
    start=$(date +%s)
    log=$(mktemp)
    status=0
    cargo fuzz run --sanitizer none "$target" -- -runs="$RUNS" -max_len="$max_len" -print_final_stats=1 >"$log" 2>&1 || status=$?
    seconds=$(($(date +%s) - start))
    done_line=$(grep -E '^#[0-9]+.*DONE' "$log" | tail -1 || true)
    execs=$(grep -oP 'stat::number_of_executed_units:\s*\K[0-9]+' "$log" || echo 0)
    cov=$(echo "$done_line" | grep -oP 'cov: \K[0-9]+' || echo '?')
    corpus=$(echo "$done_line" | grep -oP 'corp: \K[0-9]+' || echo '?')
    rate=$((execs / (seconds > 0 ? seconds : 1)))
    crashes=$([ "$status" -eq 0 ] && echo 0 || echo "see fuzz/artifacts/$target")
    echo "| $target | $execs | $seconds | $rate | $cov | $corpus | $max_len B | $crashes |"
    rm -f "$log"
done

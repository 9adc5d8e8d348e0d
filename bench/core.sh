#!/usr/bin/env bash
# Criterion benchmarks of the protocol core: frames per second through the
# node's dispatch, per kind of frame, and the codecs alone (one core).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(cargo bench -q -p whohas-core --bench core 2>/dev/null)
echo "## Core: node dispatch and codecs (criterion)"
echo
echo "One core. Node dispatch: \`poll\` over a device that hands out the same"
echo "frame 64 times per call; answers go to a device that discards them."
echo "Throughput is criterion's median estimate (its 95 % interval in brackets)."
echo
echo "| benchmark | median | interval |"
echo "|---|---:|---|"
echo "$out" | awk '
    /^(node dispatch|codecs)\// { name = $0; sub(/ +time:.*/, "", name) }
    /thrpt:/ && name != "" && $0 !~ /%/ {
        line = $0; sub(/.*\[/, "", line); sub(/\].*/, "", line)
        split(line, v, " ")
        printf "| %s | %s %s | %s %s .. %s %s |\n", name, v[3], v[4], v[1], v[2], v[5], v[6]
        name = ""
    }'
echo
echo "Target: >= 20 M frames/s per core for a data or foreign frame. Command:"
echo "\`bench/core.sh\` (cargo bench -p whohas-core --bench core)."

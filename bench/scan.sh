#!/usr/bin/env bash
# ARP scan of a namespace /24 with 50 live kernel hosts: whohas `scan` and
# arp-scan side by side, at equal retries and rates, alternating runs.
# Prints a Markdown section.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
RUNS=${RUNS:-7}
LIVE=50
SCAN="target/release/whohas scan"

lan_up $((LIVE + 1))
sleep 1

# name|command (run in h1; 198.18.0.1 is the scanner, .2-.51 are live)
CASES=(
  "whohas, 2000 pps|$SCAN -i eth0 198.18.0.0/24 --retry 2 --pps 2000 --csv"
  "arp-scan, 2000 pps|arp-scan -I eth0 --retry=2 --interval=500u --timeout=500 --backoff=1.5 -q -x 198.18.0.1-198.18.0.254"
  "whohas --fixed-wait, 2000 pps|$SCAN -i eth0 198.18.0.0/24 --retry 2 --pps 2000 --fixed-wait --csv"
  "whohas, 256 kbit/s (defaults)|$SCAN -i eth0 198.18.0.0/24 --csv"
  "arp-scan, 256 kbit/s (defaults)|arp-scan -I eth0 -q -x 198.18.0.1-198.18.0.254"
)

declare -A TIMES FOUND
for run in $(seq 1 "$RUNS"); do
    for case in "${CASES[@]}"; do
        name=${case%%|*}
        command=${case#*|}
        start=$(date +%s.%N)
        # Both print one line per host; whohas' CSV has a header line.
        hosts=$(in_ns h1 $command 2>/dev/null | grep -c '^198\.18\.' || true)
        end=$(date +%s.%N)
        TIMES[$name]+="$(echo "$end - $start" | bc) "
        FOUND[$name]+="$hosts "
    done
done

echo "## ARP scan: whohas vs arp-scan"
echo
echo "A /24 of network namespaces on a Linux bridge, $LIVE live kernel hosts"
echo "(198.18.0.2-.51), scanned from 198.18.0.1; 254 addresses, 2 attempts per"
echo "address, 500 ms timeout growing x1.5, $RUNS alternating runs per tool."
echo "Wall time of the whole command (process start to exit)."
echo
echo "| tool and pace | median s | min s | max s | hosts found (every run) | time vs arp-scan |"
echo "|---|---:|---:|---:|---|---:|"
declare -A MEDIAN
for case in "${CASES[@]}"; do
    name=${case%%|*}
    MEDIAN[$name]=$(echo "${TIMES[$name]}" | tr ' ' '\n' | grep . | median)
done
for case in "${CASES[@]}"; do
    name=${case%%|*}
    times=$(echo "${TIMES[$name]}" | tr ' ' '\n' | grep . | sort -g)
    found=$(echo "${FOUND[$name]}" | tr ' ' '\n' | grep . | sort -u | paste -sd/)
    case $name in
        *"256 kbit/s"*) peer="arp-scan, 256 kbit/s (defaults)" ;;
        *) peer="arp-scan, 2000 pps" ;;
    esac
    ratio=$(echo "scale=2; ${MEDIAN[$name]} / ${MEDIAN[$peer]}" | bc)
    printf '| %s | %.3f | %.3f | %.3f | %s | %.2fx |\n' "$name" "${MEDIAN[$name]}" \
        "$(echo "$times" | head -1)" "$(echo "$times" | tail -1)" "$found" "$ratio"
done
echo
echo "whohas waits adaptively (8x the slowest round trip seen, at least 20 ms,"
echo "at most the timeout) where arp-scan always waits the full timeout per host;"
echo "\`--fixed-wait\` turns that off to show the difference comes from the wait,"
echo "not from skipping work. Command: \`sudo bench/scan.sh\` (RUNS=$RUNS)."

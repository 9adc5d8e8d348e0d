#!/usr/bin/env bash
# IPv6 host discovery on a bridge of 40 IPv6-only kernel hosts: whohas
# `scan --ipv6`, nmap's targets-ipv6-multicast-echo script and THC-IPv6's
# alive6, side by side, alternating runs. Before every run each host forgets
# its neighbours (`ip -6 neigh flush`), so every tool makes first contact.
# Prints a Markdown section.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
RUNS=${RUNS:-5}
LIVE=40
WHOHAS=target/release/whohas

lan6_up $((LIVE + 1))
sleep 2

forget() { for i in $(seq 1 $((LIVE + 1))); do in_ns "h$i" ip -6 neigh flush dev eth0; done; }

# name|command (in h1, the scanner: fe80::ff:fe00:1 and 2001:db8::1)|how to read its output
CASES=(
  "whohas scan --ipv6|$WHOHAS scan -i eth0 --ipv6 --csv|whohas"
  "nmap targets-ipv6-multicast-echo|nmap -6 -n -sn --script targets-ipv6-multicast-echo --script-args newtargets,interface=eth0|nmap"
  "alive6|atk6-alive6 eth0|alive6"
)

# Prints "HOSTS ADDRESSES" found in a tool's output.
count() {
    case $1 in
        # One CSV row per address; hosts are distinct MACs.
        whohas) awk -F, 'NR > 1 { a[$1]; m[$2] } END { print length(m), length(a) }' ;;
        nmap) awk '/^Nmap scan report for/ { a[$5] } /^MAC Address:/ { m[$3] } END { print length(m), length(a) }' ;;
        # One line per address answering (alive6 prints no MACs).
        alive6) awk '/^Alive:/ { a[$2] } END { print length(a), length(a) }' ;;
    esac
}

declare -A TIMES FOUND LISTED
for _ in $(seq 1 "$RUNS"); do
    for case in "${CASES[@]}"; do
        IFS='|' read -r name command reader <<<"$case"
        forget
        start=$(date +%s.%N)
        read -r hosts addresses < <(in_ns h1 $command 2>/dev/null | count "$reader")
        end=$(date +%s.%N)
        TIMES[$name]+="$(echo "$end - $start" | bc) "
        FOUND[$name]+="$hosts "
        LISTED[$name]+="$addresses "
    done
done

distinct() { tr ' ' '\n' | grep . | sort -u | paste -sd/; }

echo "## IPv6 host discovery: whohas vs nmap vs alive6"
echo
echo "$LIVE IPv6-only kernel hosts (link-local and 2001:db8::i/64, no IPv4) on a"
echo "Linux bridge, found from a $((LIVE + 1))st; every host forgets its neighbours"
echo "before each run. $RUNS alternating runs per tool; wall time of the whole"
echo "command."
echo
echo "| tool | median s | min s | max s | hosts found (every run) | addresses listed | time vs whohas |"
echo "|---|---:|---:|---:|---|---|---:|"
declare -A MEDIAN
for case in "${CASES[@]}"; do
    IFS='|' read -r name _ _ <<<"$case"
    MEDIAN[$name]=$(echo "${TIMES[$name]}" | tr ' ' '\n' | grep . | median)
done
for case in "${CASES[@]}"; do
    IFS='|' read -r name _ _ <<<"$case"
    times=$(echo "${TIMES[$name]}" | tr ' ' '\n' | grep . | sort -g)
    ratio=$(echo "scale=2; ${MEDIAN[$name]} / ${MEDIAN[whohas scan --ipv6]}" | bc)
    printf '| %s | %.3f | %.3f | %.3f | %s | %s | %.2fx |\n' "$name" "${MEDIAN[$name]}" \
        "$(echo "$times" | head -1)" "$(echo "$times" | tail -1)" \
        "$(echo "${FOUND[$name]}" | distinct)" "$(echo "${LISTED[$name]}" | distinct)" "$ratio"
done
echo
echo "Command: \`sudo bench/scan6.sh\` (RUNS=$RUNS)."

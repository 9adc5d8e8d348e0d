#!/usr/bin/env bash
# Injection at top speed over a veth pair: whohas `inject` (AF_PACKET,
# sendmmsg batches, qdisc bypass), whohas `inject --via xdp` (AF_XDP),
# whohas `inject --via pcap`, and
# `tcpreplay -t -K`, alternating runs on the same 1 M-frame capture.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
RUNS=${RUNS:-5}
FRAMES=${FRAMES:-1000000}
scratch_dir
bin=$PWD/target/release
$bin/whohas synth -o "$work/in.pcap" --frames "$FRAMES" --kind foreign >/dev/null
pair_up

declare -A PPS
for run in $(seq 1 "$RUNS"); do
    PPS[whohas]+="$(in_ns h1 "$bin/whohas" inject -i eth0 "$work/in.pcap" --topspeed | grep -oP '[0-9]+(?= pps)') "
    PPS[xdp]+="$(in_ns h1 "$bin/whohas" inject -i eth0 "$work/in.pcap" --topspeed --via xdp | grep -oP '[0-9]+(?= pps)') "
    PPS[pcap]+="$(in_ns h1 "$bin/whohas" inject -i eth0 "$work/in.pcap" --topspeed --via pcap | grep -oP '[0-9]+(?= pps)') "
    PPS[tcpreplay]+="$(in_ns h1 tcpreplay -i eth0 -t -K "$work/in.pcap" 2>&1 | grep -oP 'Rated:.*, \K[0-9.]+(?= pps)') "
done
median_of() { echo "${PPS[$1]}" | tr ' ' '\n' | grep . | median; }
base=$(median_of tcpreplay)
echo "## Injection: whohas vs tcpreplay"
echo
echo "$FRAMES frames of 54 bytes (\`synth --kind foreign\`), sent at top speed from one"
echo "end of a veth pair; the rate each tool reports, median of $RUNS alternating runs."
echo
echo "| tool | median pps | runs (pps) | vs tcpreplay |"
echo "|---|---:|---|---:|"
for tool in whohas xdp pcap tcpreplay; do
    case $tool in
        whohas) label="whohas inject --topspeed (AF_PACKET, sendmmsg x64, qdisc bypass)" ;;
        xdp) label="whohas inject --topspeed --via xdp (AF_XDP, copy mode)" ;;
        pcap) label="whohas inject --topspeed --via pcap (pcap_sendpacket)" ;;
        tcpreplay) label="tcpreplay -t -K" ;;
    esac
    m=$(median_of $tool)
    printf '| %s | %.0f | %s | %.2fx |\n' "$label" "$m" "$(echo ${PPS[$tool]} | tr ' ' '/')" "$(echo "$m / $base" | bc -l)"
done
echo
echo "Command: \`sudo bench/inject.sh\` (RUNS=$RUNS, FRAMES=$FRAMES)."

#!/usr/bin/env bash
# Jumbo frames: `whohas send --file` and TCP (iperf3) on one veth pair at
# MTU 1500 and at MTU 9000, segmentation offloads off (one TCP segment is
# one frame, as one whohas frame is). On the jumbo link whohas' frames carry
# trains of up to 6 segments (docs/PROTOCOL.md). Alternating runs; medians.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
RUNS=${RUNS:-5}
SIZE_MB=${SIZE_MB:-100}
bin=$PWD/target/release
pair_up
offloads_off h1 h2
transfer_files "$SIZE_MB"
scratch "$inbox.log"

echo "## Jumbo frames: MTU 9000 against 1500"
echo
echo "$SIZE_MB MiB from h1 to h2 on one veth pair, segmentation offloads off, no loss."
echo "whohas: \`send --file\`'s rate to a verified SHA-256 (receiver on tmpfs), the"
echo "frames that crossed (both ways, counted by the receiver) and the segments sent"
echo "again; TCP: \`iperf3 -n ${SIZE_MB}M\`'s receiver rate. Median of $RUNS alternating runs."
echo
echo "| MTU | whohas MB/s | frames, both ways | segments sent again | TCP MB/s | whohas / TCP |"
echo "|---:|---:|---:|---:|---:|---:|"
for mtu in 1500 9000; do
    for i in 1 2; do ip -n "$(ns "h$i")" link set eth0 mtu "$mtu"; done
    bg_in_ns h2 iperf3 -s -B 198.18.0.2 >/dev/null 2>&1
    iperf=$BG_PID
    ours=() frames=() again=() theirs=()
    for _ in $(seq "$RUNS"); do
        bg_in_ns h2 "$bin/whohas" receive -i eth0 -n B --dir "$inbox" --json >"$inbox.log" 2>/dev/null
        receiver=$BG_PID
        sleep 0.3
        json=$(in_ns h1 "$bin/whohas" send -i eth0 -n A B --file "$file" --json | tail -1)
        ours+=("$(echo "$json" | json_field '["mb_per_s"]')")
        again+=("$(echo "$json" | json_field '["retransmits"]')")
        kill "$receiver"
        wait "$receiver" 2>/dev/null || true
        frames+=("$(grep '"event":"stats"' "$inbox.log" | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["rx_frames"] + s["tx_frames"])')")
        rm -f "$inbox"/*
        tcp=$(in_ns h1 iperf3 -c 198.18.0.2 -n "${SIZE_MB}M" -J)
        theirs+=("$(echo "$tcp" | json_field '["end"]["sum_received"]["bits_per_second"] / 8e6')")
    done
    kill "$iperf" 2>/dev/null || true
    wait "$iperf" 2>/dev/null || true
    o=$(printf '%s\n' "${ours[@]}" | median)
    t=$(printf '%s\n' "${theirs[@]}" | median)
    a=$(printf '%s\n' "${again[@]}" | median)
    f=$(printf '%s\n' "${frames[@]}" | median)
    printf '| %s | %.0f | %.0f | %s | %.0f | %.2f |\n' "$mtu" "$o" "$f" "$a" "$t" "$(echo "$o / $t" | bc -l)"
done
echo
echo "Command: \`sudo bench/jumbo.sh\` (RUNS=$RUNS, SIZE_MB=$SIZE_MB)."

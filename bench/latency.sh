#!/usr/bin/env bash
# Round-trip time of a data frame echoed by the peer over a veth pair, side
# by side with the C reference (bench/pingpong.c: a blocking AF_PACKET
# socket, recv(2) and send(2), as the original), and the kernel's ICMP echo.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
COUNT=${COUNT:-10000}
ROUNDS=${ROUNDS:-5}
bin=$PWD/target/release
scratch_dir
gcc -O2 -Wall -Wextra -Werror -o "$work/pingpong-c" bench/pingpong.c
c=$work/pingpong-c
pair_up
sleep 0.5

# `pair NAME ECHO... -- PING...`: starts the echo in h2, runs the ping in h1,
# appends its median to $work/NAME.
pair() {
    local name=$1; shift
    local echo=()
    while [[ $1 != -- ]]; do echo+=("$1"); shift; done
    shift
    bg_in_ns h2 "${echo[@]}" >/dev/null
    local echo_pid=$BG_PID
    sleep 0.3
    in_ns h1 "$@" | grep -oP 'median \K[0-9.]+' >>"$work/$name"
    kill "$echo_pid"; wait "$echo_pid" 2>/dev/null || true
}
# Both sides on one core: on this VM, waking a process on the other core
# costs 60-300 us, drawn from a bimodal spread that would bury the
# difference between the two programs.
whohas_echo=(taskset -c 0 "$bin/whohas" pingpong echo -i eth0)
whohas_ping=(taskset -c 0 "$bin/whohas" pingpong ping -i eth0 --count "$COUNT")
c_echo=(taskset -c 0 "$c" echo eth0)
c_ping=(taskset -c 0 "$c" ping eth0 "$(host_mac 2)" "$COUNT" 64)
for _ in $(seq "$ROUNDS"); do
    pair whohas "${whohas_echo[@]}" -- "${whohas_ping[@]}"
    pair c "${c_echo[@]}" -- "${c_ping[@]}"
    pair c-to-whohas "${whohas_echo[@]}" -- "${c_ping[@]}"
    pair xdp "${whohas_echo[@]}" --via xdp -- "${whohas_ping[@]}" --via xdp
    # Spinning, each side needs a core of its own.
    pair busy taskset -c 1 "${whohas_echo[@]:3}" --busy-poll -- "${whohas_ping[@]}" --busy-poll
done
spread() { sort -g "$work/$1" | paste -sd' '; }
med() { median <"$work/$1"; }

# System calls per round trip, counted by strace -c over 2000 round trips.
# `calls NAME ECHO... -- PING...`: "echo E, ping P" per round trip.
calls() {
    local name=$1; shift
    local echo=()
    while [[ $1 != -- ]]; do echo+=("$1"); shift; done
    shift
    bg_in_ns h2 strace -c -f -o "$work/$name.echo" "${echo[@]}" >/dev/null
    local echo_pid=$BG_PID
    sleep 0.5
    in_ns h1 strace -c -f -o "$work/$name.ping" "$@" >/dev/null
    pkill -TERM -f "^${echo[*]}" || true
    wait "$echo_pid" 2>/dev/null || true
    # Only the calls of the loop: those made about once per round trip.
    for side in echo ping; do
        awk -v n=2000 '$NF != "total" && $4 ~ /^[0-9]+$/ && $4 >= n * 0.9 { c += $4; s = s sep $NF; sep = "+" }
            END { printf "%s %.2f (%s)", side, c / n, s }' side="$side" "$work/$name.$side"
        if [[ $side == echo ]]; then printf ', '; fi
    done
}
# User-space instructions per echoed frame, counted by callgrind: the echo
# runs under valgrind while the C ping sends 1000, then 4000 frames (after
# one frame, the same both times); the difference over 3000 leaves start-up
# out.
# `instructions ECHO...`: prints the count.
instructions() {
    local count total=()
    for count in 1000 4000; do
        bg_in_ns h2 valgrind -q --tool=callgrind --callgrind-out-file="$work/callgrind.$count" "$@" >/dev/null 2>&1
        local echo_pid=$BG_PID tries=0
        # One frame echoed first (valgrind starts slowly), in both runs alike.
        until in_ns h1 "${c_ping[@]:3:4}" 1 64 >/dev/null 2>&1; do
            ((++tries < 30)) || { echo "the echo under valgrind never answered" >&2; return 1; }
        done
        in_ns h1 "${c_ping[@]:3:4}" "$count" 64 | grep -q "echoed $count of $count" ||
            { echo "frames were lost while counting instructions" >&2; return 1; }
        kill -TERM "$echo_pid" 2>/dev/null || true
        wait "$echo_pid" 2>/dev/null || true
        total+=("$(callgrind_annotate "$work/callgrind.$count" | grep -oP '^[0-9,]+(?= .*PROGRAM TOTALS)' | tr -d ,)")
    done
    echo $(((total[1] - total[0]) / 3000))
}
whohas_instructions=$(instructions "${whohas_echo[@]:3}")
c_instructions=$(instructions "${c_echo[@]:3}")
whohas_calls=$(calls whohas-strace "${whohas_echo[@]:3}" -- "${whohas_ping[@]:3:5}" --count 2000)
xdp_calls=$(calls xdp-strace "${whohas_echo[@]:3}" --via xdp -- "${whohas_ping[@]:3:5}" --count 2000 --via xdp)
c_calls=$(calls c-strace "${c_echo[@]:3}" -- "${c_ping[@]:3:4}" 2000 64)

echo "## Latency: data frame round trip over veth"
echo
echo "One side sends $COUNT data frames of 64 bytes one at a time; the other, in"
echo "the other namespace, sends each back. \`whohas pingpong\` against the C"
echo "reference \`bench/pingpong.c\`, which does what the original does: a blocking"
echo "AF_PACKET socket, one \`recv(2)\` and one \`send(2)\` per frame. The two take"
echo "turns, $ROUNDS rounds; the table has the median of the rounds' medians, and"
echo "the rounds' medians in the last column. Blocking: both sides sleep between"
echo "frames. Busy-poll: both spin, each on a core of its own. Blocking, both"
echo "sides run on one core (taskset): on this VM a wake-up on the other core"
echo "costs 60-300 us, spread so widely that it buries the difference between"
echo "the programs."
echo
echo "| ping -> echo | median us | ratio to C | rounds (median us each) |"
echo "|---|---:|---:|---|"
c_median=$(med c)
for name in whohas c c-to-whohas xdp busy; do
    case $name in
        whohas) label="whohas -> whohas, blocking" ;;
        c) label="C -> C, blocking" ;;
        c-to-whohas) label="C -> whohas echo, blocking" ;;
        xdp) label="whohas -> whohas, blocking, both --via xdp (sending through AF_XDP)" ;;
        busy) label="whohas -> whohas, busy-poll" ;;
    esac
    printf '| %s | %.1f | %.2f | %s |\n' "$label" "$(med "$name")" "$(echo "$(med "$name") / $c_median" | bc -l)" "$(spread "$name")"
done
ping=$(in_ns h1 ping -q -c 2000 -i 0.0002 198.18.0.2 | grep -oP 'rtt .* = \K[0-9./]+')
IFS=/ read -r _ pavg _ _ <<<"$ping"
printf '| kernel ICMP echo (ping, 2000 x, average: ping reports no median) | %.1f | | |\n' "$(echo "$pavg*1000" | bc)"
echo
echo "System calls per round trip (blocking, strace -c over 2000 round trips;"
echo "only the calls made about once per frame, not start-up):"
echo
echo "- whohas: $whohas_calls"
echo "- whohas --via xdp: $xdp_calls"
echo "- C: $c_calls"
echo
echo "whohas makes the same two calls per frame as the C peer: its AF_PACKET"
echo "device sleeps in the receive call itself (with a receive timeout as the"
echo "deadline), so the frame that wakes it is read by the same call; while"
echo "frames come one at a time that call is \`recvfrom(2)\` (every 16th a"
echo "\`recvmmsg(2)\` batch, to see a burst begin), and one frame goes out with"
echo "\`send(2)\` (a batch with \`sendmmsg(2)\`). Busy-poll shows what the rest"
echo "costs."
echo
echo "User-space instructions per echoed frame (callgrind, the echo under"
echo "valgrind answering the C ping, 4000 frames less 1000): whohas"
echo "$whohas_instructions, C $c_instructions."
echo
echo "Command: \`sudo bench/latency.sh\` (COUNT=$COUNT, ROUNDS=$ROUNDS)."

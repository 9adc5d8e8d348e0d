#!/usr/bin/env bash
# A shared bottleneck: hosts h1..h5 send to h6 across a Linux bridge whose
# port towards h6 is a token bucket (tbf, RATE, 32 kB burst, a queue of
# QUEUE_MS): one whohas transfer against one TCP flow (iperf3) alone, the
# two at once, two TCP flows at once (the reference for sharing), and five
# whohas transfers at once, RUNS times each. Prints the BENCHMARKS.md
# section.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
RUNS=${RUNS:-3}
SIZE_MB=${SIZE_MB:-40}
WINDOW_S=${WINDOW_S:-10}
# TCP's congestion control alone: the kernel's default; side by side with
# whohas: the default and Cubic, the loss-based one most machines default
# to, which fills a queue until it overflows.
default_algorithm=$(tcp_algorithm)
[[ $default_algorithm == cubic ]] && both=cubic || both="$default_algorithm cubic"
ALGORITHMS=${ALGORITHMS:-$both}
bin=${WHOHAS_BIN:-$PWD/target/release}
scratch_dir
transfer_files "$SIZE_MB"
# What the flows side by side send (against TCP, and five at once): it
# must outlast the measuring window.
big=$(mktemp /dev/shm/whohas-bench-big.XXXXXX)
scratch "$big"
head -c "$((400 << 20))" /dev/urandom >"$big"

bottleneck_up 6
drops() { ip netns exec "$(ns sw)" tc -s qdisc show dev p6 | grep -oP 'dropped \K[0-9]+'; }
# `receive_into DIR`: (re)starts the whohas receiver on h6, keeping files in
# DIR (a fresh one per phase: a transfer stopped midway leaves its part).
receive_into() {
    if [[ -n ${receiver:-} ]]; then
        kill "$receiver" 2>/dev/null || true
        wait "$receiver" 2>/dev/null || true
    fi
    mkdir -p "$1"
    bg_in_ns h6 "$bin/whohas" receive -i eth0 -n sink --dir "$1" -q >/dev/null 2>&1
    receiver=$BG_PID
    sleep 0.3
}
receive_into "$inbox/alone"
bg_in_ns h6 iperf3 -s -B 198.18.0.6 >/dev/null 2>&1
iperf=$BG_PID
bg_in_ns h6 iperf3 -s -B 198.18.0.6 -p 5202 >/dev/null 2>&1
iperf2=$BG_PID
sleep 0.5
# Bytes of each file arriving in the inbox ("path size" lines).
arriving() { find "$inbox" -type f -printf '%p %s\n' | sort; }
# `window_rates DIR [WINDOWS]`: waits 3 s, then prints, one line per file
# in DIR, the MB/s it grew by over each of WINDOWS (1 unless given)
# consecutive windows of WINDOW_S s.
window_rates() {
    local sizes=() i
    sleep 3
    sizes+=("$(arriving)")
    for i in $(seq "${2:-1}"); do
        sleep "$WINDOW_S"
        sizes+=("$(arriving)")
    done
    python3 -c "
import sys
snaps = [dict(l.split() for l in s.splitlines() if l) for s in sys.argv[1:]]
for p in snaps[-1]:
    if p.startswith('$1/'):
        print(' '.join(str((int(b.get(p, 0)) - int(a.get(p, 0))) / $WINDOW_S / 1e6) for a, b in zip(snaps, snaps[1:])))" "${sizes[@]}"
}

# 1. One flow alone.
for _ in $(seq "$RUNS"); do
    before=$(drops)
    in_ns h1 ping -n -i 0.05 -c 40 198.18.0.6 >"$work/ping" &
    ping_pid=$!
    out=$(in_ns h1 "$bin/whohas" send -i eth0 -n h1 sink --file "$file" --json | tail -1)
    wait "$ping_pid" || true
    segments=$((SIZE_MB * 1048576 / 1468))
    echo "$(echo "$out" | json_field '["mb_per_s"]') $(echo "$out" | json_field "['retransmits'] / $segments") $(($(drops) - before)) $(grep -oP 'time=\K[0-9.]+' "$work/ping" | median)" >>"$work/whohas"
    rm -rf "${inbox:?}"/alone/*
    before=$(drops)
    in_ns h1 ping -n -i 0.05 -c 40 198.18.0.6 >"$work/ping" &
    ping_pid=$!
    out=$(in_ns h1 iperf3 -c 198.18.0.6 -n "${SIZE_MB}M" -J)
    wait "$ping_pid" || true
    echo "$(echo "$out" | json_field '["end"]["sum_received"]["bits_per_second"] / 8e6') $(echo "$out" | json_field "['end']['sum_sent']['retransmits'] / ($SIZE_MB * 1048576 / 1448)") $(($(drops) - before)) $(grep -oP 'time=\K[0-9.]+' "$work/ping" | median)" >>"$work/tcp"
done
column() { awk -v c="$2" '{ print $c }' "$work/$1" | median; }
# `tcp_rate JSON START`: the MB/s of iperf3's intervals in START to START +
# WINDOW_S s.
tcp_rate() {
    python3 -c "
import json
d = json.load(open('$1'))
ivals = [i['sum'] for i in d['intervals'] if $2 <= i['sum']['start'] < $2 + $WINDOW_S]
print(sum(i['bytes'] for i in ivals) / sum(i['seconds'] for i in ivals) / 1e6 if ivals else 0)"
}

# 2. One whohas transfer and one TCP flow at once, RUNS times for each of
# ALGORITHMS: the bytes each delivers between 3 s and 3 + WINDOW_S s after
# both started, and in the WINDOW_S s after that (BBR's first ProbeRTT
# comes 10 s in).
for algorithm in $ALGORITHMS; do
    for run in $(seq "$RUNS"); do
        receive_into "$inbox/both-$algorithm$run"
        bg_in_ns h1 "$bin/whohas" send -i eth0 -n h1 sink --file "$big" -q
        sender=$BG_PID
        sleep 0.2
        in_ns h2 iperf3 -c 198.18.0.6 -C "$algorithm" -t "$((2 * WINDOW_S + 5))" -i 1 -J >"$work/both.json" &
        tcp_pid=$!
        ours=$(window_rates "$inbox/both-$algorithm$run" 2)
        wait "$tcp_pid" || true
        kill "$sender" 2>/dev/null || true
        wait "$sender" 2>/dev/null || true
        ours=${ours:-0 0}
        echo "${ours% *} $(tcp_rate "$work/both.json" 3) ${ours#* } $(tcp_rate "$work/both.json" $((3 + WINDOW_S)))" >>"$work/both-$algorithm"
    done
done

# 2b. The reference: two TCP flows of the default algorithm at once, the
# second (h2) 0.2 s after the first (h1), over the same windows.
for run in $(seq "$RUNS"); do
    in_ns h1 iperf3 -c 198.18.0.6 -t "$((2 * WINDOW_S + 5))" -i 1 -J >"$work/first.json" &
    first_pid=$!
    sleep 0.2
    in_ns h2 iperf3 -c 198.18.0.6 -p 5202 -t "$((2 * WINDOW_S + 5))" -i 1 -J >"$work/second.json" || true
    wait "$first_pid" || true
    echo "$(tcp_rate "$work/first.json" 3) $(tcp_rate "$work/second.json" 3) $(tcp_rate "$work/first.json" $((3 + WINDOW_S))) $(tcp_rate "$work/second.json" $((3 + WINDOW_S)))" >>"$work/tcp-pair"
done

# 3. Five whohas transfers at once, h1..h5 to h6, RUNS times.
for run in $(seq "$RUNS"); do
    receive_into "$inbox/five$run"
    senders=()
    for i in 1 2 3 4 5; do
        bg_in_ns "h$i" "$bin/whohas" send -i eth0 -n "h$i" sink --file "$big" -q
        senders+=("$BG_PID")
    done
    rates=$(window_rates "$inbox/five$run")
    kill "${senders[@]}" 2>/dev/null || true
    wait "${senders[@]}" 2>/dev/null || true
    python3 -c "
rates = [float(r) for r in '''$rates'''.split()]
rates += [0.0] * (5 - len(rates))
jain = sum(rates) ** 2 / (len(rates) * sum(r * r for r in rates)) if any(rates) else 0
print('%.3f' % jain, '%.2f' % sum(rates), ' '.join('%.2f' % r for r in sorted(rates)))" >>"$work/five"
done
kill "$receiver" "$iperf" "$iperf2" 2>/dev/null || true
wait "$receiver" "$iperf" "$iperf2" 2>/dev/null || true

link_mb=$(python3 -c "r = '$RATE'; n = float(r.rstrip('mbitkg')); print(n * {'k': 1e3, 'm': 1e6, 'g': 1e9}[r.rstrip('bit')[-1]] / 8e6)")
echo "## Shared bottleneck: tbf $RATE"
echo
echo "h1..h5 send to h6 across a Linux bridge; the bridge's port towards h6 is a"
echo "token bucket (\`tc qdisc tbf rate $RATE burst 32kb latency ${QUEUE_MS}ms\`): a"
echo "queue that drops what does not fit, like a switch port to a slower link."
echo "Frames of 1500 bytes both (offloads off); $link_mb MB/s is the link."
echo
echo "One flow alone, $SIZE_MB MiB, median of $RUNS alternating runs; the round trip is"
echo "a ping from h1 to h6 through the same queue while the flow runs (the"
echo "queue's length):"
echo
echo "| flow | MB/s | vs TCP | segments sent again | frames dropped by the queue | ping through the queue, ms |"
echo "|---|---:|---:|---:|---:|---:|"
for tool in whohas tcp; do
    label=$([[ $tool == whohas ]] && echo "whohas send --file" || echo "TCP (iperf3, $default_algorithm)")
    printf '| %s | %.2f | %.2f | %.2f %% | %s | %.2f |\n' "$label" "$(column "$tool" 1)" \
        "$(echo "$(column "$tool" 1) / $(column tcp 1)" | bc -l)" "$(echo "$(column "$tool" 2) * 100" | bc -l)" \
        "$(column "$tool" 3)" "$(column "$tool" 4)"
done
echo
# `shares FILE A B`: the table of two flows' rates in FILE ("a b a2 b2"
# lines: each window's MB/s) and shares of the link, and how many windows
# had both flows within 35-65 % of it.
shares() {
    echo "| run | $2 MB/s | $3 MB/s | $2 share | $3 share | $2 MB/s, then | $3 MB/s, then | $2 share, then | $3 share, then |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    python3 -c "
within = windows = 0
for run, line in enumerate(open('$1'), 1):
    rates = [float(r) for r in line.split()]
    share = [100 * r / $link_mb for r in rates]
    for a, b in (share[0:2], share[2:4]):
        windows += 1
        within += 35 <= a <= 65 and 35 <= b <= 65
    print('| %d | %.2f | %.2f | %.0f %% | %.0f %% | %.2f | %.2f | %.0f %% | %.0f %% |' % (run, *rates[0:2], *share[0:2], *rates[2:4], *share[2:4]))
print()
print('Both within 35-65 %% of the link: %d windows of %d.' % (within, windows))"
}
for algorithm in $ALGORITHMS; do
    echo "At once with TCP ($algorithm), over two windows of ${WINDOW_S} s (from 3 s after both"
    echo "started, and the ${WINDOW_S} s after), $RUNS runs; each flow's share of the link:"
    echo
    shares "$work/both-$algorithm" whohas TCP
    echo
done
echo "The reference: two TCP flows ($default_algorithm) at once, the second 0.2 s after the"
echo "first, over the same windows, $RUNS runs:"
echo
shares "$work/tcp-pair" "first TCP" "second TCP"
echo
echo "Five whohas transfers at once (h1..h5 to h6), over ${WINDOW_S} s, $RUNS runs; Jain's"
echo "fairness index (1 = equal shares), median $(awk '{ print $1 }' "$work/five" | median):"
echo
echo "| run | Jain's index | MB/s together | each, MB/s |"
echo "|---|---:|---:|---|"
run=0
while read -r jain total rates; do
    run=$((run + 1))
    echo "| $run | $jain | $total | $rates |"
done <"$work/five"
echo
echo "Command: \`sudo bench/bottleneck.sh\` (RUNS=$RUNS, SIZE_MB=$SIZE_MB, RATE=$RATE, QUEUE_MS=$QUEUE_MS, ALGORITHMS=\"$ALGORITHMS\")."

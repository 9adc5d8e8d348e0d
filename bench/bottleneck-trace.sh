#!/usr/bin/env bash
# What happens second by second on the shared bottleneck of
# bench/bottleneck.sh (tbf, RATE, 32 kB burst, a queue of QUEUE_MS): one
# whohas transfer (h1) and one TCP flow (iperf3, ALGORITHM, h2) to h3 at
# once for SECONDS_EACH s, RUNS times. Samples each second each flow's
# bytes delivered, TCP's congestion window and least round trip as `ss`
# shows them, when whohas drained (its debug log: due, or joining another
# sender's) and whether it was competing by loss. Prints the BENCHMARKS.md
# section (per run; TABLE=1 adds every second) and draws every second into
# $PLOT (gnuplot; PLOT= draws nothing).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
RUNS=${RUNS:-3}
SECONDS_EACH=${SECONDS_EACH:-40}
ALGORITHM=${ALGORITHM:-$(tcp_algorithm)}
PLOT=${PLOT-docs/bottleneck-trace.png}
bin=${WHOHAS_BIN:-$PWD/target/release}
scratch_dir
# $inbox for the receiver, and a $file that outlasts the run at the
# link's rate.
transfer_files "$(((SECONDS_EACH + 10) * 13))"

bottleneck_up 3
bg_in_ns h3 iperf3 -s -B 198.18.0.3 >/dev/null 2>&1
sleep 0.3

# `tcp_state`: "bytes_acked cwnd least_rtt_ms" of h2's busiest TCP
# connection to h3 (iperf3 also keeps a control connection open); the
# least round trip is BBR's own (its ProbeRTT measures it) where TCP is
# BBR, else the connection's.
tcp_state() {
    in_ns h2 ss -tin dst 198.18.0.3 | python3 -c "
import re, sys
best = (0, '0 - -')
for line in sys.stdin:
    acked = re.search(r'bytes_acked:(\d+)', line)
    if acked:
        cwnd = re.search(r'cwnd:(\d+)', line)
        least = re.search(r'mrtt:([\d.]+)', line) or re.search(r'minrtt:([\d.]+)', line)
        best = max(best, (int(acked[1]), '%s %s %s' % (acked[1], cwnd[1] if cwnd else '-', least[1] if least else '-')))
print(best[1])"
}

: >"$work/points.tsv"
for run in $(seq "$RUNS"); do
    mkdir -p "$inbox/$run"
    bg_in_ns h3 "$bin/whohas" receive -i eth0 -n sink --dir "$inbox/$run" -q >/dev/null 2>&1
    receiver=$BG_PID
    sleep 0.3
    # The sender's clock starts with it: its log's times are from here.
    bg_in_ns h1 env RUST_LOG=whohas_core::transfer::congestion=debug "$bin/whohas" send -i eth0 -n h1 sink \
        --file "$file" >/dev/null 2>"$work/log$run"
    sender=$BG_PID
    started=$(date +%s.%N)
    in_ns h2 iperf3 -c 198.18.0.3 -C "$ALGORITHM" -t "$SECONDS_EACH" >/dev/null &
    tcp=$!
    : >"$work/samples$run"
    for _ in $(seq 0 "$SECONDS_EACH"); do
        echo "$(date +%s.%N) $(find "$inbox/$run" -type f -printf '%s\n' | head -1 | grep . || echo 0) $(tcp_state)" >>"$work/samples$run"
        sleep 1
    done
    wait "$tcp" || true
    kill "$sender" "$receiver" 2>/dev/null || true
    wait "$sender" "$receiver" 2>/dev/null || true
    rm -rf "${inbox:?}/$run"
    python3 - "$run" "$started" "$work/samples$run" "$work/log$run" >>"$work/points.tsv" <<'EOF'
import re, sys
run, started, samples, log = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
# Per line: time, whohas' bytes received, TCP's bytes acknowledged, cwnd, least round trip.
rows = [line.split() for line in open(samples)]
text = open(log).read()
drains = [(float(m[1]), m[2]) for m in re.finditer(r'draining at ([\d.]+)s \((\w+)\)', text)]
# Competing by loss from (and by delay again from) these times on.
switches = sorted([(float(m[1]), 1) for m in re.finditer(r'competing by loss at ([\d.]+)s', text)]
                  + [(float(m[1]), 0) for m in re.finditer(r'by delay again at ([\d.]+)s', text)])
for a, b in zip(rows, rows[1:]):
    seconds = float(b[0]) - float(a[0])
    ours = (int(b[1]) - int(a[1])) / seconds / 1e6
    # After TCP's last second its connection is gone, and whohas is alone.
    if not int(b[2]):
        break
    theirs = (int(b[2]) - int(a[2])) / seconds / 1e6
    start, end = float(a[0]) - started, float(b[0]) - started
    due = sum(1 for at, why in drains if start <= at < end and why == 'due')
    joined = sum(1 for at, why in drains if start <= at < end and why == 'joining')
    competing = next((state for at, state in reversed(switches) if at < end), 0)
    print(run, '%.1f' % end, '%.2f' % ours, '%.2f' % theirs, b[3], b[4], due, joined, competing, sep='\t')
print()
print()
EOF
done

echo "One whohas transfer and one TCP flow ($ALGORITHM) at once through the"
echo "bottleneck for $SECONDS_EACH s, $RUNS runs: each flow's MB/s over the run, the"
echo "seconds whohas competed by loss, and the least round trips TCP measured"
echo "in turn (\`ss\`; BBR's own, from its ProbeRTT, where TCP is BBR). Second"
echo "by second in the plot; \`TABLE=1\` prints every second."
echo
echo "| run | whohas MB/s | TCP MB/s | whohas share | seconds competing | TCP's least round trips, ms |"
echo "|---|---:|---:|---:|---:|---|"
python3 -c "
import sys
runs = {}
for line in open(sys.argv[1]):
    if line.strip():
        run, end, ours, theirs, cwnd, least, due, joined, competing = line.split()
        runs.setdefault(run, []).append((float(end), float(ours), float(theirs), least, int(competing)))
for run, rows in runs.items():
    ours = sum(r[1] for r in rows) / len(rows)
    theirs = sum(r[2] for r in rows) / len(rows)
    # Each sample stands for the time since the one before.
    competing = sum(b[0] - a[0] for a, b in zip([(0,)] + rows, rows) if b[4])
    leasts = [r[3] for r in rows if r[3] != '-']
    leasts = [x for i, x in enumerate(leasts) if i == 0 or x != leasts[i - 1]]
    print('| %s | %.2f | %.2f | %.0f %% | %.0f | %s |' % (run, ours, theirs, 100 * ours / (ours + theirs), competing, ' '.join(leasts)))
" "$work/points.tsv"
if [[ -n ${TABLE:-} ]]; then
    echo
    echo "| run | second (end) | whohas MB/s | TCP MB/s | TCP cwnd | TCP least round trip ms | drains due | drains joined | competing |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    awk -F'\t' 'NF { print "| " $1 " | " $2 " | " $3 " | " $4 " | " $5 " | " $6 " | " $7 " | " $8 " | " $9 " |" }' "$work/points.tsv"
fi
echo
echo "Command: \`sudo bench/bottleneck-trace.sh\` (RUNS=$RUNS, SECONDS_EACH=$SECONDS_EACH, RATE=$RATE, QUEUE_MS=$QUEUE_MS, ALGORITHM=$ALGORITHM)."
if [[ -n $PLOT ]] && command -v gnuplot >/dev/null; then
    gnuplot -e "points='$work/points.tsv'; output='$PLOT'; tcp='$ALGORITHM'; rate='$RATE'; runs=$RUNS" bench/bottleneck-trace.gp
    echo
    echo "![whohas and TCP through one queue, second by second]($PLOT)"
fi

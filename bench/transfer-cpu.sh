#!/usr/bin/env bash
# Where the CPU goes in a transfer at 0 % loss on the direct veth pair:
# `whohas send --file` against TCP (iperf3, reading the same file and
# writing what it receives into a tmpfs file, as whohas does), runs
# alternating. bench/busy.py
# samples the whole machine (every process, the kernel's softirq work
# included) while bytes arrive. Medians.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
RUNS=${RUNS:-5}
SIZE_MB=${SIZE_MB:-500}
bin=${WHOHAS_BIN:-$PWD/target/release}
scratch_dir
transfer_files "$SIZE_MB"
pair_up
offloads_off h1 h2
bg_in_ns h2 "$bin/whohas" receive -i eth0 -n B --dir "$inbox" -q >/dev/null 2>&1
receiver=$BG_PID
bg_in_ns h2 iperf3 -s -B 198.18.0.2 -F "$inbox/tcp" >/dev/null 2>&1
iperf=$BG_PID
sleep 0.5

# `measure NAME COMMAND...`: runs COMMAND in h1 while bench/busy.py samples;
# appends busy.py's line to $work/NAME.
measure() {
    local name=$1; shift
    rm -f "$work/ready"
    bench/busy.py "$receiver" eth0 "$work/ready" >>"$work/$name" &
    local sampler=$!
    for _ in $(seq 500); do
        [[ -e $work/ready ]] && break
        sleep 0.01
    done
    [[ -e $work/ready ]] || { echo "transfer-cpu.sh: bench/busy.py did not start" >&2; return 1; }
    in_ns h1 "$@" >/dev/null
    kill -TERM "$sampler"
    wait "$sampler"
    rm -f "$inbox"/*
}
for _ in $(seq "$RUNS"); do
    measure whohas "$bin/whohas" send -i eth0 -n A B --file "$file" -q
    measure xdp "$bin/whohas" send -i eth0 -n A B --file "$file" -q --via xdp
    measure tcp iperf3 -c 198.18.0.2 -n "${SIZE_MB}M" -F "$file"
done
kill "$receiver" "$iperf" 2>/dev/null || true
wait "$receiver" "$iperf" 2>/dev/null || true

# `column NAME N`: the median of field N of NAME's runs.
column() { awk -v n="$2" '{ print $n }' "$work/$1" | median; }

echo "## Where the CPU goes: a transfer at 0 % loss"
echo
echo "$SIZE_MB MiB over the direct veth pair, offloads off, as in the transfer table:"
echo "\`whohas send --file\` against TCP (\`iperf3 -n -F\`: the sender reading the"
echo "same file, the receiver writing into a tmpfs file, as whohas does). While"
echo "bytes arrive, \`bench/busy.py\` samples /proc/stat every 50 ms: the whole"
echo "machine, both processes and the kernel's softirq work, counted over the"
echo "intervals that carried at least half the busiest one's bytes (so not"
echo "start-up; whohas hashes the file on both sides as it goes). On veth the"
echo "receiving side's softirq runs on the sending core. Median of $RUNS"
echo "alternating runs; CPU seconds per GB received on the wire."
echo
echo "| | MB/s | cores busy (of $(nproc)) | CPU s/GB | of which user space | of which kernel |"
echo "|---|---:|---:|---:|---:|---:|"
for name in whohas xdp tcp; do
    case $name in
        whohas) label=whohas ;;
        xdp) label="whohas, sending through AF_XDP (--via xdp)" ;;
        tcp) label="TCP, file to file" ;;
    esac
    printf '| %s | %.0f | %.2f | %.2f | %.2f | %.2f |\n' "$label" \
        "$(column "$name" 1)" "$(column "$name" 2)" "$(column "$name" 3)" "$(column "$name" 4)" "$(column "$name" 5)"
done
echo
echo "Runs (MB/s, cores busy, CPU s/GB, user, kernel):"
echo
for name in whohas xdp tcp; do
    echo "- $name: $(paste -sd';' "$work/$name" | sed 's/;/; /g')"
done
echo
echo "Command: \`sudo bench/transfer-cpu.sh\` (RUNS=$RUNS, SIZE_MB=$SIZE_MB)."

#!/usr/bin/env bash
# Memory: the node's size, the flash a minimal Cortex-M4F firmware with a
# node needs, and vm2's resident memory idle and under a 1 M-frame flood of
# garbage and foreign frames while vm1 runs the seed conversation.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
FLOOD=${FLOOD:-1000000}
scratch_dir
bin=$PWD/target/release

sizes=$(cargo test -q -p whohas-core --test node readme_states_the_measured_node_size -- --nocapture 2>/dev/null)
size=$(echo "$sizes" | grep -oP 'Resources>\(\) without jumbo = \K[0-9]+')
node_size=$(echo "$sizes" | grep -oP 'Node<_>>\(\) = \K[0-9]+')
(cd bench/thumb-size && cargo build -q --release)
elf=bench/thumb-size/target/thumbv7em-none-eabihf/release/whohas-thumb-size
section_size() { printf '%d' "0x$(readelf -S --wide "$elf" | awk -v name="$1" '{ for (i = 1; i < NF; i++) if ($i == name) print $(i + 4) }')"; }
text=$(section_size .text)
rodata=$(section_size .rodata)

$bin/whohas synth -o "$work/garbage.pcap" --frames $((FLOOD / 2)) --kind garbage >/dev/null
$bin/whohas synth -o "$work/foreign.pcap" --frames $((FLOOD / 2)) --kind foreign >/dev/null
lan_up 3
bg_in_ns h2 "$bin/examples/vm2" eth0 VM2 VM1 > "$work/vm2.out"
vm2=$BG_PID
sleep 1
kb() { grep -oP "^$2:\s+\K[0-9]+" "/proc/$1/status"; }
# utime + stime in clock ticks (fields 14 and 15 of /proc/PID/stat).
ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
idle_start=$(ticks $vm2)
sleep 5
idle_ticks=$(($(ticks $vm2) - idle_start))
idle_rss=$(kb $vm2 VmRSS)
bg_in_ns h3 "$bin/whohas" inject -i eth0 "$work/garbage.pcap" --topspeed > "$work/flood1.out"
flood1=$BG_PID
bg_in_ns h3 "$bin/whohas" inject -i eth0 "$work/foreign.pcap" --topspeed > "$work/flood2.out"
flood2=$BG_PID
sleep 0.2
during_rss=$(kb $vm2 VmRSS)
vm1_status=0
in_ns h1 "$bin/examples/vm1" eth0 VM1 VM2 > "$work/vm1.out" 2>&1 || vm1_status=$?
wait $flood1 $flood2
sleep 0.5
after_rss=$(kb $vm2 VmRSS)
peak_rss=$(kb $vm2 VmHWM)
alive=$(kill -0 $vm2 2>/dev/null && echo yes || echo no)
kill $vm2; wait $vm2 2>/dev/null || true
stats=$(grep '^stats:' "$work/vm2.out" || echo "(no stats)")

echo "## Memory"
echo
echo "| what | measured | target |"
echo "|---|---:|---:|"
echo "| \`size_of::<Resources>()\` (a node's storage, default capacities) + \`size_of::<Node<_>>()\` | $size + $node_size bytes | <= 8192 bytes |"
echo "| .text of a minimal thumbv7em-none-eabihf firmware running a node (opt-level s, LTO, the core's default features) | $text bytes (.rodata $rodata) | <= 24576 bytes |"
echo "| vm2 CPU time while idle for 5 s | $((idle_ticks * 1000 / $(getconf CLK_TCK))) ms | ~0 (no busy loop) |"
echo "| vm2 resident set, idle | $idle_rss KiB | |"
echo "| vm2 resident set, during / after a $FLOOD-frame flood | $during_rss / $after_rss KiB | flat |"
echo "| vm2 peak resident set (VmHWM) | $peak_rss KiB | |"
echo
echo "The flood: $FLOOD frames at top speed from a third host on the bridge (half"
echo "garbage name-ARP/data/random ethertypes, half IPv4 between other hosts),"
echo "$(grep -h '^sent' "$work"/flood*.out | paste -sd';' | sed 's/;/; /'). Meanwhile vm1 ran"
echo "the seed conversation: exit status $vm1_status ($(grep -c 'received from VM2: Nice to meet you!' "$work/vm1.out") answers"
echo "received). vm2 alive afterwards: $alive; its counters: \`$stats\`."
echo
echo "Command: \`sudo bench/memory.sh\` (FLOOD=$FLOOD)."

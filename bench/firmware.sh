#!/usr/bin/env bash
# The firmware on QEMU's MPS2-AN386 (Cortex-M4F, LAN9118): its flash and
# RAM, the node's size in it, its stack high-water mark, and the round
# trip of a data frame between Linux and the firmware's "echo" over a tap,
# beside Linux-to-Linux over a veth pair in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
COUNT=${COUNT:-2000}
bin=$PWD/target/release
scratch_dir
qemu_pid=
stop_qemu() { [[ -n $qemu_pid ]] && kill "$qemu_pid" 2>/dev/null && wait "$qemu_pid" 2>/dev/null; qemu_pid=; }
trap 'stop_qemu; bench_exit' EXIT
scripts/firmware.sh build 2>/dev/null
fw=$PWD/target/firmware
# The station without IP, for its size only: whohas alone, presence and
# the transfer.
(cd examples/firmware-mps2 && cargo build --quiet --release --features station --target-dir "$fw/build")
cp "$fw/build/thumbv7em-none-eabihf/release/whohas-firmware-mps2" "$work/station-whohas.elf"

section_size() { printf '%d' "0x$(readelf -S --wide "$1" | awk -v name="$2" '{ for (i = 1; i < NF; i++) if ($i == name) print $(i + 4) }')"; }

# Runs firmware $1 on a tap in namespace $2, its decoded log in $work/$3.log,
# and waits for it to listen.
start_firmware() {
    ip -n "$(ns "$2")" tuntap add dev tap0 mode tap
    ip -n "$(ns "$2")" link set tap0 up
    bg_in_ns "$2" scripts/firmware.sh run "$fw/$1.elf" tap0 02:00:5e:10:00:02 > "$work/$3.log"
    qemu_pid=$BG_PID
    for _ in $(seq 100); do grep -q 'listening' "$work/$3.log" && return; sleep 0.1; done
    echo "firmware $1 did not start" >&2; exit 1
}

rtt() { grep -oP '(min|median|p99|max) \K[0-9.]+' | paste -sd'|' | sed 's/|/ | /g'; }

new_ns fw
start_firmware vm2 fw vm2
in_ns fw "$bin/examples/vm1" tap0 VM1 VM2 >/dev/null
sleep 0.3
stack=$(grep -oP 'stack_bytes=\K[0-9]+' "$work/vm2.log" | tail -1)
node=$(grep -oP 'the node takes \K[0-9]+' "$work/vm2.log")
resources=$(grep -oP 'its resources \K[0-9]+' "$work/vm2.log")
stop_qemu
ip netns del "$(ns fw)"

# The station: ping and a chat message at once, then its stack's
# high-water mark and what its parts take.
new_ns station
start_firmware station station station
ip -n "$(ns station)" address add 198.18.7.1/24 dev tap0
in_ns station ping -q -c 50 -i 0.02 198.18.7.2 > "$work/ping.log" &
ping_pid=$!
in_ns station "$bin/whohas" send -i tap0 -n linux mcu "hello mcu" >/dev/null
wait "$ping_pid" || true
sleep 0.5
station_log=$work/station.log
station_stack=$(grep -oP 'stack_bytes=\K[0-9]+' "$station_log" | tail -1)
station_part() { grep -oP "$1 \K[0-9]+" "$station_log" | head -1; }
stop_qemu
ip netns del "$(ns station)"

new_ns echo
start_firmware echo echo echo
firmware_rtt=$(in_ns echo "$bin/whohas" pingpong ping -i tap0 --count "$COUNT" | rtt)
stop_qemu

pair_up
bg_in_ns h2 "$bin/whohas" pingpong echo -i eth0 >/dev/null
echo_pid=$BG_PID
sleep 0.3
linux_rtt=$(in_ns h1 "$bin/whohas" pingpong ping -i eth0 --count "$COUNT" | rtt)
kill "$echo_pid"; wait "$echo_pid" 2>/dev/null || true

echo "## On a microcontroller: the firmware in QEMU"
echo
echo "\`examples/firmware-mps2\` (opt-level z, LTO, the core without its"
echo "default features \`ipv4\`, \`ipv6\` and \`fast-crc\`) on QEMU's \`mps2-an386\`: the"
echo "no_std core and the LAN9118 driver, logs through defmt over semihosting,"
echo "no heap. The node uses the default capacities (8 names, 4 resolutions,"
echo "2 KiB queue) and lives on the stack."
echo
echo "| image | .text | .rodata | .data + .bss | target |"
echo "|---|---:|---:|---:|---|"
declare -A text static_ram
for image in vm2 vm1 echo station station-whohas; do
    elf=$fw/$image.elf
    [[ $image == station-whohas ]] && elf=$work/$image.elf
    static=$(($(section_size "$elf" .data) + $(section_size "$elf" .bss)))
    text[$image]=$(section_size "$elf" .text) static_ram[$image]=$static
    case $image in
        station) target=".text <= 65536, static + stack <= 49152" ;;
        station-whohas) target=".text <= 32768" ;;
        *) target=".text <= 24576, static RAM <= 16384" ;;
    esac
    echo "| $image | $(section_size "$elf" .text) | $(section_size "$elf" .rodata) | $static | $target |"
done
echo
echo "| what | measured |"
echo "|---|---:|"
echo "| \`size_of::<Node<Lan9118<Mmio>>>()\` (logged by the firmware) | $node bytes |"
echo "| \`size_of::<Resources>()\`, its storage (logged by the firmware) | $resources bytes |"
echo "| stack high-water mark after the seed conversation (painted stack) | $stack bytes |"
echo
echo "The station image (\`--features ip\`: presence, the transfer and smoltcp's"
echo "IPv4 as three services of one node on the LAN9118), after 50 pings and a"
echo "message answered at once:"
echo
echo "| what | measured |"
echo "|---|---:|"
echo "| the node, \`size_of::<Node<Lan9118<Mmio>, Services>>()\` | $(station_part 'the node takes') bytes |"
echo "| its \`Resources<8>\` | $(station_part 'the node takes [0-9]+ bytes and its resources') bytes |"
echo "| \`Presence<8>\` | $(station_part 'presence') bytes |"
echo "| \`Transfer<2, 4>\` | $(station_part 'the transfer') bytes |"
echo "| the IP service (smoltcp's interface and socket set) | $(station_part 'the stack takes') bytes |"
echo "| its \`IpResources\` (UDP echo buffers) | $(station_part 'the stack takes [0-9]+ bytes and its resources') bytes |"
echo "| stack high-water mark (everything above lives on the stack) | $station_stack bytes |"
echo "| pings answered | $(grep -oP '[0-9]+(?= received)' "$work/ping.log") of 50 |"
echo
echo "Round trip of a 64-byte data frame, \`whohas pingpong ping --count $COUNT\`"
echo "(blocking), in microseconds:"
echo
echo "| echo | min | median | p99 | max |"
echo "|---|---:|---:|---:|---:|"
echo "| the firmware in QEMU, over a tap | $firmware_rtt |"
echo "| \`whohas pingpong echo\` on Linux, over a veth pair | $linux_rtt |"
echo
# `verdict VALUE LIMIT`: met, or missed by how much.
verdict() { if (($1 <= $2)); then echo "met ($1 bytes)"; else echo "**missed** by $(($1 - $2)) bytes ($1)"; fi; }
small_text=$(printf '%s\n' "${text[vm2]}" "${text[vm1]}" "${text[echo]}" | sort -n | tail -1)
small_ram=$(printf '%s\n' "${static_ram[vm2]}" "${static_ram[vm1]}" "${static_ram[echo]}" | sort -n | tail -1)
echo "Targets: vm2, vm1 and echo, .text <= 24 KiB with the driver: $(verdict "$small_text" 24576);"
echo "static RAM <= 16 KiB, no heap: $(verdict "$((small_ram + stack))" 16384) with the stack's"
echo "high-water mark. The station with IP, .text <= 64 KiB: $(verdict "${text[station]}" 65536);"
echo "static RAM plus stack <= 48 KiB: $(verdict "$((static_ram[station] + station_stack))" 49152)"
echo "(the transfer's two connections of four segments are $(station_part 'the transfer') bytes of it)."
echo "The whohas-only station (presence and the transfer, no IP), .text <= 32 KiB:"
echo "$(verdict "${text[station-whohas]}" 32768). Measured with nm when #22 closed (35440 bytes then):"
echo "of its .text, the node's poll with the services' receive"
echo "paths inlined into it took 12.5 KiB, the transfer 4.2, the firmware's"
echo "own code and defmt 4.3, the compiler's memcpy/memmove/64-bit division 3.2,"
echo "presence 2.7; trimming the firmware's logs saved 0.5 KiB only (tried and"
echo "reverted). What the image leaves out, each saving measured on it:"
echo "the node's IPv6 neighbour discovery (the core's \`ipv6\` feature) 6 KiB,"
echo "and its ARP (\`ipv4\`; smoltcp answers its own in the station with IP)"
echo "1300 bytes; crc32fast (\`fast-crc\`; the CRC-32 a nibble at a time) 16 KiB of"
echo ".rodata and 1148 bytes of .text. The core divides 64-bit durations by"
echo "32-bit long division (a Cortex-M divides only 32-bit numbers in hardware),"
echo "which took compiler_builtins' 64-bit division out: 516 bytes. The"
echo "firmware's own memmove and memclr, byte- and word-wise in 88 bytes of"
echo "assembly as newlib-nano's when built for size, replace compiler_builtins'"
echo "weak ones: 2088 bytes. opt-level z against s saves 4 KiB in the station."
echo "Between polls the firmware sleeps in \`wfi\` until the LAN9118 raises its"
echo "interrupt (a frame arrived) or the 1 kHz SysTick ticks. The rest of the"
echo "round trip is QEMU's emulation and its tap."
echo "Command: \`sudo bench/firmware.sh\` (COUNT=$COUNT)."

#!/usr/bin/env bash
# The whohas firmware for Arm's MPS2-AN386 board (Cortex-M4F + LAN9118) in
# QEMU; see the README section "On a microcontroller".
#
#   scripts/firmware.sh build             builds target/firmware/vm2.elf (answers as VM2),
#                                         vm1.elf (greets VM2, exits), echo.elf (the echo
#                                         of `whohas pingpong`) and station.elf ("mcu" in
#                                         the chat room, with IPv4 198.18.7.2/24 beside it;
#                                         WHOHAS_STATION_IPV4 and WHOHAS_STATION_NAME
#                                         change them), and memcheck.elf (checks the
#                                         firmware's memmove and memclr, exits 0), all in
#                                         one build directory
#   scripts/firmware.sh run ELF TAP MAC   runs ELF in QEMU on the tap device TAP (created
#                                         in the current network namespace) with MAC; its
#                                         defmt log decoded on stdout; exits with the
#                                         firmware's status
#   scripts/firmware.sh demo              as root: the firmware VM2 in QEMU in a new network
#                                         namespace, Linux's vm1 greeting it over a tap;
#                                         removes everything it made
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/target/firmware

build() {
    "$root/scripts/setup.sh" firmware
    mkdir -p "$out"
    # The images differ only in the firmware crate's own features, so one
    # build directory compiles every dependency once.
    local image features
    for image in vm2:"" vm1:vm1 echo:echo station:ip memcheck:memcheck; do
        features=${image#*:}
        (cd "$root/examples/firmware-mps2" &&
            cargo build --quiet --release --features "$features" --target-dir "$out/build")
        cp "$out/build/thumbv7em-none-eabihf/release/whohas-firmware-mps2" "$out/${image%%:*}.elf"
    done
    echo "built $out/vm2.elf, vm1.elf, echo.elf, station.elf and memcheck.elf" >&2
}

run() {
    local elf=$1 tap=$2 mac=$3
    [[ -r $elf ]] || { echo "firmware.sh: cannot read $elf: run scripts/firmware.sh build" >&2; exit 2; }
    # QEMU replaces this shell, so stopping this process stops QEMU; its
    # stdout holds only defmt frames (no serial, no monitor), decoded by
    # defmt-print.
    exec qemu-system-arm -M mps2-an386 -display none -serial none -monitor none \
        -semihosting-config enable=on,target=native \
        -nic "tap,ifname=$tap,script=no,downscript=no,model=lan9118,mac=$mac" \
        -kernel "$elf" > >(exec defmt-print -e "$elf")
}

demo() {
    [[ $(id -u) -eq 0 ]] || { echo "firmware.sh: the demo needs root (network namespace, tap)" >&2; exit 2; }
    build
    (cd "$root" && cargo build --quiet --example vm1)
    # Globals: the trap runs after this function has returned.
    demo_ns=whohas-fw-demo-$$
    demo_qemu=
    cleanup() {
        if [[ -n $demo_qemu ]]; then kill "$demo_qemu" 2>/dev/null || true; fi
        ip netns del "$demo_ns" 2>/dev/null || true
    }
    trap cleanup EXIT INT TERM
    ip netns add "$demo_ns"
    local ns=$demo_ns
    ip -n "$ns" tuntap add dev tap0 mode tap
    ip -n "$ns" link set tap0 up
    ip netns exec "$ns" "$0" run "$out/vm2.elf" tap0 02:00:5e:10:00:02 &
    demo_qemu=$!
    sleep 2
    ip netns exec "$ns" timeout 30 "$root/target/debug/examples/vm1" tap0 VM1 VM2
    sleep 0.5
}

case ${1:-} in
    build) build ;;
    run) shift; [[ $# -eq 3 ]] || { echo "usage: firmware.sh run ELF TAP MAC" >&2; exit 2; }; run "$@" ;;
    demo) demo ;;
    *) echo "usage: firmware.sh build | run ELF TAP MAC | demo" >&2; exit 2 ;;
esac

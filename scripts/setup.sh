#!/usr/bin/env bash
# Installs what one job of whohas needs on a fresh Debian/Ubuntu machine
# with Rust, and nothing more:
#
#   setup.sh demo       libpcap (every build of the `whohas` crate links it)
#   setup.sh firmware   + QEMU for Arm, the thumbv7em target, defmt-print
#   setup.sh test       + the real peers the tests run (iproute2 for network
#                       namespaces, nftables for lossy links, tcpdump, tshark,
#                       arping, arp-scan, ndisc6, tcpreplay, iperf3, python3
#                       for a UDP and TCP exchange), clippy, rustfmt
#                       and the firmware's tools (its tests run it in QEMU)
#   setup.sh bench      + what the benchmarks time whohas against (hyperfine,
#                       bc, ethtool, strace, valgrind, nmap, thc-ipv6, gnuplot)
#
# As root it installs what is missing (one `apt-get update` first); otherwise
# it prints the exact command.
set -euo pipefail

job=${1:-}
base=(libpcap-dev pkg-config)
firmware=(qemu-system-arm iproute2)
peers=(iproute2 iputils-ping tcpdump tshark iputils-arping arp-scan ndisc6 tcpreplay nftables iperf3 ethtool python3)
case $job in
    demo) packages=("${base[@]}") ;;
    firmware) packages=("${base[@]}" "${firmware[@]}") ;;
    test) packages=("${base[@]}" "${firmware[@]}" "${peers[@]}") ;;
    bench) packages=("${base[@]}" "${firmware[@]}" "${peers[@]}" hyperfine bc ethtool strace valgrind nmap thc-ipv6 gnuplot-nox) ;;
    *) echo "usage: setup.sh demo|firmware|test|bench" >&2; exit 2 ;;
esac

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if ((${#missing[@]})); then
    if [[ $(id -u) -eq 0 ]]; then
        echo "setup: installing ${missing[*]}" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        echo "setup: missing system packages; run:" >&2
        echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
fi

[[ $job == demo ]] && exit 0

if command -v rustup >/dev/null; then
    rustup target list --installed | grep -qx thumbv7em-none-eabihf || rustup target add thumbv7em-none-eabihf >&2
    if [[ $job != firmware ]]; then
        for component in clippy rustfmt; do
            rustup component list --installed | grep -q "^$component" || rustup component add "$component" >&2
        done
    fi
fi

# The firmware's defmt logs are decoded with defmt-print (a few minutes to
# build, once).
if command -v cargo >/dev/null && ! command -v defmt-print >/dev/null; then
    echo "setup: installing defmt-print" >&2
    cargo install --quiet --locked defmt-print --version "^1" >&2
fi

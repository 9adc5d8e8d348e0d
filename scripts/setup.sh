#!/usr/bin/env bash
# Installs what whohas needs on a fresh Debian/Ubuntu machine: the system
# packages its crates link against and its tests run (libpcap, iproute2 for
# network namespaces, nftables to make links lossy, tcpdump/tshark/arping/
# arp-scan/tcpreplay/iperf3 as real peers, qemu-system-arm to run the
# firmware), and the Rust pieces (thumbv7em target, clippy, rustfmt, and
# defmt-print to read the firmware's logs).
#
# As root it installs what is missing; otherwise it prints the exact command.
set -euo pipefail

packages=(libpcap-dev pkg-config iproute2 iputils-ping tcpdump tshark iputils-arping arp-scan tcpreplay nftables iperf3 ethtool qemu-system-arm)

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

if command -v rustup >/dev/null; then
    rustup target list --installed | grep -qx thumbv7em-none-eabihf || rustup target add thumbv7em-none-eabihf >&2
    for component in clippy rustfmt; do
        rustup component list --installed | grep -q "^$component" || rustup component add "$component" >&2
    done
fi

# The firmware's defmt logs are decoded with defmt-print (a few minutes to
# build, once).
if command -v cargo >/dev/null && ! command -v defmt-print >/dev/null; then
    echo "setup: installing defmt-print" >&2
    cargo install --quiet --locked defmt-print --version "^1" >&2
fi

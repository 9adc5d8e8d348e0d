#!/usr/bin/env bash
# Regenerates BENCHMARKS.md: installs the peer tools (tcpdump, tshark,
# tcpreplay, arp-scan, hyperfine, gnuplot from Debian), builds release binaries, and
# runs every section. Needs root (network namespaces). Takes ~20 minutes
# (the soak alone 11).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $(id -u) -ne 0 ]]; then
    echo "bench/run.sh needs root for network namespaces; run: sudo bench/run.sh" >&2
    exit 1
fi
./scripts/setup.sh bench
cargo build -q --release --bins --examples

{
    echo "# Benchmarks"
    echo
    echo "Every figure below comes from \`sudo bench/run.sh\` (each section names its"
    echo "own script), measured side by side with the peer tools in one run, on"
    echo "$(nproc) cores of $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'),"
    echo "$(uname -sr), $(rustc --version | cut -d' ' -f1-2). This machine is a shared VM: trust"
    echo "medians and ratios, not single runs. Generated $(date -u +%Y-%m-%d)."
    echo
    bench/core.sh
    echo
    bench/replay.sh
    echo
    bench/inject.sh
    echo
    bench/scan.sh
    echo
    bench/scan6.sh
    echo
    bench/latency.sh
    echo
    bench/transfer.sh
    echo
    bench/transfer-cpu.sh
    echo
    bench/socket-paths.sh
    echo
    bench/bottleneck.sh
    echo
    bench/bottleneck-trace.sh
    echo
    bench/jumbo.sh
    echo
    bench/overlay.sh
    echo
    bench/keyed.sh
    echo
    bench/presence.sh
    echo
    bench/soak.sh
    echo
    bench/memory.sh
    echo
    bench/firmware.sh
    echo
    bench/robustness.sh
} > BENCHMARKS.md.new
mv BENCHMARKS.md.new BENCHMARKS.md
echo "wrote BENCHMARKS.md" >&2

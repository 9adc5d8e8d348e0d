#!/usr/bin/env bash
# Presence at scale: 500 stations joining within two seconds on the
# in-memory hub, 5 % of frames lost at every receiver, 60 simulated seconds
# (core/tests/presence.rs, seeded). Prints the BENCHMARKS.md section.
set -euo pipefail
cd "$(dirname "$0")/.."
line=$(cargo test -q --release -p whohas-core --test presence five_hundred -- --nocapture 2>/dev/null | grep '^presence-sim')
field() { echo "$line" | grep -oP "(^|\s)$1=\K[0-9.]+"; }
echo "## Presence: 500 stations"
echo
echo "500 simulated stations (core/tests/presence.rs) start at random moments"
echo "within two seconds on one in-memory segment that loses 5 % of the frames at"
echo "every receiver, with the defaults (keep-alive 10 s, expiry 30 s); 60 s of"
echo "simulated time, seeded."
echo
echo "| what | measured | target |"
echo "|---|---:|---:|"
echo "| every table holds the 499 others | after $(field converged_s) s | within the first keep-alive period |"
echo "| live stations taken for gone (false expiries) | $(field false_expiries) | 0 |"
echo "| frames sent per station per second, whole run / steady (30-60 s) | $(field sent_per_station_per_s) / $(field steady_sent_per_station_per_s) | ~0.1 (one keep-alive per 10 s) |"
echo "| frames received per station per second, whole run / steady | $(field received_per_station_per_s) / $(field steady_received_per_station_per_s) | ~50 (499 stations / 10 s) |"
echo "| refresh queries sent (stations not heard from for 80 % of their expiry) | $(field queries) | |"
echo
echo "Steady state costs each station about twice a bare keep-alive: under 5 %"
echo "loss a station misses two keep-alives of some peer in a row now and then and"
echo "asks it (a unicast query, answered by a broadcast that refreshes everyone)."
echo "The join costs more: every station answers newcomers (coalesced: one answer"
echo "serves all the newcomers of its 500 ms jitter window)."
echo "Command: \`bench/presence.sh\`."

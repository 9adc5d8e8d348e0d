#!/usr/bin/env bash
# A soak with churn (tests/soak.rs at the issue's size): 20 keyed `whohas
# chat` stations on a bridge losing 10 % of the frames each way, for 10
# minutes; half of them leave with @exit or are killed with -9 and come back
# under the same name, while random pairs exchange messages and files.
# Presence at chat's defaults (keep-alive 10 s, expiry 30 s). Prints the
# BENCHMARKS.md section. Knobs: SOAK_STATIONS, SOAK_SECONDS, SOAK_LOSS,
# SOAK_KEEPALIVE, SOAK_EXPIRY, SOAK_KEYED, SOAK_SEED.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh test >&2
export SOAK_STATIONS=${SOAK_STATIONS:-20} SOAK_SECONDS=${SOAK_SECONDS:-600} SOAK_LOSS=${SOAK_LOSS:-10}
export SOAK_KEEPALIVE=${SOAK_KEEPALIVE:-10} SOAK_EXPIRY=${SOAK_EXPIRY:-30}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cargo test -q --release --test soak -- --nocapture >"$log" 2>&1 || status=$?
line=$(grep '^soak:' "$log" || true)
if [[ -z $line ]]; then
    cat "$log" >&2
    exit 1
fi
field() { echo "$line" | grep -oP "(^|\s)$1=\K[0-9a-z]+"; }
echo "## Soak: $(field stations) chat stations, $(field seconds) s, churn and $(field loss) % loss"
echo
echo "$(field stations) keyed \`whohas chat\` stations (keyed=$(field keyed)) on one bridge that drops"
echo "$(field loss) % of the frames each host sends, keep-alive $(field keepalive) s, expiry $(field expiry) s."
echo "The odd stations churn: $(field exits) left with @exit and $(field kills) were killed with"
echo "-9, each back under the same name after up to two expiries ($(field lives) runs of a"
echo "station in all); the even ones stay up. Random pairs exchange messages and"
echo "files (16-256 KiB) all the while."
echo
echo "| what | measured | want |"
echo "|---|---:|---:|"
echo "| messages sent / acknowledged / NOT delivered / sender stopped first | $(field messages) / $(field acked) / $(field not_delivered) / $(field unknown) | |"
echo "| acknowledged messages shown at their receiver exactly once | $(($(field acked) - $(field acked_not_arrived))) of $(field acked) | all |"
echo "| messages shown twice | $(field arrived_twice) | 0 |"
echo "| files sent / acknowledged / intact at the receiver | $(field files) / $(field files_acked) / $(field files_intact) | all acknowledged intact |"
echo "| \"disappeared\" events / about a station up for a whole expiry (false) | $(field disappeared) / $(field false_disappeared) | - / 0 |"
echo "| stations that did not answer @show_list within 5 s | $(field stuck) | 0 |"
echo "| resident memory of the $(field long_lives) stations up throughout, median of the first vs the last third of the run (largest) | $(field rss_first_kib) / $(field rss_last_kib) KiB (worst growth $(field worst_growth_kib) KiB) | flat |"
echo
echo "Command: \`bench/soak.sh\` (tests/soak.rs; the test suite runs it with 8 stations"
echo "for 60 s, keep-alive 2 s, expiry 6 s)."
exit $status

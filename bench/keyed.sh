#!/usr/bin/env bash
# The cost of keyed mode: node dispatch with and without a key (criterion,
# one core), and `whohas send --file` goodput with and without a key over
# the same bridge, runs alternating; medians.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
RUNS=${RUNS:-5}
SIZE_MB=${SIZE_MB:-50}
LOSSES=${LOSSES:-0 5}
bin=$PWD/target/release

out=$(cargo bench -q -p whohas-core --features auth --bench core -- \
    'node dispatch/(keyed )?(data frame|name-ARP request for us)' 2>/dev/null)
rate() { echo "$out" | awk -v name="node dispatch/$1" 'index($0, name) == 1 { found = 1 } found && /thrpt:/ { print $4, $5; exit }'; }

lan_up 2
loss_up 2
transfer_files "$SIZE_MB"
key=$(mktemp -u /dev/shm/whohas-bench-key.XXXXXX)
scratch "$key"
"$bin/whohas" keygen "$key" >/dev/null

# One run: a receiver started for it, one file, the sender's MB/s.
run() {
    bg_in_ns h2 "$bin/whohas" receive -i eth0 -n B --dir "$inbox" -q "$@" >/dev/null 2>&1
    local receiver=$BG_PID
    sleep 0.3
    in_ns h1 "$bin/whohas" send -i eth0 -n A B --file "$file" --json "$@" | tail -1 |
        json_field '["mb_per_s"]'
    kill "$receiver"; wait "$receiver" 2>/dev/null || true
    rm -f "$inbox"/*
}

echo "## Keyed mode: what authentication costs"
echo
echo "Node dispatch on one core (criterion, median; as in the core section, 64"
echo "frames per poll). Keyed: each frame signed by a keyed sender with a fresh"
echo "counter outside the measurement; the node's device checks the tag"
echo "(HMAC-SHA-256 over the 92-byte frame) and the replay window, and signs"
echo "the answer to a request."
echo
echo "| frame | plain | keyed | keyed / plain |"
echo "|---|---:|---:|---:|"
for kind in "data frame (delivered)" "name-ARP request for us (answered)"; do
    read -r p punit <<<"$(rate "$kind")"
    read -r k kunit <<<"$(rate "keyed $kind")"
    to_m() { case $2 in Gelem/s) echo "$1 * 1000" | bc -l ;; Kelem/s) echo "$1 / 1000" | bc -l ;; *) echo "$1" ;; esac; }
    pm=$(to_m "$p" "$punit") km=$(to_m "$k" "$kunit")
    printf '| %s | %.1f M/s | %.1f M/s | %.2f |\n' "$kind" "$pm" "$km" "$(echo "$km / $pm" | bc -l)"
done
echo
echo "\`whohas send --file\` of $SIZE_MB MiB from h1 to h2 across a Linux bridge,"
echo "without and with \`--key-file\` (keyed segments are 32 bytes shorter), runs"
echo "alternating, median of $RUNS; loss as in the transfer section."
echo
echo "| loss each way | plain MB/s | keyed MB/s | keyed / plain | target |"
echo "|---:|---:|---:|---:|---|"
for loss in $LOSSES; do
    set_loss "$loss"
    plain=() keyed=()
    for _ in $(seq "$RUNS"); do
        plain+=("$(run)")
        keyed+=("$(run --key-file "$key")")
    done
    p=$(printf '%s\n' "${plain[@]}" | median)
    k=$(printf '%s\n' "${keyed[@]}" | median)
    printf '| %s %% | %.0f | %.0f | %.2f | >= 0.80 |\n' "$loss" "$p" "$k" "$(echo "$k / $p" | bc -l)"
done
echo
echo "Command: \`sudo bench/keyed.sh\` (RUNS=$RUNS, SIZE_MB=$SIZE_MB)."

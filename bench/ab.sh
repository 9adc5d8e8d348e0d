#!/usr/bin/env bash
# A/B: this tree against another revision (default: the previous commit),
# side by side in one run, for a change that must not cost speed. Node
# dispatch (criterion, the core's `node dispatch` group) and `send --file`
# over a veth pair at each of LOSSES (its rate, and the whole command's
# time), runs alternating between the two builds; medians, and the ratio
# this/base.
#   bench/ab.sh [REV]      RUNS (transfer runs per build and loss, default 5),
#                          SIZE_MB (default 200), LOSSES (default "0 5")
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
REV=${1:-HEAD~1}
RUNS=${RUNS:-5}
SIZE_MB=${SIZE_MB:-200}
LOSSES=${LOSSES:-0 5}
scratch_dir
trap 'git worktree remove --force "$work/base" 2>/dev/null || true; bench_exit' EXIT
git worktree add -q --detach "$work/base" "$REV"
base_rev=$(git -C "$work/base" rev-parse --short HEAD)
this_rev="$(git rev-parse --short HEAD)$(git diff --quiet || echo +)"
build() { (cd "$1" && CARGO_TARGET_DIR=$2 cargo build -q --release --bin whohas); }
build "$work/base" "$work/target-base"
build . "$work/target-this"
declare -A bin=([base]=$work/target-base/release/whohas [this]=$work/target-this/release/whohas)

# Dispatch: criterion's median throughput per case, two rounds each, alternating.
dispatch() {
    (cd "$1" && CARGO_TARGET_DIR=$2 cargo bench -q -p whohas-core --bench core -- 'node dispatch' 2>/dev/null) |
        awk '/^node dispatch\// { name = $0; sub(/ +time:.*/, "", name); sub(/^node dispatch\//, "", name) }
             /thrpt:/ && name != "" { line = $0; sub(/.*\[/, "", line); split(line, v, " ");
                 m = v[3]; if (v[4] ~ /^K/) m /= 1000; if (v[4] ~ /^G/) m *= 1000; printf "%s\t%s\n", name, m; name = "" }'
}
: >"$work/dispatch"
for round in 1 2; do
    dispatch "$work/base" "$work/target-base" | sed 's/^/base\t/' >>"$work/dispatch"
    dispatch . "$work/target-this" | sed 's/^/this\t/' >>"$work/dispatch"
done

pair_up
offloads_off h1 h2
pair_loss_up
transfer_files "$SIZE_MB"
: >"$work/transfer"
for loss in $LOSSES; do
    set_loss "$loss"
    for _ in $(seq "$RUNS"); do
        for build in base this; do
            bg_in_ns h2 "${bin[$build]}" receive -i eth0 -n B --dir "$inbox" -q >/dev/null 2>&1
            receiver=$BG_PID
            sleep 0.3
            started=$(date +%s.%N)
            rate=$(in_ns h1 "${bin[$build]}" send -i eth0 -n A B --attempts 20 --interval-ms 200 --file "$file" --json |
                tail -1 | json_field '["mb_per_s"]')
            seconds=$(echo "$(date +%s.%N) - $started" | bc -l)
            kill "$receiver"
            wait "$receiver" 2>/dev/null || true
            rm -f "$inbox"/*
            printf '%s\t%s\t%s\t%s\n' "$build" "$loss" "$rate" "$seconds" >>"$work/transfer"
        done
    done
done

echo "## A/B: $this_rev against $base_rev"
echo
echo "Side by side in one run: two criterion rounds of each build, alternating;"
echo "$RUNS alternating \`send --file\` runs of $SIZE_MB MiB per build and loss over a veth"
echo "pair (loss: bench/xdp-loss.c on each end): the rate \`send\` reports (from"
echo "the connection's acceptance), and the whole command's time (start-up and"
echo "any hashing included). Medians; ratio this/base."
echo "Command: \`bench/ab.sh $REV\` (RUNS=$RUNS, SIZE_MB=$SIZE_MB, LOSSES=\"$LOSSES\")."
echo
echo "| benchmark | base | this | this / base |"
echo "|---|---:|---:|---:|"
# `row LABEL FORMAT FILE KEY COLUMN`: a table row, the medians of COLUMN
# in FILE's lines for KEY (their second field), base against this.
row() {
    local b t
    b=$(awk -F'\t' -v k="$4" -v c="$5" '$1 == "base" && $2 == k { print $c }' "$3" | median)
    t=$(awk -F'\t' -v k="$4" -v c="$5" '$1 == "this" && $2 == k { print $c }' "$3" | median)
    printf "| %s | $2 | $2 | %.3f |\n" "$1" "$b" "$t" "$(echo "$t / $b" | bc -l)"
}
for name in $(cut -f2 "$work/dispatch" | sort -u | tr ' ' '_'); do
    row "dispatch: ${name//_/ } (M frames/s)" %.2f "$work/dispatch" "${name//_/ }" 3
done
for loss in $LOSSES; do
    row "send --file, $loss % loss each way (MB/s)" %.0f "$work/transfer" "$loss" 3
    row "send --file, $loss % loss each way, whole command (s)" %.3f "$work/transfer" "$loss" 4
done

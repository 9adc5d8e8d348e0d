#!/usr/bin/env bash
# Reliable transfer: `whohas send --file` against TCP (iperf3) on a direct
# veth pair and across a Linux bridge, at several random loss rates (each
# frame, either way, is dropped with that probability: by XDP on both ends
# of the pair, bench/xdp-loss.c; by nftables on the bridge's ports). Runs
# alternate between the tools;
# medians. Draws goodput against loss into $PLOT (gnuplot; PLOT= draws
# nothing).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
RUNS=${RUNS:-5}
SIZE_MB=${SIZE_MB:-200}
LOSSES=${LOSSES:-0 1 2 5 10 20}
LINKS=${LINKS:-pair bridge}
PLOT=${PLOT-docs/goodput-vs-loss.png}
bin=${WHOHAS_BIN:-$PWD/target/release}
scratch_dir
transfer_files "$SIZE_MB"
segments=$((SIZE_MB * 1048576 / 1468))

# Brings up LINK (pair or bridge) with loss hooks and offloads off.
link_up() {
    LOSS_HOOKS=()
    if [[ $1 == pair ]]; then
        pair_up
        pair_loss_up
    else
        lan_up 2
        loss_up 2
        offloads_off sw:p1 sw:p2
    fi
    offloads_off h1 h2
}

# `tcp_rate PORT`: SIZE_MB MiB from h1 to the iperf3 server on h2's PORT;
# prints the receiver's MB/s.
# A run iperf3 itself gives up on (at 20 % loss its control connection
# can fail) is counted in $work/tcp-failed and run again, three times at
# most.
tcp_rate() {
    local json
    for _ in 1 2 3; do
        json=$(in_ns h1 iperf3 -c 198.18.0.2 -p "$1" -n "${SIZE_MB}M" -J || true)
        if echo "$json" | json_field '["end"]["sum_received"]["bits_per_second"] / 8e6' 2>/dev/null; then
            return
        fi
        echo "$json" | json_field '.get("error", "no JSON")' >>"$work/tcp-failed" 2>/dev/null || echo "no JSON" >>"$work/tcp-failed"
    done
    echo "transfer.sh: iperf3 failed three times in a row: $(tail -1 "$work/tcp-failed")" >&2
    return 1
}

# `send_file ARGS...`: one `whohas send --file` from h1 to h2; prints its
# closing JSON event.
send_file() {
    in_ns h1 "$bin/whohas" send -i eth0 -n A B --attempts 20 --interval-ms 200 --file "$file" --json "$@" | tail -1
}

# One table of LINK; appends "link loss whohas tcp" lines to points.tsv.
measure() {
    local link=$1
    link_up "$link"
    bg_in_ns h2 "$bin/whohas" receive -i eth0 -n B --dir "$inbox" -q >/dev/null 2>&1
    local receiver=$BG_PID
    bg_in_ns h2 iperf3 -s -B 198.18.0.2 >/dev/null 2>&1
    local iperf=$BG_PID
    # A second TCP receiver writes what it receives into a tmpfs file, as
    # whohas' receiver does (iperf3 -F), so the page cache counts for both.
    bg_in_ns h2 iperf3 -s -B 198.18.0.2 -p 5202 -F "$inbox/tcp" >/dev/null 2>&1
    local iperf_file=$BG_PID
    sleep 0.5
    local label=$([[ $link == pair ]] && echo "direct veth pair" || echo "Linux bridge (two veth pairs)")
    echo "### $label"
    echo
    echo "| loss each way | whohas MB/s | TCP MB/s (min-max) | whohas / TCP | TCP into a file MB/s | whohas / TCP into a file | whohas at p / ((1-p) x whohas at 0 %) | whohas segments sent again per segment | whohas --via xdp MB/s | whohas --via xdp / TCP |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    local base=""
    for loss in $LOSSES; do
        set_loss "$loss"
        local ours=() xdp=() theirs=() filed=() again=()
        for _ in $(seq "$RUNS"); do
            local json
            json=$(send_file)
            ours+=("$(echo "$json" | json_field '["mb_per_s"]')")
            again+=("$(echo "$json" | json_field "['retransmits'] / $segments")")
            rm -f "$inbox"/*
            xdp+=("$(send_file --via xdp | json_field '["mb_per_s"]')")
            rm -f "$inbox"/*
            theirs+=("$(tcp_rate 5201)")
            filed+=("$(tcp_rate 5202)")
            rm -f "$inbox"/*
        done
        local o x t f a tmin tmax
        o=$(printf '%s\n' "${ours[@]}" | median)
        x=$(printf '%s\n' "${xdp[@]}" | median)
        t=$(printf '%s\n' "${theirs[@]}" | median)
        f=$(printf '%s\n' "${filed[@]}" | median)
        a=$(printf '%s\n' "${again[@]}" | median)
        tmin=$(printf '%s\n' "${theirs[@]}" | sort -g | head -1)
        tmax=$(printf '%s\n' "${theirs[@]}" | sort -g | tail -1)
        [[ -z $base ]] && base=$o
        printf '| %s %% | %.0f | %.0f (%.0f-%.0f) | %.2f | %.0f | %.2f | %.2f | %.4f | %.0f | %.2f |\n' "$loss" "$o" "$t" "$tmin" "$tmax" \
            "$(echo "$o / $t" | bc -l)" "$f" "$(echo "$o / $f" | bc -l)" \
            "$(echo "$o / ((1 - $loss / 100) * $base)" | bc -l)" "$a" "$x" "$(echo "$x / $t" | bc -l)"
        echo "$link $loss $o $t" >>"$work/points.tsv"
    done
    echo
    kill "$receiver" "$iperf" "$iperf_file" 2>/dev/null || true
    wait "$receiver" "$iperf" "$iperf_file" 2>/dev/null || true
    lan_down
}

algorithm=$(tcp_algorithm)
echo "## Reliable transfer: whohas send --file vs TCP (iperf3)"
echo
echo "$SIZE_MB MiB from h1 to h2, both tools sending 1500-byte frames (segmentation"
echo "offloads off). Loss: every frame arriving at either end of the link (or at"
echo "a switch port), either way, is dropped with the given probability. whohas:"
echo "\`send --file\`'s own rate, from the connection's acceptance to the"
echo "receiver's verified SHA-256 (receiver writing to tmpfs); TCP: \`iperf3 -n ${SIZE_MB}M\`'s"
echo "receiver rate ($algorithm, the kernel's default here), discarding what it receives as"
echo "iperf3 does, and again writing it into a tmpfs file (\`iperf3 -s -F\`) as whohas'"
echo "receiver does. Median of $RUNS alternating runs,"
echo "TCP's spread beside it; MB = 10^6 bytes. The column \"whohas at p / ...\" is"
echo "what loss costs beyond the frames lost (1.00: only those). \"--via xdp\": the"
echo "sender sends through AF_XDP (copy mode) instead of its packet socket."
echo
for link in $LINKS; do
    measure "$link"
done
if [[ -n $PLOT ]] && command -v gnuplot >/dev/null; then
    gnuplot -e "points='$work/points.tsv'; output='$PLOT'; tcp='$algorithm'" bench/goodput-vs-loss.gp
    echo "![goodput against loss]($PLOT)"
    echo
fi
if [[ -s $work/tcp-failed ]]; then
    echo "iperf3 gave up on $(wc -l <"$work/tcp-failed") TCP runs, each run again ($(sort "$work/tcp-failed" | uniq -c | sed 's/^ *//' | paste -sd';' | sed 's/;/; /g'))."
    echo
fi
echo "Command: \`sudo bench/transfer.sh\` (RUNS=$RUNS, SIZE_MB=$SIZE_MB, LOSSES=\"$LOSSES\")."

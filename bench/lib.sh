# Shared helpers for the benchmark scripts: throw-away network namespaces
# on a bridge, addresses from 198.18.0.0/15 (RFC 2544) only, removed on exit.
# Source it; call `lan_up N` for hosts h1..hN (198.18.0.i/24, MAC
# 02:00:00:00:XX:YY), `lan6_up N` for the same with IPv6 only, or `pair_up`
# for two hosts on one veth pair.

BENCH_PREFIX="whb$$"
BENCH_NAMESPACES=()

lan_down() {
    loss_down
    [[ -n ${LOSS_XDP_BIN:-} ]] && rm -f "$LOSS_XDP_BIN"*
    LOSS_HOOKS=() LOSS_XDP=() LOSS_XDP_BIN=""
    for ns in "${BENCH_NAMESPACES[@]}"; do
        ip netns del "$ns" 2>/dev/null || true
    done
    BENCH_NAMESPACES=()
}

# Scratch paths, removed on exit: `scratch PATH...` adds a script's own;
# `scratch_dir` sets $work to a new directory in /tmp; `transfer_files
# SIZE_MB` sets $inbox to a new directory on tmpfs for a receiver (iperf3
# discards what it receives, so the disk's speed must not count against
# whohas, which still hashes and verifies) and $file to SIZE_MB MiB of
# random bytes on tmpfs.
BENCH_SCRATCH=()
scratch() { BENCH_SCRATCH+=("$@"); }
scratch_dir() { work=$(mktemp -d); scratch "$work"; }
transfer_files() {
    inbox=$(mktemp -d /dev/shm/whohas-bench.XXXXXX)
    file=$(mktemp /dev/shm/whohas-bench-file.XXXXXX)
    scratch "$inbox" "$file"
    head -c "$(($1 << 20))" /dev/urandom >"$file"
}

# On exit, however the script ends: its background jobs killed, the
# namespaces and the scratch paths removed. A script with more to undo
# sets its own trap and calls this last.
bench_exit() {
    local running
    running=$(jobs -p)
    [[ -z $running ]] || kill $running 2>/dev/null || true
    lan_down
    rm -rf "${BENCH_SCRATCH[@]}"
}
trap bench_exit EXIT

ns() { echo "$BENCH_PREFIX-$1"; }

new_ns() {
    ip netns add "$(ns "$1")"
    BENCH_NAMESPACES+=("$(ns "$1")")
    ip -n "$(ns "$1")" link set lo up
    ip netns exec "$(ns "$1")" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
}

host_mac() { printf '02:00:00:00:%02x:%02x' $(($1 / 256)) $(($1 % 256)); }

# `bridge_up N [OPTION...]`: a switch namespace with bridge br0 (given the
# `ip link` bridge OPTIONs) and hosts h1..hN, each with its eth0 on a port.
bridge_up() {
    local count=$1; shift
    new_ns sw
    ip -n "$(ns sw)" link add br0 type bridge "$@"
    ip -n "$(ns sw)" link set br0 type bridge forward_delay 0 stp_state 0
    ip -n "$(ns sw)" link set br0 up
    for i in $(seq 1 "$count"); do
        new_ns "h$i"
        ip link add "p$i" netns "$(ns sw)" type veth peer name eth0 netns "$(ns "h$i")" address "$(host_mac "$i")"
        ip -n "$(ns sw)" link set "p$i" master br0
        ip -n "$(ns sw)" link set "p$i" up
    done
}

lan_up() {
    bridge_up "$1"
    for i in $(seq 1 "$1"); do
        ip -n "$(ns "h$i")" link set eth0 up
        ip -n "$(ns "h$i")" addr add "198.18.0.$i/24" dev eth0
    done
}

# `lan6_up N`: hosts h1..hN on a bridge with IPv6 only: link-local and
# 2001:db8::i/64, duplicate address detection off, no IPv4 address, and no
# multicast snooping (the bridge floods solicitations to every port).
lan6_up() {
    bridge_up "$1" mcast_snooping 0
    for i in $(seq 1 "$1"); do
        ip netns exec "$(ns "h$i")" sysctl -qw net.ipv6.conf.eth0.accept_dad=0 net.ipv6.conf.all.disable_ipv6=0 \
            net.ipv6.conf.eth0.disable_ipv6=0
        ip -n "$(ns "h$i")" link set eth0 up
        ip -n "$(ns "h$i")" -6 addr add "2001:db8::$(printf %x "$i")/64" dev eth0 nodad
    done
}

pair_up() {
    new_ns h1
    new_ns h2
    ip link add eth0 netns "$(ns h1)" address "$(host_mac 1)" type veth peer name eth0 netns "$(ns h2)" address "$(host_mac 2)"
    for i in 1 2; do
        ip -n "$(ns "h$i")" link set eth0 up
        ip -n "$(ns "h$i")" addr add "198.18.0.$i/24" dev eth0
    done
}

# Random loss: `loss_up N` on the switch ports of `lan_up`'s bridge for
# hosts 1..N (nftables netdev ingress rules: this kernel has no sch_netem),
# `pair_loss_up` on both ends of `pair_up`'s veth pair (bench/xdp-loss.c:
# on a host itself, only XDP drops a frame before its packet sockets see
# it); `set_loss P` then drops each frame, either way, with probability P %.
LOSS_HOOKS=() LOSS_XDP=() LOSS_XDP_PIDS=()
loss_up() {
    local i namespace table
    for i in $(seq 1 "$1"); do
        namespace=$(ns sw) table="loss$i"
        ip netns exec "$namespace" nft add table netdev "$table"
        ip netns exec "$namespace" nft add chain netdev "$table" in "{ type filter hook ingress device p$i priority 0; }"
        LOSS_HOOKS+=("$namespace $table")
    done
}
pair_loss_up() {
    LOSS_XDP_BIN=$(mktemp /tmp/xdp-loss.XXXXXX)
    gcc -O2 -Wall -Wextra -Werror -o "$LOSS_XDP_BIN" bench/xdp-loss.c
    LOSS_XDP=(h1 h2)
    set_loss 0
}
loss_down() {
    if ((${#LOSS_XDP_PIDS[@]})); then
        kill "${LOSS_XDP_PIDS[@]}" 2>/dev/null || true
        wait "${LOSS_XDP_PIDS[@]}" 2>/dev/null || true
    fi
    LOSS_XDP_PIDS=()
}
set_loss() {
    local hook namespace table host
    for hook in "${LOSS_HOOKS[@]}"; do
        read -r namespace table <<<"$hook"
        ip netns exec "$namespace" nft flush chain netdev "$table" in
        if (($1 > 0)); then
            ip netns exec "$namespace" nft add rule netdev "$table" in numgen random mod 100 "<" "$1" drop
        fi
    done
    loss_down
    for host in "${LOSS_XDP[@]}"; do
        # Attached (at 0 % too, so every rate pays the same XDP cost) once
        # it says so. The previous rate's words are removed first: they
        # would be read before the new loader empties the file.
        rm -f "$LOSS_XDP_BIN.$host"
        ip netns exec "$(ns "$host")" "$LOSS_XDP_BIN" eth0 "$1" >"$LOSS_XDP_BIN.$host" &
        LOSS_XDP_PIDS+=($!)
        for _ in $(seq 150); do
            grep -qs dropping "$LOSS_XDP_BIN.$host" && break
            kill -0 "$!" 2>/dev/null || break
            sleep 0.1
        done
        grep -q dropping "$LOSS_XDP_BIN.$host" || { echo "xdp-loss did not attach on $host" >&2; return 1; }
    done
}

# `offloads_off HOST[:DEVICE]...`: segmentation offloads (TSO, GSO, GRO)
# off on DEVICE (eth0 if not given) in each namespace. whohas has none, so
# TCP's go too: both tools then put 1500-byte frames on the wire.
offloads_off() {
    local spec device
    for spec; do
        device=eth0
        [[ $spec != *:* ]] || device=${spec#*:}
        in_ns "${spec%%:*}" ethtool -K "$device" tso off gso off gro off >/dev/null 2>&1 || true
    done
}

# `bottleneck_up N`: `lan_up N` with offloads off everywhere and the
# switch port towards hN a token bucket (tbf, RATE, 32 kB burst, a queue
# of QUEUE_MS ms): a queue that drops what does not fit, like a switch
# port to a slower link.
RATE=${RATE:-100mbit}
QUEUE_MS=${QUEUE_MS:-50}
bottleneck_up() {
    local i
    lan_up "$1"
    for i in $(seq "$1"); do
        offloads_off "h$i" "sw:p$i"
    done
    ip netns exec "$(ns sw)" tc qdisc add dev "p$1" root tbf rate "$RATE" burst 32kb latency "${QUEUE_MS}ms"
}

# `tcp_algorithm`: the congestion control TCP uses unless told otherwise,
# as iperf3's `-C` names it: the kernel's default (BBR on some machines,
# Cubic on most), which a new namespace takes from the host's.
tcp_algorithm() { sysctl -n net.ipv4.tcp_congestion_control; }

# Runs a command in a host's namespace. `ip netns exec` execs the command,
# so `in_ns h1 prog & pid=$!` needs `exec`-style use: call it as
# `bg_in_ns h1 prog` to get the program's own pid in $BG_PID.
in_ns() { local name=$1; shift; ip netns exec "$(ns "$name")" "$@"; }
bg_in_ns() {
    local name=$1; shift
    ip netns exec "$(ns "$name")" "$@" &
    BG_PID=$!
}

# `json_field EXPR`: the JSON document on stdin, indexed (and computed) by
# the Python expression EXPR: `json_field '["end"]["seconds"] * 1000'`.
# Numbers never in exponent form (3.5e-05), which `bc` cannot read.
json_field() {
    python3 -c "import json,sys
v = json.load(sys.stdin)$1
print(format(v, '.12f').rstrip('0').rstrip('.') if isinstance(v, float) else v)"
}

# The median of numbers given one per line on stdin.
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

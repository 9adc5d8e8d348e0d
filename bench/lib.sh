# Shared helpers for the benchmark scripts: throw-away network namespaces
# on a bridge, addresses from 198.18.0.0/15 (RFC 2544) only, removed on exit.
# Source it; call `lan_up N` for hosts h1..hN (198.18.0.i/24, MAC
# 02:00:00:00:XX:YY), `lan6_up N` for the same with IPv6 only, or `pair_up`
# for two hosts on one veth pair.

BENCH_PREFIX="whb$$"
BENCH_NAMESPACES=()

lan_down() {
    for ns in "${BENCH_NAMESPACES[@]}"; do
        ip netns del "$ns" 2>/dev/null || true
    done
    BENCH_NAMESPACES=()
}
trap lan_down EXIT

ns() { echo "$BENCH_PREFIX-$1"; }

new_ns() {
    ip netns add "$(ns "$1")"
    BENCH_NAMESPACES+=("$(ns "$1")")
    ip -n "$(ns "$1")" link set lo up
    ip netns exec "$(ns "$1")" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
}

host_mac() { printf '02:00:00:00:%02x:%02x' $(($1 / 256)) $(($1 % 256)); }

lan_up() {
    local count=$1
    new_ns sw
    ip -n "$(ns sw)" link add br0 type bridge
    ip -n "$(ns sw)" link set br0 type bridge forward_delay 0 stp_state 0
    ip -n "$(ns sw)" link set br0 up
    for i in $(seq 1 "$count"); do
        new_ns "h$i"
        ip link add "p$i" netns "$(ns sw)" type veth peer name eth0 netns "$(ns "h$i")" address "$(host_mac "$i")"
        ip -n "$(ns sw)" link set "p$i" master br0
        ip -n "$(ns sw)" link set "p$i" up
        ip -n "$(ns "h$i")" link set eth0 up
        ip -n "$(ns "h$i")" addr add "198.18.0.$i/24" dev eth0
    done
}

# `lan6_up N`: hosts h1..hN on a bridge with IPv6 only: link-local and
# 2001:db8::i/64, duplicate address detection off, no IPv4 address, and no
# multicast snooping (the bridge floods solicitations to every port).
lan6_up() {
    local count=$1
    new_ns sw
    ip -n "$(ns sw)" link add br0 type bridge mcast_snooping 0
    ip -n "$(ns sw)" link set br0 type bridge forward_delay 0 stp_state 0
    ip -n "$(ns sw)" link set br0 up
    for i in $(seq 1 "$count"); do
        new_ns "h$i"
        ip link add "p$i" netns "$(ns sw)" type veth peer name eth0 netns "$(ns "h$i")" address "$(host_mac "$i")"
        ip -n "$(ns sw)" link set "p$i" master br0
        ip -n "$(ns sw)" link set "p$i" up
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

# Loss on every switch port of `lan_up`'s bridge for hosts 1..$1: an
# nftables netdev ingress rule per port (this kernel has no sch_netem);
# `set_loss P` then drops each frame, either way, with probability P %.
loss_up() {
    LOSS_PORTS=$1
    for i in $(seq 1 "$LOSS_PORTS"); do
        ip netns exec "$(ns sw)" nft add table netdev "loss$i"
        ip netns exec "$(ns sw)" nft add chain netdev "loss$i" in "{ type filter hook ingress device p$i priority 0; }"
    done
}
set_loss() {
    for i in $(seq 1 "$LOSS_PORTS"); do
        ip netns exec "$(ns sw)" nft flush chain netdev "loss$i" in
        if (($1 > 0)); then
            ip netns exec "$(ns sw)" nft add rule netdev "loss$i" in numgen random mod 100 "<" "$1" drop
        fi
    done
}

# Runs a command in a host's namespace. `ip netns exec` execs the command,
# so `in_ns h1 prog & pid=$!` needs `exec`-style use: call it as
# `bg_in_ns h1 prog` to get the program's own pid in $BG_PID.
in_ns() { local name=$1; shift; ip netns exec "$(ns "$name")" "$@"; }
bg_in_ns() {
    local name=$1; shift
    ip netns exec "$(ns "$name")" "$@" &
    BG_PID=$!
}

# The median of numbers given one per line on stdin.
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

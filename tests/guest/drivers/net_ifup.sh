#!/bin/sh
# The ifup script of the network scenarios: a tap named kt<N> gets the
# host side of 10.<N>.0.0/24 (10.<N>.0.1), so that scenarios running side
# by side use their own subnets. A tap named kb<N>x joins bridge kbr<N>.
set -e
case "$1" in
kt*)
    n=${1#kt}
    ip addr add "10.$n.0.1/24" dev "$1"
    ip link set "$1" up
    ;;
kb*)
    n=${1#kb}
    n=${n%[a-z]}
    ip link set "$1" master "kbr$n"
    ip link set "$1" up
    ;;
*)
    echo "net_ifup.sh: unexpected interface $1" >&2
    exit 1
    ;;
esac

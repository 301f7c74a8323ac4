# Guest side of the network scenarios (sourced by their scripts; in the
# tools archive as /opt/net/net_check.sh). The host side is
# tests/guest/drivers/net_peer.py at $PEER, ports $PORT..$PORT+3.
. /opt/net/env.sh

# net_up IFACE ADDR/LEN: loads the drivers, waits for the interface.
net_up() {
    modprobe virtio_pci 2>/dev/null; modprobe virtio_net 2>/dev/null; modprobe e1000 2>/dev/null
    i=0
    while [ ! -e /sys/class/net/$1 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
    ip link set "$1" up && ip addr add "$2" dev "$1" || { echo "NET-UP-FAILED $1"; return 1; }
}

# wait_peer: the host answers pings (its tap may come up after the guest).
wait_peer() {
    i=0
    until ping -c 1 -W 1 "$PEER" >/dev/null 2>&1; do
        i=$((i+1)); [ $i -ge 60 ] && { echo "PEER-UNREACHABLE $PEER"; return 1; }
    done
    echo "PEER-REACHABLE"
}

download_check() {
    wget -q -O /tmp/blob "http://$PEER:$PORT/blob" && wget -q -O /tmp/blob.sha256 "http://$PEER:$PORT/blob.sha256" &&
        (cd /tmp && sha256sum -c blob.sha256 >/dev/null) && echo "DOWNLOAD_OK" || echo "DOWNLOAD_BAD"
}

upload_check() {
    head -c 16777216 /dev/urandom > /tmp/up
    sha256sum /tmp/up | cut -d' ' -f1 > /tmp/up.sum
    nc "$PEER" $((PORT+1)) < /tmp/up
    sleep 1
    wget -q -O /tmp/peer.sum "http://$PEER:$PORT/upload.sha256"
    [ "$(cut -d' ' -f1 /tmp/peer.sum)" = "$(cat /tmp/up.sum)" ] && echo "UPLOAD_OK" || echo "UPLOAD_BAD"
}

# iperf_run NAME ARGS...: one iperf3 test; prints "IPERF NAME <Mbit/s>".
iperf_run() {
    name=$1; shift
    rate=$(iperf3 -c "$PEER" -p $((PORT+2)) -f m "$@" 2>&1 | awk '/receiver/ {print $(NF-2)}' | tail -1)
    echo "IPERF $name ${rate:-0}"
}

pingpong() { echo "$(tcp_pingpong client "$PEER" $((PORT+3)) ${1:-3})"; }

verdict() { wget -q -O - "http://$PEER:$PORT/verdict"; }

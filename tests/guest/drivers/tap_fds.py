#!/usr/bin/env python3
"""Starts a VMM the way libvirt does: the tap and /dev/vhost-net are
opened here and handed over as inherited file descriptors (fd=3 is the
tap, fd=4 vhost-net), so the VMM never opens or names them itself.
With --queues N (multiqueue, as libvirt does it): the tap is opened N
times with IFF_MULTI_QUEUE at fds 3..N+2, and N vhost-net devices follow
(fds=3:4,vhostfds=5:6 for two).

usage: tap_fds.py [--queues N] IFNAME -- VMM ARG...
The tap IFNAME (a vnet-header tap, as libvirt opens it) is configured by
net_ifup.sh before the VMM starts; it goes away when the VMM exits."""
import fcntl
import os
import struct
import subprocess
import sys

TUNSETIFF = 0x400454ca
IFF_TAP, IFF_NO_PI, IFF_MULTI_QUEUE, IFF_VNET_HDR = 0x0002, 0x1000, 0x0100, 0x4000
TAP_FD = 3


def open_tap(name, multiqueue=False):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (IFF_MULTI_QUEUE if multiqueue else 0)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), flags))
    return fd


def hand_over(fds):
    """Puts fds[i] at descriptor 3+i, open across exec (os.open's
    descriptors are close-on-exec, and dup2 onto itself would keep that)."""
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 100) for fd in fds]
    for fd in fds:
        os.close(fd)
    for number, fd in enumerate(high, start=TAP_FD):
        os.dup2(fd, number, inheritable=True)
        os.close(fd)


def main(argv):
    queues = 0
    if len(argv) > 1 and argv[0] == "--queues":
        queues, argv = int(argv[1]), argv[2:]
    if len(argv) < 3 or argv[1] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    name, command = argv[0], argv[2:]
    taps = [open_tap(name, multiqueue=True) for _ in range(queues)] or [open_tap(name)]
    vhosts = [os.open("/dev/vhost-net", os.O_RDWR) for _ in taps]
    here = os.path.dirname(os.path.abspath(__file__))
    subprocess.run(["sh", os.path.join(here, "net_ifup.sh"), name], check=True)
    hand_over(taps + vhosts)  # from TAP_FD on
    os.execvp(command[0], command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Starts a VMM the way libvirt does: the tap and /dev/vhost-net are
opened here and handed over as inherited file descriptors (fd=3 is the
tap, fd=4 vhost-net), so the VMM never opens or names them itself.

usage: tap_fds.py IFNAME -- VMM ARG...
The tap IFNAME (a vnet-header tap, as libvirt opens it) is configured by
net_ifup.sh before the VMM starts; it goes away when the VMM exits."""
import fcntl
import os
import struct
import subprocess
import sys

TUNSETIFF = 0x400454ca
IFF_TAP, IFF_NO_PI, IFF_VNET_HDR = 0x0002, 0x1000, 0x4000
TAP_FD, VHOST_FD = 3, 4


def open_tap(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI | IFF_VNET_HDR))
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
    if len(argv) < 3 or argv[1] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    name, command = argv[0], argv[2:]
    tap = open_tap(name)
    vhost = os.open("/dev/vhost-net", os.O_RDWR)
    here = os.path.dirname(os.path.abspath(__file__))
    subprocess.run(["sh", os.path.join(here, "net_ifup.sh"), name], check=True)
    hand_over([tap, vhost])  # TAP_FD, VHOST_FD
    os.execvp(command[0], command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Two guests on one bridge, run as one scenario command:

  net_pair.py --kernel K --initrd I --append A --workdir W -- VMM ARGS...

In a mount namespace of its own (so that /etc/qemu/bridge.conf can say
"allow kbr73" without touching the host), it makes bridge kbr73
(10.73.0.1/24) and starts two VMMs:
  A: -netdev bridge,br=kbr73 (QEMU's qemu-bridge-helper opens the tap)
  B: -netdev tap with the ifup script adding the tap to the bridge, vhost=on
Both guests run the scenario's script with ktest.role=a or b on their
command line. Their serial output is printed prefixed "A: " and "B: ".
Through A's QMP it then:
  - when A prints LINK-TEST-READY: set_link nicA off, waits for A to print
    CARRIER=0, set_link nicA on, waits for CARRIER=1;
  - when A prints FILTER-SET (it changed its MAC, added VLAN 5, went
    promiscuous): checks query-rx-filter and the NIC_RX_FILTER_CHANGED
    event, printing PAIR-CHECK lines.
Exits 0 when both VMMs exited 0 and every check held.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from qmp import deadline_after, Failure, Qmp  # noqa: E402

BRIDGE = "kbr73"


def say(text):
    print(text, flush=True)


class Guest:
    def __init__(self, name, argv):
        self.name = name
        self.lines = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        threading.Thread(target=self.follow, daemon=True).start()

    def follow(self):
        for raw in self.proc.stdout:
            line = raw.decode(errors="replace").rstrip("\r\n")
            say("%s: %s" % (self.name, line))
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()

    def wait_line(self, regex, timeout=240):
        pattern = re.compile(regex)
        deadline = deadline_after(timeout)
        with self.cond:
            while True:
                for line in self.lines:
                    m = pattern.search(line)
                    if m:
                        return m
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None and not self.cond.wait(0.2):
                    raise Failure("%s never printed %r" % (self.name, regex))
                self.cond.wait(min(left, 1.0))


def private_etc():
    """A writable copy of /etc in this mount namespace, with the bridge
    helper's ACL allowing our bridge."""
    copy = tempfile.mkdtemp(prefix="kestrel-etc-")
    subprocess.run(["cp", "-a", "/etc/.", copy], check=True)
    os.makedirs(os.path.join(copy, "qemu"), exist_ok=True)
    with open(os.path.join(copy, "qemu", "bridge.conf"), "w") as f:
        f.write("allow %s\n" % BRIDGE)
    subprocess.run(["mount", "--bind", copy, "/etc"], check=True)


def make_bridge():
    subprocess.run(["ip", "link", "del", BRIDGE], stderr=subprocess.DEVNULL)
    for cmd in (["ip", "link", "add", BRIDGE, "type", "bridge"], ["ip", "addr", "add", "10.73.0.1/24", "dev", BRIDGE],
                ["ip", "link", "set", BRIDGE, "up"]):
        subprocess.run(cmd, check=True)


def check(cond, what):
    say("PAIR-CHECK %s %s" % ("ok" if cond else "FAILED", what))
    if not cond:
        raise Failure(what)


def link_test(qmp, a):
    a.wait_line(r"^LINK-TEST-READY$")
    qmp.ok("set_link", {"name": "nicA", "up": False})
    a.wait_line(r"^CARRIER=0$", 120)
    qmp.ok("set_link", {"name": "nicA", "up": True})
    a.wait_line(r"^CARRIER=1$", 120)
    check(True, "set_link off/on seen by the guest")


def filter_test(qmp, a):
    a.wait_line(r"^FILTER-SET$")
    event = qmp.wait_event("NIC_RX_FILTER_CHANGED", 60)
    check(event["data"].get("name") == "nicA", "NIC_RX_FILTER_CHANGED names nicA: %s" % event["data"])
    f = qmp.ok("query-rx-filter", {"name": "nicA"})[0]
    say("PAIR-RX-FILTER %s" % f)
    check(f["main-mac"] == "52:54:00:73:00:aa", "main-mac follows the guest's new address")
    check(5 in f["vlan-table"], "vlan-table has VLAN 5")
    check(f["promiscuous"], "promiscuous")
    check(f["vlan"] == "normal", "vlan filtering normal")


def run(args, vmm):
    private_etc()
    make_bridge()
    drivers = HERE
    common = ["-nodefaults", "-m", "384", "-kernel", args.kernel, "-initrd", args.initrd, "-display", "none",
              "-serial", "stdio"]
    sock_a = os.path.join(args.workdir, "qmp-a.sock")
    a = Guest("A", vmm + common + [
        "-append", args.append + " ktest.role=a", "-qmp", "unix:%s,server=on,wait=off" % sock_a,
        "-netdev", "bridge,id=n0,br=%s" % BRIDGE,
        "-device", "virtio-net-pci,netdev=n0,id=nicA,mac=52:54:00:73:00:0a"])
    b = Guest("B", vmm + common + [
        "-append", args.append + " ktest.role=b",
        "-netdev", "tap,id=n0,ifname=kb73b,script=%s/net_ifup.sh,downscript=no,vhost=on" % drivers,
        "-device", "virtio-net-pci,netdev=n0,id=nicB,mac=52:54:00:73:00:0b"])
    ok = True
    try:
        qmp = Qmp(sock_a, 60)
        qmp.ok("qmp_capabilities")
        link_test(qmp, a)
        filter_test(qmp, a)
        sent = a.wait_line(r"^PAIR-SENT (\w+)$").group(1)
        got = b.wait_line(r"^PAIR-RECEIVED (\w+)$").group(1)
        check(sent == got, "B received what A sent (sha256 %s)" % sent)
    except (Failure, OSError, KeyError, IndexError) as e:
        say("PAIR-FAILED %s" % e)
        ok = False
    for g in (a, b):
        try:
            g.proc.wait(timeout=240)
        except subprocess.TimeoutExpired:
            g.proc.kill()
            g.proc.wait()
        ok &= g.proc.returncode == 0
        say("PAIR-EXIT %s %s" % (g.name, g.proc.returncode))
    subprocess.run(["ip", "link", "del", BRIDGE], stderr=subprocess.DEVNULL)
    return 0 if ok else 1


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--kernel", required=True)
    p.add_argument("--initrd", required=True)
    p.add_argument("--append", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("vmm", nargs=argparse.REMAINDER)
    args = p.parse_args()
    vmm = [v for v in args.vmm if v != "--"]
    if os.environ.get("KESTREL_NET_PAIR_NS") != "1":
        env = dict(os.environ, KESTREL_NET_PAIR_NS="1")
        os.execvpe("unshare", ["unshare", "--mount", "--propagation", "private", sys.executable] + sys.argv, env)
    return run(args, vmm)


if __name__ == "__main__":
    sys.exit(main())

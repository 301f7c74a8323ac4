"""Drives the pci-hotplug scenario: blockdev-add + device_add of a
virtio disk, device_del with the guest's eject and DEVICE_DELETED,
blockdev-del; then netdev_add + device_add of a virtio NIC and its
removal. The virtio NIC's user netdev has a guestfwd= rule to this
driver's TCP server: the guest's connection through the hot-added NIC
reaches it, and netdev_del closes it. QEMU 7.2's replies and errors are checked on the way; a line on
the control socket lets the guest go on.

usage: pci_hotplug.py QMP_SOCKET CONTROL_SOCKET SERIAL_LOG IMAGE PIDFILE"""

import os
import socket
import sys

from qmp import Qmp, check, connect_unix, main, open_fds, read_pid, recv_line, wait_log


def error_of(q, name, args):
    r = q.execute(name, args)
    check("error" in r, "%s %s fails" % (name, args))
    return r["error"]


def expect_error(q, name, args, desc, cls="GenericError"):
    e = error_of(q, name, args)
    check(e["desc"] == desc and e["class"] == cls, "%s: %s (%s)" % (name, e["desc"], e["class"]))


def node_names(q):
    return [n["node-name"] for n in q.ok("query-named-block-nodes")]


def pci_ids(q):
    return [d.get("qdev_id", "") for bus in q.ok("query-pci") for d in bus["devices"]]


def pci_slot_of(q, qdev_id):
    for bus in q.ok("query-pci"):
        for d in bus["devices"]:
            if d.get("qdev_id") == qdev_id:
                return d["slot"]
    return None


def deleted_events(q, device_id, virtio=True):
    """DEVICE_DELETED of the virtio backend, then of the device."""
    path = "/machine/peripheral/" + device_id
    if not virtio:
        dev = q.wait_event("DEVICE_DELETED", 120)["data"]
        check(dev == {"device": device_id, "path": path}, "DEVICE_DELETED of the device: %s" % dev)
        return
    backend = q.wait_event("DEVICE_DELETED", 120)["data"]
    check(backend == {"path": path + "/virtio-backend"}, "DEVICE_DELETED of the backend: %s" % backend)
    dev = q.wait_event("DEVICE_DELETED", 120)["data"]
    check(dev == {"device": device_id, "path": path}, "DEVICE_DELETED of the device: %s" % dev)


def disk_steps(q, ctl, log, image):
    q.ok("blockdev-add", {"driver": "file", "filename": image, "node-name": "hp-file",
                          "auto-read-only": True, "discard": "unmap"})
    q.ok("blockdev-add", {"driver": "raw", "node-name": "hp-disk", "file": "hp-file", "read-only": False})
    names = node_names(q)
    check("hp-disk" in names and "hp-file" in names, "query-named-block-nodes: %s" % names)
    expect_error(q, "blockdev-add", {"driver": "file", "filename": image, "node-name": "hp-disk"},
                 "Duplicate nodes with node-name='hp-disk'")
    expect_error(q, "blockdev-del", {"node-name": "hp-file"}, "Block device hp-file is in use")
    expect_error(q, "blockdev-del", {"node-name": "nothere"}, "Failed to find node with node-name='nothere'")

    check(q.ok("device_add", {"driver": "virtio-blk-pci", "drive": "hp-disk", "id": "hpdisk"}) == {},
          "device_add virtio-blk-pci")
    slot = pci_slot_of(q, "hpdisk")
    check(slot is not None, "query-pci: hpdisk in slot %s" % slot)
    expect_error(q, "device_add", {"driver": "virtio-blk-pci", "drive": "hp-disk", "id": "hpdisk"},
                 "Duplicate device ID 'hpdisk'")
    expect_error(q, "device_add", {"driver": "virtio-net-pci", "id": "other", "addr": "%#x" % slot},
                 "PCI: slot %d function 0 not available for virtio-net-pci, in use by virtio-blk-pci,id=hpdisk" % slot)
    expect_error(q, "blockdev-del", {"node-name": "hp-disk"}, "Node hp-disk is in use")
    expect_error(q, "device_del", {"id": "nothere"}, "Device 'nothere' not found", "DeviceNotFound")
    ctl.sendall(b"go\n")
    wait_log(log, "KTEST-HP-DISK-SEEN")
    wait_log(log, "^hotplug-pattern-2718$")

    check(q.ok("device_del", {"id": "hpdisk"}) == {}, "device_del hpdisk (the guest is asked)")
    deleted_events(q, "hpdisk")
    check("hpdisk" not in pci_ids(q), "query-pci: hpdisk gone")
    ctl.sendall(b"go\n")
    wait_log(log, "KTEST-HP-DISK-GONE")
    q.ok("blockdev-del", {"node-name": "hp-disk"})
    q.ok("blockdev-del", {"node-name": "hp-file"})
    names = node_names(q)
    check("hp-disk" not in names and "hp-file" not in names, "blockdev-del: the nodes are gone: %s" % names)


GUESTFWD_LINE = b"hotplug-guestfwd\n"
GUESTFWD_REPLY = b"hotplug-guestfwd-ack\n"


def nic_cycle(q, ctl, log, driver, netdev, dev_id, seen, gone, fwd_server=None):
    args = {"type": "user", "id": netdev}
    if fwd_server:
        port = fwd_server.getsockname()[1]
        args["guestfwd"] = [{"str": "tcp:10.0.2.100:4321-tcp:127.0.0.1:%d" % port}]
    q.ok("netdev_add", args)
    conn = fwd_server.accept()[0] if fwd_server else None
    if conn:
        conn.settimeout(fwd_server.gettimeout())
    check(q.ok("device_add", {"driver": driver, "netdev": netdev, "id": dev_id,
                              "mac": "52:54:00:12:34:99"}) == {}, "device_add " + driver)
    ctl.sendall(b"go\n")
    if conn:
        serve_guestfwd(conn)
    wait_log(log, seen)
    check(q.ok("device_del", {"id": dev_id}) == {}, "device_del " + dev_id)
    deleted_events(q, dev_id, virtio=driver.startswith("virtio"))
    check(dev_id not in pci_ids(q), "query-pci: %s gone" % dev_id)
    if conn:
        q.ok("netdev_del", {"id": netdev})
        check(conn.recv(1) == b"", "netdev_del closed the guestfwd rule's connection")
        conn.close()
    ctl.sendall(b"go\n")
    wait_log(log, gone)


def serve_guestfwd(conn):
    """The guest's line through the hot-added NIC, slirp and the rule's
    chardev; the reply goes back the same way."""
    line = recv_line(conn)
    check(line == GUESTFWD_LINE, "the guest's line through the guestfwd rule: %r" % line)
    conn.sendall(GUESTFWD_REPLY)


def nic_steps(q, ctl, log):
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(300)  # bounds a VMM that never connects; the guest's pace is the runner's
        nic_cycle(q, ctl, log, "virtio-net-pci", "hpnet", "hpnic", "KTEST-HP-NIC-SEEN", "KTEST-HP-NIC-GONE",
                  fwd_server=server)
    nic_cycle(q, ctl, log, "e1000", "hpnet2", "hpe1000", "KTEST-HP-E1000-SEEN", "KTEST-HP-DONE")


def steps():
    qmp_path, ctl_path, log, image, pidfile = sys.argv[1:6]
    q = Qmp(qmp_path)
    q.ok("qmp_capabilities")
    wait_log(log, "KTEST-HP-READY")
    ctl = connect_unix(ctl_path)
    pid = read_pid(pidfile)
    fds = open_fds(pid)
    disk_steps(q, ctl, log, image)
    # The image, the disk's thread (event loop, eventfds), its ioeventfds
    # and irqfds: all closed again.
    # (QEMU may keep a thread pool's eventfd: judged for kestrel only.)
    if "qemu" not in os.path.basename(os.readlink("/proc/%d/exe" % pid)):
        check(open_fds(pid) == fds, "open files after the disk came and went: %d, before: %d" % (open_fds(pid), fds))
    nic_steps(q, ctl, log)


if __name__ == "__main__":
    sys.exit(main(steps))

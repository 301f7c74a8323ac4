"""Drives the cd-change scenario from QMP and HMP: a locked tray refuses
eject without force (QEMU's error, no event), the guest opens the
unlocked tray itself (an event), eject takes the medium out,
blockdev-change-medium inserts the second ISO (the tray closes), and HMP
eject -f empties the locked drive; DEVICE_TRAY_MOVED and query-block
follow each step. The guest's checksums are checked against the files
the images were made of. A line on the control socket lets the guest
go on.

usage: cd_change.py QMP_SOCKET CONTROL_SOCKET SERIAL_LOG ISO_A ISO_B"""

import hashlib
import os
import sys
import time

from qmp import deadline_after, Qmp, check, connect_unix, log_value, main, wait_log

DRIVE = "ide1-cd0"
LOCKED = ("Device 'ide1-cd0' is locked and force was not specified, "
          "wait for tray to open and try again")


def drive(q):
    for b in q.ok("query-block"):
        if b["device"] == DRIVE:
            return b
    raise AssertionError("query-block has no " + DRIVE)


def wait_locked(q, locked, timeout=60):
    deadline = deadline_after(timeout)
    while drive(q)["locked"] != locked:
        if time.monotonic() > deadline:
            raise AssertionError("the tray's lock did not become %s" % locked)
        time.sleep(0.2)
    check(True, "query-block: locked=%s" % locked)


def tray_event(q, tray_open):
    e = q.wait_event("DEVICE_TRAY_MOVED", 60)["data"]
    check(e["device"] == DRIVE and e["tray-open"] is tray_open and e["id"].startswith("/machine/"),
          "DEVICE_TRAY_MOVED tray-open=%s: %s" % (tray_open, e))


def guest_sum(log, key, iso):
    folder = os.path.join(os.path.dirname(iso), "disk-%s-files" % os.path.basename(iso).split(".")[0])
    with open(os.path.join(folder, "data.txt"), "rb") as f:
        want = hashlib.md5(f.read()).hexdigest()
    check(log_value(log, key) == want, "%s: the guest read the medium's file (%s)" % (key, want))


def steps():
    qmp_path, ctl_path, log, iso_a, iso_b = sys.argv[1:6]
    q = Qmp(qmp_path)
    q.ok("qmp_capabilities")
    wait_log(log, "KTEST-CD-MOUNTED")
    ctl = connect_unix(ctl_path)
    guest_sum(log, "SUM_A", iso_a)
    b = drive(q)
    check(b["removable"] and b["inserted"]["file"] == iso_a and b["tray_open"] is False,
          "query-block: the first ISO in a closed tray")
    wait_locked(q, True)  # Linux locks the tray while the CD is open

    r = q.execute("eject", {"device": DRIVE})
    check(r.get("error", {}).get("desc") == LOCKED, "QMP eject of the locked tray: %s" % r)
    out = q.ok("human-monitor-command", {"command-line": "eject " + DRIVE})
    check(out == "Error: " + LOCKED + "\r\n", "HMP eject of the locked tray: %r" % out)
    b = drive(q)
    check(b["tray_open"] is False and b["inserted"]["file"] == iso_a, "the tray stayed closed, the medium in")
    check(not [e for e in q.events if e["event"] == "DEVICE_TRAY_MOVED"], "no tray event (as QEMU)")

    ctl.sendall(b"go\n")
    wait_log(log, "KTEST-CD-UNMOUNTED")
    tray_event(q, True)  # the guest's autoeject
    b = drive(q)
    check(b["tray_open"] is True and b["locked"] is False and b["inserted"]["file"] == iso_a,
          "query-block: the guest opened the unlocked tray, the medium still in it")
    check(q.ok("eject", {"device": DRIVE}) == {}, "QMP eject: the medium out of the open tray (no event)")
    b = drive(q)
    check(b["tray_open"] is True and "inserted" not in b, "query-block: tray open, no medium")

    q.ok("blockdev-change-medium", {"device": DRIVE, "filename": iso_b, "format": "raw"})
    tray_event(q, False)
    b = drive(q)
    check(b["tray_open"] is False and b["inserted"]["file"] == iso_b, "query-block: the second ISO, tray closed")
    ctl.sendall(b"go\n")
    wait_log(log, "KTEST-CD-B-MOUNTED")
    guest_sum(log, "SUM_B", iso_b)

    wait_locked(q, True)
    out = q.ok("human-monitor-command", {"command-line": "eject -f " + DRIVE})
    check(out == "", "HMP eject -f of the locked tray: %r" % out)
    tray_event(q, True)
    b = drive(q)
    check(b["tray_open"] is True and b["locked"] is False and "inserted" not in b,
          "query-block: forced open, unlocked, empty")
    ctl.sendall(b"go\n")
    wait_log(log, "KTEST-CD-DONE")


if __name__ == "__main__":
    sys.exit(main(steps))

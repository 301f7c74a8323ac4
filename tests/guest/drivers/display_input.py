"""Drives the display-input scenario: text typed by a VNC client and by
sendkey / send-key arrives on the guest's tty1; the VNC pointer and
input-send-event move the guest's USB tablet to absolute positions;
mouse_move reaches the PS/2 mouse; the VNC picture is screendump's.

The guest prints its tablet and mouse events as lines
"KTEST-EV <device> <type> <code> <value>" at the end.

usage: display_input.py QMP_SOCKET VNC_SOCKET SERIAL_LOG WORKDIR"""

import os
import re
import sys

from qmp import Failure, Qmp, check, main, wait_log

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "display"))
import images  # noqa: E402
from rfb import RfbClient  # noqa: E402

EV_KEY, EV_REL, EV_ABS = 1, 2, 3
BTN_LEFT, BTN_RIGHT = 0x110, 0x111
VNC_TEXT = "Hello, Kestrel! 42_x"
SENDKEY_TEXT = "Typed-BY sendkey"


def hmp(q, line):
    return q.ok("human-monitor-command", {"command-line": line})


def typed_by_vnc(vnc, log):
    vnc.type_text(VNC_TEXT + "\n")
    wait_log(log, r"KTEST-VNC-KEYS=\[", 120)
    got = re.search(r"KTEST-VNC-KEYS=\[(.*)\]", open(log, errors="replace").read()).group(1)
    check(got == VNC_TEXT, "keys through VNC read on tty1: %r" % got)


def sendkey_name(ch):
    names = {" ": "spc", "-": "minus", "\n": "ret"}
    if ch in names:
        return names[ch]
    return "shift-" + ch.lower() if ch.isupper() else ch


def typed_by_sendkey(q, log):
    text = SENDKEY_TEXT + "\n"
    half = len(text) // 2
    for ch in text[:half]:  # HMP sendkey, then QMP send-key
        hmp(q, "sendkey " + sendkey_name(ch))
    for ch in text[half:]:
        keys = [{"type": "qcode", "data": k} for k in sendkey_name(ch).split("-")]
        q.ok("send-key", {"keys": keys})
    wait_log(log, r"KTEST-SENDKEY=\[", 120)
    got = re.search(r"KTEST-SENDKEY=\[(.*)\]", open(log, errors="replace").read()).group(1)
    check(got == SENDKEY_TEXT, "keys through sendkey/send-key read on tty1: %r" % got)


def scaled(value, size):
    return value * 0x7fff // size  # QEMU's VNC server: 0..size onto 0..0x7fff


def pointer_moves(q, vnc):
    """The expected tablet events, in order: (type, code, value). Each
    input batch (a VNC pointer message, an input-send-event) is one HID
    report, and Linux emits a report's buttons before its axes (the report
    descriptor's order). They are sent at once: the tablet must keep them
    apart until the guest polls, a double click included."""
    w, h = vnc.width, vnc.height
    check((w, h) == (720, 400), "VNC desktop is the 720x400 text screen (%dx%d)" % (w, h))
    mice = hmp(q, "info mice")
    check(re.search(r"^\* Mouse #\d+: QEMU HID Tablet \(absolute\)", mice, re.M) is not None,
          "info mice: the polled tablet is the current mouse (%r)" % mice)
    expected = []
    vnc.pointer(100, 200)
    expected += [(EV_ABS, 0, scaled(100, w)), (EV_ABS, 1, scaled(200, h))]
    vnc.pointer(w - 1, h - 1, buttons=1)
    expected += [(EV_KEY, BTN_LEFT, 1), (EV_ABS, 0, scaled(w - 1, w)), (EV_ABS, 1, scaled(h - 1, h))]
    vnc.pointer(w - 1, h - 1, buttons=0)
    expected += [(EV_KEY, BTN_LEFT, 0)]
    for _ in range(2):  # a double click
        vnc.pointer(w - 1, h - 1, buttons=1)
        vnc.pointer(w - 1, h - 1, buttons=0)
        expected += [(EV_KEY, BTN_LEFT, 1), (EV_KEY, BTN_LEFT, 0)]
    vnc.snapshot()  # the server handles a client's messages in order: the pointer's are done
    q.ok("input-send-event", {"events": [
        {"type": "abs", "data": {"axis": "x", "value": 1000}},
        {"type": "abs", "data": {"axis": "y", "value": 2000}},
        {"type": "btn", "data": {"button": "right", "down": True}}]})
    expected += [(EV_KEY, BTN_RIGHT, 1), (EV_ABS, 0, 1000), (EV_ABS, 1, 2000)]
    q.ok("input-send-event", {"events": [{"type": "btn", "data": {"button": "right", "down": False}}]})
    expected += [(EV_KEY, BTN_RIGHT, 0)]
    q.ok("input-send-event", {"events": [  # the last: the guest waits for it
        {"type": "abs", "data": {"axis": "x", "value": 4321}},
        {"type": "abs", "data": {"axis": "y", "value": 1234}}]})
    expected += [(EV_ABS, 0, 4321), (EV_ABS, 1, 1234)]
    return expected


def guest_events(log, device):
    out = []
    for m in re.finditer(r"^KTEST-EV (\w+) (\d+) (\d+) (\d+)", open(log, errors="replace").read(), re.M):
        if m.group(1) == device and int(m.group(2)) in (EV_KEY, EV_REL, EV_ABS):
            value = int(m.group(4))
            out.append((int(m.group(2)), int(m.group(3)), value - (1 << 32) if value >= 1 << 31 else value))
    return out


def in_order(wanted, seen):
    it = iter(seen)
    return all(any(e == w for e in it) for w in wanted)


def screen_matches(q, vnc, workdir):
    path = os.path.join(workdir, "screen.ppm")
    hmp(q, "screendump " + path)
    dump = images.read_ppm(path)
    shot = vnc.snapshot_until(dump, 60)
    check((shot.width, shot.height, shot.rgb) == (dump.width, dump.height, dump.rgb),
          "the VNC client's picture is screendump's (%dx%d, %d colours)"
          % (dump.width, dump.height, len(dump.distinct_colours())))


def steps():
    qmp_path, vnc_path, log, workdir = sys.argv[1:5]
    q = Qmp(qmp_path)
    q.ok("qmp_capabilities")
    wait_log(log, "KTEST-INPUT-READY", 240)
    vnc = RfbClient(vnc_path)
    typed_by_vnc(vnc, log)
    typed_by_sendkey(q, log)
    screen_matches(q, vnc, workdir)
    expected = pointer_moves(q, vnc)
    hmp(q, "mouse_move 10 -5")  # relative: the PS/2 mouse, not the tablet
    vnc.type_text("\n")  # the guest then waits for the last tablet and mouse events
    wait_log(log, "KTEST-EVENTS-END", 120)
    tablet = guest_events(log, "tablet")
    check(in_order(expected, tablet), "tablet events in the guest: %s (wanted in order: %s)" % (tablet, expected))
    mouse = guest_events(log, "mouse")
    dx = sum(v for t, c, v in mouse if (t, c) == (EV_REL, 0))
    dy = sum(v for t, c, v in mouse if (t, c) == (EV_REL, 1))
    check((dx, dy) == (10, -5), "mouse_move 10 -5 moved the PS/2 mouse by (%d, %d)" % (dx, dy))
    vnc.close()


if __name__ == "__main__":
    sys.exit(main(steps))

"""Drives the display-cirrus-drm scenario: Linux's cirrus DRM driver sets
1024x768 at 16 bpp and fbcon runs on it; the guest writes a known pattern
to /dev/fb0. screendump must show exactly that pattern (16-bit pixels
widened as QEMU shows them), and a VNC client connected since text mode
must have been resized to 1024x768 and see the same picture.

usage: display_cirrus_drm.py QMP_SOCKET VNC_SOCKET SERIAL_LOG WORKDIR"""

import os
import re
import sys
import time

from qmp import deadline_after, Failure, Qmp, check, main, wait_log

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "display"))
import images  # noqa: E402
from rfb import RfbClient  # noqa: E402

WIDTH, HEIGHT = 1024, 768


def pattern_value(x, kind):
    """The guest's pixel at column x of a line with y % 8 == kind (its awk)."""
    return (x * 64 + kind * 8191 + (x // 16) * 2047) % 65536


def widened(v):
    r, g, b = (v >> 11) & 0x1f, (v >> 5) & 0x3f, v & 0x1f
    return bytes(((r << 3) | (r >> 2), (g << 2) | (g >> 4), (b << 3) | (b >> 2)))


def expected_rows():
    return [b"".join(widened(pattern_value(x, k)) for x in range(WIDTH)) for k in range(8)]


def first_difference(image, rows):
    if (image.width, image.height) != (WIDTH, HEIGHT):
        return "size %dx%d" % (image.width, image.height)
    line = WIDTH * 3
    for y in range(HEIGHT):
        got = bytes(image.rgb[y * line:(y + 1) * line])
        want = rows[y % 8]
        if got != want:
            x = next(i for i in range(WIDTH) if got[3 * i:3 * i + 3] != want[3 * i:3 * i + 3])
            return "pixel (%d, %d) is %s, not %s" % (x, y, got[3 * x:3 * x + 3].hex(), want[3 * x:3 * x + 3].hex())
    return None


def screendump_shows(q, path, rows, timeout=60):
    """The guest's writes reach VRAM through fbdev's deferred I/O: waits."""
    deadline = deadline_after(timeout)
    while True:
        q.ok("screendump", {"filename": path})
        image = images.read_ppm(path)
        problem = first_difference(image, rows)
        if problem is None or time.monotonic() > deadline:
            return image, problem
        time.sleep(0.5)


def connect_vnc(path, timeout=60):
    deadline = deadline_after(timeout)
    while True:
        try:
            return RfbClient(path)
        except OSError:
            if time.monotonic() > deadline:
                raise Failure("no VNC server on " + path)
            time.sleep(0.2)


def steps():
    qmp_path, vnc_path, log, workdir = sys.argv[1:5]
    q = Qmp(qmp_path)
    q.ok("qmp_capabilities")
    vnc = connect_vnc(vnc_path)
    first_size = (vnc.width, vnc.height)
    wait_log(log, r"KTEST-FB \S+ \d+,\d+ \d+ \d+", 240)
    fb = re.search(r"KTEST-FB (\S+) (\d+),(\d+) (\d+) (\d+)", open(log, errors="replace").read())
    name, bpp, stride = fb.group(1), int(fb.group(4)), int(fb.group(5))
    check(int(fb.group(2)) == WIDTH and bpp == 16 and stride == 2 * WIDTH,
          "the cirrus DRM driver's fbdev: %s, %sx%s (virtual), %d bpp, stride %d"
          % (name, fb.group(2), fb.group(3), bpp, stride))
    wait_log(log, "KTEST-PATTERN-WRITTEN", 120)
    rows = expected_rows()
    dump, problem = screendump_shows(q, os.path.join(workdir, "fb.ppm"), rows)
    check(problem is None, "screendump shows the pattern written to /dev/fb0 (%s)" % (problem or "all pixels"))
    shot = vnc.snapshot_until(dump, 60)
    check((shot.width, shot.height) == (WIDTH, HEIGHT),
          "the VNC client, connected at %dx%d, was resized to %dx%d" % (first_size + (shot.width, shot.height)))
    problem = first_difference(shot, rows)
    check(problem is None, "the VNC client sees screendump's picture (%s)" % (problem or "all pixels"))
    vnc.close()
    wait_log(log, "KTEST-POWER-BUTTON-READY", 60)
    q.ok("system_powerdown")


if __name__ == "__main__":
    sys.exit(main(steps))

#!/usr/bin/env python3
"""Text mode against QEMU 7.2: the same tiny guest (vga_text_guest.py) draws
the whole 80x25 screen (every character, 128 colour pairs) under kestrel
and under QEMU; their screendumps must be pixel-identical, with std VGA
and with Cirrus. kestrel boots the guest directly and plays the VGA BIOS's
part; QEMU runs SeaBIOS and the VGA BIOS of the same package, so the font
and palette are the same. Runs guest code on this machine's /dev/kvm
(PVM is fast enough for this guest; SeaBIOS takes ~10 s).

usage: text_screendump.py build/kestrel [--vga std,cirrus]
Ends with "N passed, N failed".
"""
import argparse
import os
import tempfile

import images
import vga_text_guest
from vmm import Failure, Results, Vmm, qemu_binary, timeout_scale, wait_log


def screendump(binary, work, name, vga, kernel, fmt="ppm"):
    out = os.path.join(work, "%s.%s" % (name, fmt))
    args = ["-m", "64", "-nodefaults", "-display", "none", "-vga", vga, "-kernel", kernel]
    with Vmm(binary, work, name, args) as vm:
        wait_log(vm.serial, "VGA-READY", timeout=int(180 * timeout_scale()))
        vm.qmp.ok("screendump", {"filename": out, "format": fmt})
    return out


def compare(kestrel, work, vga, kernel):
    mine = images.read_ppm(screendump(kestrel, work, "kestrel-" + vga, vga, kernel))
    theirs = images.read_ppm(screendump(qemu_binary(), work, "qemu-" + vga, vga, kernel))
    if (mine.width, mine.height) != (720, 400):
        raise Failure("kestrel's screen is %dx%d, not 720x400" % (mine.width, mine.height))
    if len(mine.distinct_colours()) < 16:
        raise Failure("kestrel's screen has %d colours, not the 16 of the text palette" % len(mine.distinct_colours()))
    if (mine.width, mine.height) != (theirs.width, theirs.height):
        raise Failure("QEMU's screen is %dx%d" % (theirs.width, theirs.height))
    diff = [(x, y) for y in range(mine.height) for x in range(mine.width) if mine.pixel(x, y) != theirs.pixel(x, y)]
    if diff:
        x, y = diff[0]
        raise Failure("%d pixels differ; first at (%d,%d): kestrel %s, QEMU %s (cell %d,%d)"
                      % (len(diff), x, y, mine.pixel(x, y), theirs.pixel(x, y), x // 9, y // 16))


def png_matches_ppm(kestrel, work, vga, kernel):
    png = images.read_png(screendump(kestrel, work, "kestrel-png-" + vga, vga, kernel, "png"))
    ppm = images.read_ppm(os.path.join(work, "kestrel-%s.ppm" % vga))
    if png.rgb != ppm.rgb:
        raise Failure("the PNG screendump differs from the PPM one")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kestrel")
    ap.add_argument("--vga", default="std,cirrus")
    args = ap.parse_args()
    results = Results()
    with tempfile.TemporaryDirectory(prefix="kestrel-vga-") as work:
        kernel = vga_text_guest.write_image(work)
        for vga in args.vga.split(","):
            results.run("text screen %s = QEMU's" % vga, lambda: compare(args.kestrel, work, vga, kernel))
            results.run("PNG screendump %s = PPM" % vga, lambda: png_matches_ppm(args.kestrel, work, vga, kernel))
    return results.finish()


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python3
"""Writes src/text_order.txt: the functions kestrel runs at start-up, in the
order they first run, for the linker to place side by side.

Why: the kernel maps 64 KiB of an executable around every page fault
("fault-around"). Start-up code is scattered over the 4 MB of text, so a
start-up that runs a few hundred KiB of code made ~3 MiB of the binary
resident (peak RSS of a tiny CI kernel's whole run: 5.8 MiB). lld's
--symbol-ordering-file puts these functions first, and the run stays near
3.3 MiB (meson.build links with it when lld is installed).

The list comes from valgrind's callgrind on start-ups that CI runners and
scripts pay for: a tiny multiboot kernel booted to its exit through
isa-debug-exit, and a paused machine that a QMP client quits. Symbols that
later disappear are ignored by the linker, so a stale list only costs
memory; run this again after large changes:

    scripts/text_order.py [--kestrel build/kestrel]   (needs valgrind)
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "src", "text_order.txt")
NAMED = re.compile(r"^c?fn=\(\d+\) (\S+?)(?:'\d+)?$")


def callgrind(kestrel, args, work, name, stdin=b""):
    out = os.path.join(work, name + ".callgrind")
    cmd = ["valgrind", "--tool=callgrind", "--demangle=no", "--callgrind-out-file=" + out, kestrel] + args
    run = subprocess.run(cmd, input=stdin, capture_output=True, timeout=300)
    return out, run.returncode


def functions_in_order(profile):
    """Mangled names in the order callgrind first names them."""
    names = []
    with open(profile, errors="replace") as f:
        for line in f:
            m = NAMED.match(line.rstrip("\n"))
            if m and not m.group(1).startswith("0x") and "@" not in m.group(1):
                names.append(m.group(1))
    return names


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kestrel", default=os.path.join(REPO, "build", "kestrel"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="kestrel-text-order-") as work:
        subprocess.run(["bash", os.path.join(REPO, "tests", "tiny", "kernel", "build.sh"), work],
                       check=True, capture_output=True)
        tiny = ["-m", "128", "-nodefaults", "-display", "none",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
                "-kernel", os.path.join(work, "tiny-mb.elf"), "-append", "quiet=1 exit=21"]
        paused = ["-S", "-m", "128", "-nodefaults", "-display", "none", "-qmp", "stdio"]
        qmp = b'{"execute": "qmp_capabilities"}\n{"execute": "query-status"}\n{"execute": "quit"}\n'
        runs = [callgrind(args.kestrel, tiny, work, "tiny"),
                callgrind(args.kestrel, paused, work, "paused", qmp)]
        if runs[0][1] != 43 or runs[1][1] != 0:
            sys.exit("text_order: unexpected exit statuses %s" % [status for _, status in runs])
        seen, order = set(), []
        for profile, _ in runs:
            for name in functions_in_order(profile):
                if name not in seen:
                    seen.add(name)
                    order.append(name)
    with open(OUT, "w") as f:
        f.write("\n".join(order) + "\n")
    print("text_order: %d functions -> %s" % (len(order), os.path.relpath(OUT, REPO)))


if __name__ == "__main__":
    main()

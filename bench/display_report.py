"""Tables for bench/display_bench.py: the machine, then one table per
measurement (median (min–max) over successful runs, ratio kestrel/QEMU of
the medians), as a "## DATE — display" section of bench/RESULTS.md."""

import hashlib
import os
import platform
import re
import statistics
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sh(argv):
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout.strip()


def context(source, copy):
    with open(copy, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:12]
    with open("/proc/cpuinfo") as f:
        cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
    head = sh(["git", "-C", REPO, "log", "-1", "--format=%h %s"])
    dirty = sh(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"])
    return {"machine": "%d cores (%s, kernel %s)" % (os.cpu_count(), cpu, platform.release()),
            "kestrel": "%s (sha256 %s) at commit %s%s" % (os.path.relpath(source, REPO), digest, head,
                                                           " (uncommitted changes)" if dirty else ""),
            "qemu": sh(["qemu-system-x86_64", "--version"]).splitlines()[0]}


def cell(values, f):
    if not values:
        return "-"
    return "%s (%s–%s)" % (f % statistics.median(values), f % min(values), f % max(values))


def ratio(a, b):
    if not a or not b or statistics.median(b) == 0:
        return "-"
    return "%.3f" % (statistics.median(a) / statistics.median(b))


def row(label, k, q, f, goal=""):
    return "| %s | %s | %s | %s | %s |" % (label, cell(k, f), cell(q, f), ratio(k, q), goal)


HEADER = ["| | kestrel | QEMU 7.2 | kestrel/QEMU | goal |", "|---|---|---|---|---|"]


def idle_local_lines(r):
    ok = {n: [d for d in runs if d.get("ok")] for n, runs in r["idle_local"].items()}
    k, q = ok.get("kestrel", []), ok.get("qemu", [])
    per_s = lambda runs, key: [d[key] / d["seconds"] for d in runs]  # noqa: E731
    return ["### Idle screen, a VNC client attached (this machine's KVM, no Linux)", "",
            "tests/display's tiny guest draws a text screen and halts with interrupts off; "
            "`-m 128 -nodefaults -vga std -vnc unix:SOCK`, a client asking for incremental "
            "updates again after each one; measured over %.0f s from 2 s after the screen "
            "was drawn. kestrel %d/%d ok, QEMU %d/%d ok."
            % (r["idle_seconds"], len(k), len(r["idle_local"]["kestrel"]), len(q), len(r["idle_local"]["qemu"])),
            ""] + HEADER + [
        row("VMM CPU time (ms per second)", per_s(k, "cpu_ms"), per_s(q, "cpu_ms"), "%.2f", "no polling"),
        row("context switches per second (all threads)", [d["switches_per_s"] for d in k],
            [d["switches_per_s"] for d in q], "%.1f"), ""]


def linux_lines(r):
    lin = r["linux"]
    ok = {n: {kind: [d for d in runs if d.get("ok")] for kind, runs in v.items()} for n, v in lin.items()}
    kd, qd = ok["kestrel"]["display"], ok["qemu"]["display"]
    kb, qb = ok["kestrel"]["baseline"], ok["qemu"]["baseline"]
    mib = lambda runs: [d["vm_hwm_kib"] / 1024 for d in runs]  # noqa: E731
    over_k = [x - statistics.median(mib(kb)) for x in mib(kd)] if kb else []
    over_q = [x - statistics.median(mib(qb)) for x in mib(qd)] if qb else []
    idle = lambda runs: [d["idle"]["cpu_ms"] / d["idle"]["seconds"] for d in runs if "idle" in d]  # noqa: E731
    return ["### Linux console with a VNC client attached (nested test host)", "",
            "Debian kernel + l2 initramfs, `-m 512 -smp 1 -nodefaults -vga std -vnc unix:SOCK "
            "-serial stdio -no-reboot`, a client asking for incremental updates again after each "
            "one. The guest writes %d lines of 66 characters to /dev/tty0 (vgacon), sleeps %d s, "
            "then bochs-drm sets its graphics mode (the EDID's preferred size, 32 bpp) and the guest fills 3 MiB of /dev/fb0; peak RSS "
            "(VmHWM) is read 3 s later. Baseline: the same guest with `-vga none -display none`. "
            "kestrel %d/%d ok, QEMU %d/%d ok; baseline %d/%d and %d/%d."
            % (r["lines"], r["linux_idle_seconds"], len(kd), len(lin["kestrel"]["display"]), len(qd),
               len(lin["qemu"]["display"]), len(kb), len(lin["kestrel"]["baseline"]), len(qb),
               len(lin["qemu"]["baseline"])), ""] + HEADER + [
        row("print %d lines: host time between markers (s)" % r["lines"], [d["print_host_s"] for d in kd],
            [d["print_host_s"] for d in qd], "%.2f", "ratio ≤ 1.0"),
        row("print %d lines: the guest's own clock (s)" % r["lines"], [d["print_guest_s"] for d in kd],
            [d["print_guest_s"] for d in qd], "%.2f", "ratio ≤ 1.0"),
        row("VMM CPU while the guest sleeps (ms per second)", idle(kd), idle(qd), "%.1f"),
        row("peak RSS with display, VNC, graphics mode (MiB)", mib(kd), mib(qd), "%.1f"),
        row("peak RSS, same guest without display (MiB)", mib(kb), mib(qb), "%.1f"),
        row("display's cost: the difference (MiB)", over_k, over_q, "%.1f", "kestrel ≤ QEMU"), ""]


def section(r, date):
    c = r["context"]
    lines = ["## %s — display" % date, "",
             "Produced by `bench/display_bench.py`. Runs interleaved kestrel, QEMU, kestrel, QEMU, …; "
             "cells are median (min–max) over successful runs.", "",
             "- Machine: " + c["machine"], "- kestrel: " + c["kestrel"], "- QEMU: " + c["qemu"], ""]
    lines += idle_local_lines(r)
    if "linux" in r:
        lines += linux_lines(r)
    return "\n".join(lines)


def update_results_md(path, date, text):
    with open(path) as f:
        old = f.read()
    parts = re.split(r"(?m)^(?=## )", old)
    head, sections = parts[0], parts[1:]
    title = "## %s — display\n" % date
    notes = ""
    for s in sections:
        if s.startswith(title) and "\n### Notes" in s:
            notes = "\n" + s[s.index("\n### Notes") + 1:].rstrip("\n") + "\n"
    sections = [s for s in sections if not s.startswith(title)]
    sections.append(text.rstrip("\n") + "\n" + notes)
    with open(path, "w") as f:
        f.write(head.rstrip("\n") + "\n\n" + "\n".join(sections))

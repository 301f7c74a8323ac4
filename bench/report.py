#!/usr/bin/env python3
"""Turn measure.py's JSON into Markdown tables and a dated RESULTS.md section.

usage: report.py MEASURE.json [--results-md bench/RESULTS.md] [--context JSON]
--context: facts known only outside the test host (outer machine, kestrel
build), written by run.py.
"""

import argparse
import json
import re
import statistics
import sys

import attr_report
import disk_report

NAMES = ("kestrel", "qemu")


def ok_runs(runs):
    return [r for r in runs if r.get("ok")]


def med(runs, key):
    vals = [r[key] for r in ok_runs(runs) if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def spread(runs, key, scale, fmt):
    vals = [r[key] * scale for r in ok_runs(runs) if r.get(key) is not None]
    if not vals:
        return "–"
    return (fmt + " (" + fmt + "–" + fmt + ")") % (statistics.median(vals), min(vals),
                                                    max(vals))


def ratio(data, key):
    a, b = med(data["kestrel"], key), med(data["qemu"], key)
    if a is None or not b:
        return "–"
    return "%.3f" % (a / b)


def count(data):
    return ", ".join("%s %d/%d ok" % (n, len(ok_runs(data[n])), len(data[n])) for n in NAMES)


def table(data, rows):
    """rows: (label, key, scale, fmt, goal)."""
    out = ["| | kestrel | QEMU 7.2 | kestrel/QEMU | goal |", "|---|---|---|---|---|"]
    for label, key, scale, fmt, goal in rows:
        out.append("| %s | %s | %s | %s | %s |" % (
            label, spread(data["kestrel"], key, scale, fmt),
            spread(data["qemu"], key, scale, fmt), ratio(data, key), goal))
    return out


STARTUP_ROWS = [
    ("wall: exec → first guest instruction → exit (ms)", "wall_s", 1e3, "%.1f", "ratio ≤ 0.10"),
    ("CPU: user+sys (ms)", "cpu_s", 1e3, "%.1f", "ratio ≤ 0.10"),
    ("peak RSS (MiB)", "maxrss_kib", 1 / 1024, "%.2f", "kestrel ≤ 4 MiB"),
]
QMP_ROWS = [
    ("wall: exec → QMP greeting read by the client (ms)", "greeting_s", 1e3, "%.1f", ""),
    ("wall: exec → `quit` answered → exit (ms)", "wall_s", 1e3, "%.1f", ""),
    ("CPU: user+sys (ms)", "cpu_s", 1e3, "%.1f", ""),
    ("peak RSS (MiB)", "maxrss_kib", 1 / 1024, "%.2f", ""),
]
BOOT_ROWS = [
    ("exec → `KTEST-GUEST-START` on serial (s)", "init_s", 1, "%.2f", ""),
    ("exec → exit after `poweroff -f` (s)", "wall_s", 1, "%.2f", ""),
    ("CPU: user+sys (s)", "cpu_s", 1, "%.2f", ""),
    ("peak RSS (MiB)", "maxrss_kib", 1 / 1024, "%.1f", ""),
    ("guest's own clock at `reboot: Power down` (s)", "guest_poweroff_s", 1, "%.2f", ""),
]


def verify_lines(m):
    out = []
    for n in NAMES:
        v = m.get("verify_tiny", {}).get(n)
        if not v:
            continue
        loop = v["reset_loop_4s"]
        out.append("- %s: %s — marker image entered at the %s; exit status %s with "
                   "-no-reboot; without -no-reboot still running after 4 s (%s), "
                   "entry reached %d times (reset loop)." % (
                       n, "verified" if v["ok"] else "**NOT verified**",
                       v["entry_name"] or "(no marker seen: %r)"
                       % v["no_reboot_run"].get("stdout", ""),
                       v["no_reboot_run"]["status"], loop["status"], loop["entries_seen"]))
    return out


def floor_lines(floors):
    if not floors:
        return []
    out = ["Process floors (no VM; same timing helper), median (min–max) of %d runs:"
           % max(len(r) for r in floors.values()), "",
           "| command | wall (ms) | CPU (ms) | peak RSS (MiB) |", "|---|---|---|---|"]
    for label, runs in floors.items():
        out.append("| `%s` | %s | %s | %s |" % (
            label, spread(runs, "wall_s", 1e3, "%.1f"), spread(runs, "cpu_s", 1e3, "%.1f"),
            spread(runs, "maxrss_kib", 1 / 1024, "%.2f")))
    return out


def failures(data, label):
    out = []
    for n in NAMES:
        for i, r in enumerate(data[n]):
            if not r.get("ok"):
                why = "; ".join(r.get("problems", [])) or "exit status %s" % r["status"]
                if r.get("problems"):
                    why += " (exit status %s after %.2f s)" % (r["status"], r["wall_s"])
                err = r.get("stderr", "").strip().splitlines()[-3:]
                serial = r.get("stdout", "").strip().splitlines()[-3:]
                out.append("- %s run %d of %s failed: %s%s%s" % (
                    label, i + 1, n, why,
                    ("; serial ended with: `%s`" % " / ".join(serial)) if serial else "",
                    ("; stderr: `%s`" % " / ".join(err)) if err else ""))
    return out


def machine_line(m, ctx):
    h = m["host"]
    if h.get("mode") == "nested":
        return ("%s cores (outer machine: %s, kernel %s, PVM guest: its /dev/kvm is "
                "paravirtual (kvm_pvm), too slow for Linux guests); nested test host: "
                "QEMU %s TCG L1 (`-cpu max -smp 2`) with kvm_amd, L1 kernel %s, %d L1 vCPUs"
                % (ctx.get("outer_cpus", "?"), ctx.get("outer_cpu", "?"),
                   ctx.get("outer_kernel", "?"), ctx.get("l1_qemu", "?"), h["kernel"], h["cpus"]))
    return "%s, %d CPUs, kernel %s, KVM %s (direct)" % (
        h.get("cpu_model"), h["cpus"], h["kernel"], ",".join(h.get("kvm_module", [])))


def hosts_text(m):
    hosts = m.get("hosts", [])
    if len(hosts) <= 1:
        return "one test-host boot"
    return ("%d test-host boots (%s; each phase ran whole in one boot)"
            % (len(hosts), "; ".join("boot %d: %s%s" % (i + 1, ", ".join(h["phases"]) or "no phase finished",
                                                          "" if h["status"] == 0 else ", then died (status %d)" % h["status"])
                                     for i, h in enumerate(hosts))))


def order_lines(data):
    """Boots ran A B B A ... after a settle: the medians by the VMM that ran
    just before, to show whether one VMM's run slows the next."""
    if not any("after" in r for n in NAMES for r in data.get(n, [])):
        return []
    cells = []
    for n in NAMES:
        for before in NAMES:
            runs = [r for r in data[n] if r.get("after") == before]
            v = med(runs, "init_s")
            if v is not None:
                cells.append("%s after %s %.2f s (%d)" % (n, before, v, len(ok_runs(runs))))
    waits = [r["settle_s"] for n in NAMES for r in data[n] if "settle_s" in r]
    return ["Order A B B A …, each boot after the test host's CPUs were 90 %% idle for 0.5 s "
            "(waited %.1f–%.1f s). Init medians by the run before: %s." %
            (min(waits), max(waits), "; ".join(cells)), ""]


def section(m, ctx, date):
    lines = ["## %s" % date, "",
             "- Machine: " + machine_line(m, ctx),
             "- kestrel: %s" % ctx.get("kestrel", m["host"]["versions"].get("kestrel")),
             "- QEMU: %s, `qemu-system-x86_64 -enable-kvm` (default CPU model)"
             % m["host"]["versions"].get("qemu"),
             "- Runs interleaved kestrel, QEMU, kestrel, QEMU, … (Linux boots: kestrel, QEMU, QEMU, "
             "kestrel, …) one process at a time in "
             + hosts_text(m) + "; cells are median (min–max) over successful runs.", ""]
    if "startup" in m:
        s = m["startup"]
        lines += ["### Start-up (tiny bzImage that triple-faults at its first instruction)", "",
                  "`VMM -enable-kvm -m 512 -nodefaults -display none -no-reboot -kernel "
                  "tiny.bzImage`; %s; 2 untimed warm-up runs each." % count(s), ""]
        lines += table(s, STARTUP_ROWS) + [""] + verify_lines(m) + failures(s, "start-up")
        lines += [""] + floor_lines(m.get("floors", {}))
        lines.append("")
    if "qmp_startup" in m:
        q = m["qmp_startup"]
        lines += ["### QMP start-up (libvirt's path)", "",
                  "`VMM -enable-kvm -S -nodefaults -display none -m 512 -qmp unix:SOCK,server=on,"
                  "wait=off`; a client connects as soon as the socket exists, reads the "
                  "greeting, sends `qmp_capabilities` and `quit`; %s; 2 untimed warm-ups each."
                  % count(q), ""]
        lines += table(q, QMP_ROWS) + failures(q, "QMP start-up") + [""]
    for smp, key, cache in ((1, "boot_smp1", "warm"), (2, "boot_smp2", "warm"),
                            (1, "boot_smp1_cold", "cold")):
        if key in m:
            b = m[key]
            lines += ["### Linux boot to init and poweroff, -smp %d, %s kernel cache" % (smp, cache),
                      "",
                      "Debian kernel + l2 initramfs, `-m 512 -smp %d -nodefaults -display none "
                      "-serial stdio -no-reboot -append \"console=ttyS0 quiet panic=-1\"`; %s; "
                      "kestrel's kernel cache %s." % (smp, count(b), {
                          "warm": "filled by an untimed boot before",
                          "cold": "emptied before each kestrel run (it decompresses the "
                                  "kernel into the cache at start-up and boots from it)"}[cache]), ""]
            goal = "ratio ≤ 0.5" if cache == "warm" else "ratio ≤ 1.0"
            rows = [r[:4] + (goal if r[1] == "init_s" else r[4],) for r in BOOT_ROWS]
            lines += table(b, rows) + [""] + order_lines(b) + failures(b, "boot -smp %d" % smp)
            lines.append("")
    for key in sorted(k for k in m if k.startswith("attr_smp")):
        lines += attr_report.section(m, key)
    if "disk" in m:
        lines += disk_report.section(m["disk"])
    phases = m.get("phases", {})
    if phases:
        lines.append("Phase times: " + ", ".join("%s %.0f s" % (k[:-2], v)
                                                 for k, v in phases.items()) + ".")
        lines.append("")
    return "\n".join(lines)


def update_results_md(path, date, text):
    try:
        with open(path) as f:
            old = f.read()
    except FileNotFoundError:
        old = ("# kestrel benchmark results\n\nProduced by `bench/run.sh` (see "
               "bench/README.md). Newest section last; a re-run on the same day "
               "replaces that day's section except its hand-written `### Notes`.\n")
    parts = re.split(r"(?m)^(?=## )", old)
    head, sections = parts[0], parts[1:]
    notes = ""   # hand-written "### Notes" of a replaced section are kept
    for s in sections:
        if s.startswith("## %s\n" % date) and "\n### Notes" in s:
            notes = "\n" + s[s.index("\n### Notes") + 1:].rstrip("\n") + "\n"
    sections = [s for s in sections if not s.startswith("## %s\n" % date)]
    sections.append(text.rstrip("\n") + "\n" + notes)
    with open(path, "w") as f:
        f.write(head.rstrip("\n") + "\n\n" + "\n".join(sections))


def main(argv):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("measure")
    p.add_argument("--results-md")
    p.add_argument("--context")
    p.add_argument("--date", required=True)
    a = p.parse_args(argv)
    with open(a.measure) as f:
        m = json.load(f)
    ctx = {}
    if a.context:
        with open(a.context) as f:
            ctx = json.load(f)
    text = section(m, ctx, a.date)
    print(text)
    if a.results_md:
        update_results_md(a.results_md, a.date, text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

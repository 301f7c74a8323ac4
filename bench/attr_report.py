"""Markdown tables of the boot-time attribution (bench/bootattr.py)."""

import statistics

import bootattr

NAMES = ("kestrel", "qemu")
PHASE_ROWS = [
    ("startup", "VMM start-up: exec → first guest exit"),
    ("firmware", "firmware / loader (SeaBIOS, option ROM, real-mode setup)"),
    ("decompress", "kernel decompression (compressed kernel until the first exit in "
                   "the kernel's virtual mapping)"),
    ("early_kernel", "early kernel until its clock starts (printk time 0)"),
    ("kernel_init", "kernel init: clock zero → `Run /init`"),
    ("ki_before_initcalls", "  of which: before the first initcall"),
    ("ki_initcalls", "  of which: initcalls"),
    ("ki_after_initcalls", "  of which: last initcall → `Run /init`"),
    ("initramfs_unpack", "  initramfs unpacking (asynchronous, overlaps the initcalls)"),
    ("userspace", "userspace: `Run /init` → `KTEST-GUEST-START` on serial"),
    ("total", "**total: exec → `KTEST-GUEST-START`**"),
]


def ok_runs(runs):
    return [r for r in runs if r.get("ok")]


def cell(med, key, scale=1.0, fmt="%.3f"):
    return fmt % (med[key] * scale) if key in med else "–"


def phase_table(data):
    meds = {n: bootattr.median_durations(data.get(n, [])) for n in NAMES}
    out = ["| phase | kestrel (s) | QEMU 7.2 (s) | kestrel/QEMU |", "|---|---|---|---|"]
    for key, label in PHASE_ROWS:
        a, b = meds["kestrel"].get(key), meds["qemu"].get(key)
        ratio = "%.2f" % (a / b) if a is not None and b else "–"
        out.append("| %s | %s | %s | %s |" % (label, cell(meds["kestrel"], key),
                                              cell(meds["qemu"], key), ratio))
    return out


def median_exits(runs):
    """{phase: {key: median count}} over the successful runs."""
    ok = ok_runs(runs)
    out = {}
    for p in bootattr.PHASES:
        keys = {k for r in ok for k in r["exits"].get(p, {})}
        out[p] = {k: statistics.median([r["exits"].get(p, {}).get(k, 0) for r in ok])
                  for k in keys}
    return out


def exit_table(runs, top=14):
    med = median_exits(runs)
    totals = {}
    for p, counts in med.items():
        for k, v in counts.items():
            totals[k] = totals.get(k, 0) + v
    keys = sorted(totals, key=lambda k: -totals[k])
    out = ["| exit reason[/device] | " + " | ".join(bootattr.PHASES) + " | all |",
           "|---|" + "---|" * (len(bootattr.PHASES) + 1)]
    shown = keys[:top]
    for k in shown:
        out.append("| %s | %s | %.0f |" % (k, " | ".join(
            "%.0f" % med[p].get(k, 0) for p in bootattr.PHASES), totals[k]))
    rest = keys[top:]
    if rest:
        out.append("| (other) | %s | %.0f |" % (" | ".join(
            "%.0f" % sum(med[p].get(k, 0) for k in rest) for p in bootattr.PHASES),
            sum(totals[k] for k in rest)))
    out.append("| **all** | %s | %.0f |" % (" | ".join(
        "%.0f" % sum(med[p].values()) for p in bootattr.PHASES), sum(totals.values())))
    return out


def initcall_table(data, top=20):
    def per_name(runs):
        acc = {}
        for r in ok_runs(runs):
            for us, name in r.get("initcalls_top", []):
                acc.setdefault(name, []).append(us)
        return {n: statistics.median(v) for n, v in acc.items()}
    meds = {n: per_name(data.get(n, [])) for n in NAMES}
    names = sorted(set(meds["kestrel"]) | set(meds["qemu"]),
                   key=lambda n: -max(meds["kestrel"].get(n, 0), meds["qemu"].get(n, 0)))
    out = ["| initcall | kestrel (ms, guest clock) | QEMU 7.2 (ms, guest clock) |",
           "|---|---|---|"]
    for n in names[:top]:
        out.append("| `%s` | %s | %s |" % (n, *("%.1f" % (meds[v][n] / 1e3) if n in meds[v]
                                                else "(not in top 20)" for v in NAMES)))
    return out


def section(m, key):
    data = m[key]
    smp = key.replace("attr_smp", "")
    counts = ", ".join("%s %d/%d ok" % (n, len(ok_runs(data.get(n, []))), len(data.get(n, [])))
                       for n in NAMES)
    lines = ["### Boot-time attribution, -smp %s" % smp, "",
             "Same kernel, initramfs and command line as the boot table plus `initcall_debug "
             "log_buf_len=4M` (still `quiet`), every run traced in L1 (ftrace kvm_exit, "
             "kvm_pio, kvm_mmio, kvm_msr); %s. Medians; see bench/bootattr.py for the phase "
             "boundaries." % counts, ""]
    lines += phase_table(data) + [""]
    for n in NAMES:
        runs = data.get(n, [])
        if ok_runs(runs):
            lines += ["Guest exits per phase, %s (median counts over %d runs; L1 trace lost "
                      "%s events):" % (n, len(ok_runs(runs)),
                                       max(r.get("trace_overruns", 0) for r in ok_runs(runs))),
                      ""]
            lines += exit_table(runs) + [""]
    lines += ["Slowest initcalls (`initcall_debug`, median of the runs where it was in the "
              "top 20):", ""]
    lines += initcall_table(data) + [""]
    klog = {n: next((r["klog"] for r in ok_runs(data.get(n, []))), []) for n in NAMES}
    for n in NAMES:
        if klog[n]:
            lines.append("- %s, kernel log: %s" % (n, "; ".join("`%s`" % l for l in klog[n])))
    lines.append("")
    return lines

"""The test host's KVM view of netbench's tests: L1 KVM's exit counters
(debugfs, all vCPUs) between each test's markers, and with --trace TEST
the exits of that test by reason and the device registers behind them
(L1 ftrace: kvm_exit, kvm_mmio, kvm_msr, kvm_pio).

Counters cost nothing; the trace slows the traced test (every exit is an
event), so traced runs measure where exits go, not throughput.
"""

import collections
import re

import bootattr
import diskbench

TRACE_EVENTS = ("kvm:kvm_exit", "kvm:kvm_mmio", "kvm:kvm_msr", "kvm:kvm_pio")
# e1000 registers by offset in BAR 0 (Intel 8254x manual, section 13)
E1000_REGS = {0x0: "CTRL", 0x8: "STATUS", 0xc0: "ICR", 0xc4: "ITR", 0xc8: "ICS", 0xd0: "IMS",
              0xd8: "IMC", 0x100: "RCTL", 0x400: "TCTL", 0x2810: "RDH", 0x2818: "RDT",
              0x2820: "RDTR", 0x282c: "RADV", 0x3810: "TDH", 0x3818: "TDT", 0x3820: "TIDV",
              0x382c: "TADV"}
LAPIC_REGS = {0xb0: "EOI", 0x300: "ICR-lo", 0x310: "ICR-hi", 0x380: "TMICT", 0x390: "TMCCT"}
MSR_NAMES = {0x80b: "x2apic EOI", 0x830: "x2apic ICR", 0x6e0: "TSC deadline", 0x838: "x2apic TMICT"}
MMIO_RE = re.compile(r"mmio (\S+) len \d+ gpa 0x([0-9a-f]+)")
MSR_RE = re.compile(r"msr_(read|write) ([0-9a-f]+)")
PIO_RE = re.compile(r"pio_(read|write) at 0x([0-9a-f]+)")
EXIT_RE = re.compile(r"reason (.+?) rip")


def mmio_register(gpa):
    """A register name for an MMIO address: the local APIC's, else the
    e1000's by its offset in a 128 KiB BAR (other devices show raw)."""
    if 0xfee00000 <= gpa < 0xfee01000:
        return "lapic " + LAPIC_REGS.get(gpa & 0xfff, "%#x" % (gpa & 0xfff))
    if 0xfec00000 <= gpa < 0xfec01000:
        return "ioapic %#x" % (gpa & 0xfff)
    off = gpa & 0x1ffff
    return "bar+%#x %s" % (off, E1000_REGS.get(off, "")) if off in E1000_REGS else "mmio %#x" % gpa


class TestWindows:
    """Counters (and, for one test, a trace) between KNET-START and KNET-END."""

    def __init__(self, traced_test=None):
        self.counters_ok = diskbench.mount_kvm_debugfs()
        self.traced = traced_test
        self.tracer = bootattr.Tracer(65536, TRACE_EVENTS) if traced_test else None
        self.marks, self.traces = {}, {}

    def mark(self, test, edge):
        self.marks[(test, edge)] = diskbench.kvm_counters() if self.counters_ok else ()
        if self.tracer and self.tracer.root and test == self.traced:
            if edge == "START":
                self.tracer.start()
            else:
                self.tracer.stop()
                self.traces[test] = summarize(self.tracer)

    def deltas(self, test):
        a, b = self.marks.get((test, "START"), ()), self.marks.get((test, "END"), ())
        if not a or len(a) != len(b):
            return None
        return {name: b[i] - a[i] for i, name in enumerate(diskbench.KVM_STATS)}


def summarize(tracer):
    """{"exits": {reason: n}, "detail": {register or port or MSR: n}, "overruns": n}."""
    exits, detail = collections.Counter(), collections.Counter()
    for _t, event, text in tracer.events():
        if event == "kvm_exit" and (m := EXIT_RE.search(text)):
            exits[m.group(1).replace(" ", "_")] += 1
        elif event == "kvm_mmio" and (m := MMIO_RE.search(text)) and "unsatisfied" not in m.group(1):
            detail["%s %s" % (m.group(1), mmio_register(int(m.group(2), 16)))] += 1
        elif event == "kvm_msr" and (m := MSR_RE.search(text)):
            msr = int(m.group(2), 16)
            detail["msr_%s %s" % (m.group(1), MSR_NAMES.get(msr, "%#x" % msr))] += 1
        elif event == "kvm_pio" and (m := PIO_RE.search(text)):
            detail["pio_%s %s" % (m.group(1), bootattr.port_name(int(m.group(2), 16)))] += 1
    return {"exits": dict(exits), "detail": dict(detail), "overruns": tracer.overruns()}


def per_unit(entry, value):
    """value per MB moved (per transaction for rr)."""
    unit = entry["amount"] if entry.get("test") == "rr" else entry["amount"] / 1e6
    return value / unit if unit else float("nan")


def counters_table(runs, tests, median):
    """Medians of L1 KVM's counters per MB (rr: per transaction)."""
    lines = ["\n**L1 KVM counters** (debugfs, all vCPUs; per MB moved, rr per transaction)\n",
             "| test | VMM | " + " | ".join(diskbench.KVM_STATS) + " |",
             "|---|---|" + "---|" * len(diskbench.KVM_STATS)]
    for mode in sorted({r["mode"] for r in runs}):
        for t in tests:
            for vmm in ("kestrel", "qemu"):
                es = [dict(r["tests"][t], test=t) for r in runs if r["mode"] == mode and r["vmm"] == vmm
                      and t in r["tests"] and r["tests"][t].get("kvm")]
                if not es:
                    continue
                cells = [median([per_unit(e, e["kvm"][n]) for e in es]) for n in diskbench.KVM_STATS]
                lines.append("| %s %s | %s | %s |" % (mode, t, vmm, " | ".join("%.1f" % c for c in cells)))
    return "\n".join(lines) if len(lines) > 3 else ""


def trace_table(runs, top=14):
    """For each traced run: exits by reason and the busiest registers, per MB."""
    lines = []
    for r in runs:
        for t, e in r["tests"].items():
            tr = e.get("trace")
            if not tr:
                continue
            e = dict(e, test=t)
            lines.append("\n**trace of %s, %s %s, round %d** (per %s; %d overruns)\n" % (
                t, r["vmm"], r["mode"], r["round"], "transaction" if t == "rr" else "MB", tr["overruns"]))
            for title, counts in (("exit reason", tr["exits"]), ("register", tr["detail"])):
                lines.append("| %s | per unit |\n|---|---|" % title)
                for name, n in sorted(counts.items(), key=lambda kv: -kv[1])[:top]:
                    lines.append("| %s | %.2f |" % (name, per_unit(e, n)))
                lines.append("")
    return "\n".join(lines)

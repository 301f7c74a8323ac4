"""The test host's KVM view of netbench's tests: L1 KVM's exit counters
(debugfs, all vCPUs) between each test's markers, and with --trace TEST
the exits of that test by reason and the device registers behind them
(bench/exit_trace.py).

Counters cost nothing; the trace slows the traced test (every exit is an
event), so traced runs measure where exits go, not throughput.
"""

import diskbench
import exit_trace

class TestWindows:
    """Counters (and, for one test, a trace) between KNET-START and KNET-END."""

    def __init__(self, traced_test=None):
        self.counters_ok = diskbench.mount_kvm_debugfs()
        self.traced = traced_test
        self.tracer = exit_trace.tracer() if traced_test else None
        self.marks, self.traces = {}, {}

    def mark(self, test, edge):
        self.marks[(test, edge)] = diskbench.kvm_counters() if self.counters_ok else ()
        if self.tracer and self.tracer.root and test == self.traced:
            if edge == "START":
                self.tracer.start()
            else:
                self.tracer.stop()
                self.traces[test] = exit_trace.summarize(self.tracer)

    def deltas(self, test):
        a, b = self.marks.get((test, "START"), ()), self.marks.get((test, "END"), ())
        if not a or len(a) != len(b):
            return None
        return {name: b[i] - a[i] for i, name in enumerate(diskbench.KVM_STATS)}


def per_unit(entry, value):
    """value per MB moved (per transaction for rr)."""
    unit = entry["amount"] if entry.get("test") == "rr" else entry["amount"] / 1e6
    return value / unit if unit else float("nan")


def counters_table(runs, tests, median):
    """Medians of L1 KVM's counters per MB (rr: per transaction)."""
    lines = ["\n**L1 KVM counters** (debugfs, all vCPUs; per MB moved, rr per transaction)\n",
             "| test | VMM | " + " | ".join(diskbench.EXIT_STATS) + " |",
             "|---|---|" + "---|" * len(diskbench.EXIT_STATS)]
    for mode in sorted({r["mode"] for r in runs}):
        for t in tests:
            for vmm in ("kestrel", "qemu"):
                es = [dict(r["tests"][t], test=t) for r in runs if r["mode"] == mode and r["vmm"] == vmm
                      and t in r["tests"] and r["tests"][t].get("kvm")]
                if not es:
                    continue
                cells = [median([per_unit(e, e["kvm"][n]) for e in es]) for n in diskbench.EXIT_STATS]
                lines.append("| %s %s | %s | %s |" % (mode, t, vmm, " | ".join("%.1f" % c for c in cells)))
    return "\n".join(lines) if len(lines) > 3 else ""


def trace_table(runs):
    """For each traced run: exits by reason and the registers behind them, per MB."""
    lines = []
    for r in runs:
        for t, e in r["tests"].items():
            if e.get("trace"):
                unit = e["amount"] if t == "rr" else e["amount"] / 1e6
                lines.append("\n**trace of %s, %s %s, round %d** (%d overruns)\n" % (
                    t, r["vmm"], r["mode"], r["round"], e["trace"]["overruns"]))
                lines.append(exit_trace.table(e["trace"], unit, "transaction" if t == "rr" else "MB"))
    return "\n".join(lines)

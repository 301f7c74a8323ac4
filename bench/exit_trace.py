"""Where a guest's exits go and how long each takes, from L1 ftrace inside
the nested test host (kvm_exit, kvm_entry and the kvm_mmio / kvm_msr /
kvm_pio event that names what an exit was for).

An exit's time is from its kvm_exit to the next kvm_entry of the same vCPU
thread: L1 KVM's handling plus, for MMIO and port I/O that KVM hands to the
VMM, the VMM's device emulation. HLT exits include the time the vCPU slept.

Used by netbench (--trace TEST) and the disk bench (--disk-trace JOB).
"""

import collections
import re

import bootattr

EVENTS = ("kvm:kvm_exit", "kvm:kvm_entry", "kvm:kvm_mmio", "kvm:kvm_msr", "kvm:kvm_pio")
# e1000 registers by offset in BAR 0 (Intel 8254x manual, section 13)
E1000_REGS = {0x0: "CTRL", 0x8: "STATUS", 0xc0: "ICR", 0xc4: "ITR", 0xc8: "ICS", 0xd0: "IMS",
              0xd8: "IMC", 0x100: "RCTL", 0x400: "TCTL", 0x2810: "RDH", 0x2818: "RDT",
              0x2820: "RDTR", 0x282c: "RADV", 0x3810: "TDH", 0x3818: "TDT", 0x3820: "TIDV",
              0x382c: "TADV"}
LAPIC_REGS = {0xb0: "EOI", 0x300: "ICR-lo", 0x310: "ICR-hi", 0x380: "TMICT", 0x390: "TMCCT"}
MSR_NAMES = {0x80b: "x2apic EOI", 0x830: "x2apic ICR", 0x6e0: "TSC deadline", 0x838: "x2apic TMICT"}
IDE_PORTS = {0x1f0: "ide data", 0x1f7: "ide status/cmd", 0x3f6: "ide altstatus/ctl"}
LINE_RE = re.compile(r"^\s*.+?-(\d+)\s+\[\d+\]\s+\S+\s+(\d+\.\d+): (\w+): (.*)$")
EXIT_RE = re.compile(r"reason (.+?) rip")
MMIO_RE = re.compile(r"mmio (\S+) len \d+ gpa 0x([0-9a-f]+)")


def tracer():
    return bootattr.Tracer(65536, EVENTS)


def mmio_register(gpa):
    """A register name for an MMIO address: the local APIC's, else the
    e1000's by its offset in a 128 KiB BAR (other addresses show raw)."""
    if 0xfee00000 <= gpa < 0xfee01000:
        return "lapic " + LAPIC_REGS.get(gpa & 0xfff, "%#x" % (gpa & 0xfff))
    if 0xfec00000 <= gpa < 0xfec01000:
        return "ioapic %#x" % (gpa & 0xfff)
    off = gpa & 0x1ffff
    return "e1000 %s" % E1000_REGS[off] if off in E1000_REGS else "mmio %#x" % gpa


def port_name(port):
    if port in IDE_PORTS:
        return IDE_PORTS[port]
    if 0x1f0 <= port <= 0x1f7:
        return "ide taskfile"
    return bootattr.port_name(port)


def detail_of(event, text):
    if event == "kvm_mmio" and (m := MMIO_RE.search(text)) and "unsatisfied" not in m.group(1):
        return "mmio %s %s" % (m.group(1), mmio_register(int(m.group(2), 16)))
    if event == "kvm_msr" and (m := bootattr.MSR_RE.search(text)):
        msr = int(m.group(2), 16)
        return "msr_%s %s" % (m.group(1), MSR_NAMES.get(msr, "%#x" % msr))
    if event == "kvm_pio" and (m := bootattr.PIO_RE.search(text)):
        return "pio_%s %s" % (m.group(1), port_name(int(m.group(2), 16)))
    return None


def summarize(t):
    """{"exits": {reason: [n, seconds]}, "detail": {what: [n, seconds]}, "overruns": n}
    of everything in the tracer's buffer."""
    exits = collections.defaultdict(lambda: [0, 0.0])
    detail = collections.defaultdict(lambda: [0, 0.0])
    open_exit = {}   # vCPU thread -> [t, reason, detail]
    with open(t.root + "/trace") as f:
        for line in f:
            m = LINE_RE.match(line)
            if not m:
                continue
            tid, ts, event, text = m.group(1), float(m.group(2)), m.group(3), m.group(4)
            if event == "kvm_exit" and (e := EXIT_RE.search(text)):
                open_exit[tid] = [ts, e.group(1).replace(" ", "_"), None]
            elif event == "kvm_entry" and tid in open_exit:
                t0, reason, what = open_exit.pop(tid)
                for table, key in ((exits, reason), (detail, what)):
                    if key:
                        table[key][0] += 1
                        table[key][1] += ts - t0
            elif tid in open_exit and open_exit[tid][2] is None:
                open_exit[tid][2] = detail_of(event, text)
    return {"exits": dict(exits), "detail": dict(detail), "overruns": t.overruns()}


def table(summary, unit_count, unit_name, top=14):
    """Markdown: the busiest exit reasons and registers, counts and time
    per unit (per MB, per request, ...), and the mean time of one."""
    lines = []
    for title in ("exits", "detail"):
        rows = sorted(summary[title].items(), key=lambda kv: -kv[1][1])[:top]
        lines += ["| %s | per %s | ms per %s | µs each |" % (
                      "exit reason" if title == "exits" else "register / port / MSR", unit_name, unit_name),
                  "|---|---|---|---|"]
        for name, (n, secs) in rows:
            lines.append("| %s | %.2f | %.3f | %.1f |" % (
                name, n / unit_count, secs * 1e3 / unit_count, secs * 1e6 / n if n else 0))
        lines.append("")
    return "\n".join(lines)

"""Boot-time attribution: where the time of a Linux boot to init goes, per
phase, for each VMM, with the guest exits of each phase by reason.

Outer side (run.py): build_initrd() appends to the L2 base initramfs a
/scenario.sh that, right after the base /init printed KTEST-GUEST-START:
  - writes KBENCH-CLOCK to /dev/kmsg at KERN_ALERT, so the console prints it
    with the kernel's printk timestamp: the host notes when the line arrived,
    which puts the kernel's clock zero on the host's clock;
  - summarizes the kernel log (the boot runs with `initcall_debug
    log_buf_len=4M`, still `quiet`: nothing more goes to the console during
    boot) into KBENCH-T / KBENCH-INITCALL lines: initramfs unpacking, the
    first and last initcall, `Run /init`, the 20 slowest initcalls.

KVM-host side (measure.py, inside L1): every run is traced with L1's ftrace
(kvm:kvm_exit, kvm_pio, kvm_mmio, kvm_msr; trace_clock mono, the clock
vmrun's times are converted to). Phases, on the host's clock from exec:
  startup       exec -> first guest exit (the first guest instruction comes
                a few microseconds before it)
  firmware      -> last exit with RIP below 1 MiB (SeaBIOS, the linuxboot
                option ROM, the real-mode setup code; none for a VMM that
                enters the kernel's 64-bit entry itself)
  decompress    -> first exit with RIP in the kernel's virtual mapping (the
                compressed kernel: copying itself, decompressing, ELF
                placement, relocations)
  early kernel  -> the kernel's clock zero: the guest's first write of the
                kvmclock MSR (printk time 0: setup_arch registers kvmclock
                and starts sched_clock there)
  kernel init   -> `Run /init as init process` (printk time); within it:
                before the first initcall, the initcalls, initramfs
                unpacking (asynchronous, overlaps the initcalls)
  userspace     -> KTEST-GUEST-START on the serial console
Printk times are put on the host's clock by the line through two points:
clock zero (the kvmclock MSR write) and KBENCH-CLOCK (its printk time, and
when the host read it). The guest's clock need not run at the host's rate
in the nested host (L1's TSC under TCG); the rate is recorded per run.
"""

import os
import re
import statistics

import vmrun

ATTR_APPEND = "console=ttyS0 quiet panic=-1 initcall_debug log_buf_len=4M"
MARKERS = ["KTEST-GUEST-START", "KBENCH-CLOCK", "KBENCH-ATTR-DONE"]
FORBID = ["Kernel panic", "Oops", "BUG:"]
KERNEL_VIRT = 0xffffffff80000000
LOW_MIB = 0x100000
EVENTS = ("kvm:kvm_exit", "kvm:kvm_pio", "kvm:kvm_mmio", "kvm:kvm_msr")
PHASES = ("startup", "firmware", "decompress", "early_kernel", "kernel_init", "userspace")

# The guest's summary of its kernel log (busybox dmesg and awk). Times are
# printk seconds; initcall durations microseconds.
GUEST_SCRIPT = r"""# boot-time attribution (bench/bootattr.py)
echo "<1>KBENCH-CLOCK" > /dev/kmsg
dmesg > /tmp/kmsg
awk '
function t() { s = $0; sub(/^\[ */, "", s); sub(/\].*/, "", s); return s + 0 }
/Trying to unpack rootfs image as initramfs/ { print "KBENCH-T unpack_start " t() }
/Freeing initrd memory/ { print "KBENCH-T unpack_end " t() }
/Run .* as init process/ { print "KBENCH-T run_init " t() }
/Freeing unused kernel image/ && !fu { fu = 1; print "KBENCH-T free_initmem " t() }
/ calling  / && !fc { fc = 1; print "KBENCH-T first_initcall " t() }
/ initcall .* returned .* after .* usecs/ {
    last = t(); n++; us = $(NF - 1); sum += us
    name = $0; sub(/.* initcall /, "", name); sub(/\+.*/, "", name)
    print us, name > "/tmp/initcalls"
}
END { print "KBENCH-T last_initcall " last; print "KBENCH-INITCALLS " n " " sum }
' /tmp/kmsg
sort -rn /tmp/initcalls | head -20 | while read us name; do
    echo "KBENCH-INITCALL $us $name"
done
grep -E "tsc: |clocksource: Switched|Calibrating delay|x86/fpu: Enabled" /tmp/kmsg \
    | sed 's/^/KBENCH-KLOG /' | head -12
echo KBENCH-ATTR-DONE
"""


def build_initrd(out, base):
    """The base initramfs plus an archive with GUEST_SCRIPT as /scenario.sh."""
    import cpio  # tests/guest, on the path in run.py
    archive = cpio.CpioWriter()
    archive.add_file("scenario.sh", GUEST_SCRIPT.encode(), 0o755)
    with open(base, "rb") as f:
        data = f.read()
    with open(out, "wb") as f:
        f.write(data + archive.gzip_bytes())
    return out


# --- L1 ftrace ---

class Tracer:
    def __init__(self, buffer_kib=131072, events=EVENTS):
        self.root = next((d for d in ("/sys/kernel/tracing", "/sys/kernel/debug/tracing")
                          if os.path.exists(os.path.join(d, "trace"))), None)
        if self.root is None:
            os.system("mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null")
            if os.path.exists("/sys/kernel/tracing/trace"):
                self.root = "/sys/kernel/tracing"
        if self.root:
            self.put("tracing_on", "0")
            self.put("trace_clock", "mono")
            self.put("buffer_size_kb", str(buffer_kib))
            self.put("set_event", "\n".join(events))

    def put(self, name, value):
        with open(os.path.join(self.root, name), "w") as f:
            f.write(value + "\n")

    def start(self):
        self.put("trace", "")
        self.put("tracing_on", "1")

    def stop(self):
        self.put("tracing_on", "0")

    def overruns(self):
        total = 0
        for cpu in os.listdir(os.path.join(self.root, "per_cpu")):
            with open(os.path.join(self.root, "per_cpu", cpu, "stats")) as f:
                m = re.search(r"overrun: (\d+)", f.read())
                total += int(m.group(1)) if m else 0
        return total

    def events(self):
        """(mono seconds, event, text) of every line in the buffer."""
        line_re = re.compile(r"^\s*.+?-\d+\s+\[\d+\]\s+\S+\s+(\d+\.\d+): (\w+): (.*)$")
        with open(os.path.join(self.root, "trace")) as f:
            for line in f:
                m = line_re.match(line)
                if m:
                    yield float(m.group(1)), m.group(2), m.group(3)


# SVM names exception exits with a space ("PF excp": a shadow-paging fault
# when L1 runs with npt=0); they count as "PF_excp", with the faulting
# guest address (info2) named by region.
EXIT_RE = re.compile(r"reason (.+?) rip 0x([0-9a-f]+)(?: info1 0x[0-9a-f]+ info2 0x([0-9a-f]+))?")
PIO_RE = re.compile(r"pio_(read|write) at 0x([0-9a-f]+)")
MMIO_RE = re.compile(r"mmio (\S+) len \d+ gpa 0x([0-9a-f]+)")
MSR_RE = re.compile(r"msr_(read|write) ([0-9a-f]+)")
KVMCLOCK_MSRS = ("4b564d01", "12")   # MSR_KVM_SYSTEM_TIME_NEW, MSR_KVM_SYSTEM_TIME
PORTS = [(0x3f8, 0x3ff, "serial"), (0x70, 0x71, "rtc"), (0x40, 0x43, "pit"),
         (0x60, 0x60, "i8042"), (0x64, 0x64, "i8042"), (0xcf8, 0xcff, "pci-config"),
         (0x510, 0x51b, "fw_cfg"), (0x80, 0x80, "port80"), (0x20, 0x21, "pic"),
         (0xa0, 0xa1, "pic"), (0x4d0, 0x4d1, "elcr"), (0x92, 0x92, "a20"),
         (0x61, 0x61, "port61"), (0x600, 0x63f, "acpi-pm"), (0xb000, 0xb03f, "acpi-pm"),
         (0x1ce, 0x1cf, "vbe"), (0x402, 0x402, "debugcon"), (0xae00, 0xae1f, "acpi-hotplug")]


def port_name(port):
    for lo, hi, name in PORTS:
        if lo <= port <= hi:
            return name
    return "port %#x" % port


def mmio_name(gpa):
    if 0xfee00000 <= gpa < 0xfee01000:
        return "lapic"
    if 0xfec00000 <= gpa < 0xfec01000:
        return "ioapic"
    if 0xfed00000 <= gpa < 0xfed01000:
        return "hpet"
    return "mmio %#x" % (gpa & ~0xfff)


def fault_region(addr):
    """Where a guest page fault hit: user space, the kernel image's mapping,
    or the rest of the kernel half (direct map, vmalloc, vmemmap)."""
    if addr < 1 << 47:
        return "user"
    return "kernel-image" if addr >= KERNEL_VIRT else "kernel-data"


def pci_config_address(val):
    """'bus B' of a value written to the PCI config address port 0xcf8."""
    return "bus %d" % ((val >> 16) & 0xff) if val & 0x80000000 else "disabled"


def read_trace(tracer):
    """The exits in time order: (t, reason, rip, detail) where detail names
    the port, MMIO region or MSR of an I/O, MMIO or MSR exit, and the
    {address: count} of PCI config addresses written to 0xcf8 (by phase,
    later)."""
    exits, pending = [], None
    for t, event, text in tracer.events():
        if event == "kvm_exit":
            m = EXIT_RE.search(text)
            if m:
                reason = m.group(1).replace(" ", "_")
                detail = None
                addr = int(m.group(3), 16) if reason == "PF_excp" and m.group(3) else None
                if addr is not None:
                    detail = fault_region(addr)
                pending = [t, reason, int(m.group(2), 16), detail, addr]
                exits.append(pending)
        elif pending is not None and pending[3] is None:
            if event == "kvm_pio" and (m := PIO_RE.search(text)):
                port = int(m.group(2), 16)
                pending[3] = port_name(port)
                val = re.search(r"val 0x([0-9a-f]+)", text)
                if port == 0xcf8 and m.group(1) == "write" and val:
                    pending[3] += " " + pci_config_address(int(val.group(1), 16))
            elif event == "kvm_mmio" and (m := MMIO_RE.search(text)):
                pending[3] = mmio_name(int(m.group(2), 16))
            elif event == "kvm_msr" and (m := MSR_RE.search(text)):
                pending[3] = "msr %s" % m.group(2)
    return exits


# --- one run ---

def guest_times(text):
    times = {m.group(1): float(m.group(2))
             for m in re.finditer(r"KBENCH-T (\w+) ([0-9.]+)", text)}
    clock = re.search(r"\[\s*([0-9.]+)\] KBENCH-CLOCK", text)
    initcalls = [(int(m.group(1)), m.group(2))
                 for m in re.finditer(r"KBENCH-INITCALL (\d+) (\S+)", text)]
    total = re.search(r"KBENCH-INITCALLS (\d+) (\d+)", text)
    klog = [m.group(1).strip() for m in re.finditer(r"KBENCH-KLOG (.*)", text)]
    return times, (float(clock.group(1)) if clock else None), initcalls, total, klog


def kvmclock_start(exits, t_exec):
    """The kernel's first kvmclock MSR write (SeaBIOS writes it too, earlier:
    only writes from the kernel's virtual mapping count)."""
    msrs = ["msr %s" % m for m in KVMCLOCK_MSRS]
    return next((e[0] - t_exec for e in exits
                 if e[1] == "msr" and e[3] in msrs and e[2] >= KERNEL_VIRT), None)


def boundaries(exits, t_exec, clock_zero, guest, init_marker):
    """Phase ends on the host's clock (seconds after exec); clock_zero(T)
    maps a printk time to it."""
    first = exits[0][0] - t_exec if exits else None
    kernel = next((e[0] - t_exec for e in exits if e[2] >= KERNEL_VIRT), None)
    low = [e[0] - t_exec for e in exits
           if e[2] < LOW_MIB and (kernel is None or e[0] - t_exec < kernel)]
    firmware = max(low) if low else first
    run_init = clock_zero(guest["run_init"]) if "run_init" in guest else None
    return {"startup": first, "firmware": firmware, "decompress": kernel,
            "early_kernel": clock_zero(0.0), "kernel_init": run_init,
            "userspace": init_marker}


def exits_by_phase(exits, t_exec, ends):
    """{phase: {reason or reason/detail: count}} for the phases whose ends
    are known."""
    out = {p: {} for p in PHASES}
    bounds = [(p, ends[p]) for p in PHASES if ends.get(p) is not None]
    for t, reason, _rip, detail, _addr in exits:
        rel = t - t_exec
        phase = next((p for p, end in bounds if rel <= end), None)
        if phase is None:
            continue
        key = reason + ("/" + detail if detail else "")
        out[phase][key] = out[phase].get(key, 0) + 1
    return out


def attr_run(vmm, smp, kernel, initrd, timeout, logfile, tracer):
    argv = vmm + ["-m", "512", "-smp", str(smp), "-nodefaults", "-display", "none",
                  "-serial", "stdio", "-no-reboot", "-kernel", kernel,
                  "-initrd", initrd, "-append", ATTR_APPEND]
    tracer.start()
    r = vmrun.run(argv, timeout=timeout, markers=MARKERS)
    tracer.stop()
    with open(logfile, "wb") as f:
        f.write(r.stdout + b"\n--- stderr\n" + r.stderr.encode())
    text = r.stdout.decode(errors="replace")
    guest, clock_t, initcalls, total, klog = guest_times(text)
    problems = ["missing %r" % m for m in MARKERS if m not in r.markers]
    problems += ["saw %r" % f for f in FORBID if f in text]
    if r.status != 0:
        problems.append("exit status %s" % r.status)
    d = r.to_json(keep_stdout=bool(problems))
    d.update(problems=problems, initcalls_top=initcalls, klog=klog, guest=guest,
             initcalls_count=int(total.group(1)) if total else None,
             initcalls_us=int(total.group(2)) if total else None, log=logfile)
    if problems or clock_t is None:
        d["ok"] = False
        return d
    t_exec = r.t0_mono
    exits = read_trace(tracer)
    with open(logfile + ".exits.tsv", "w") as f:   # for a closer look by hand
        f.writelines("%.6f\t%s\t%x\t%s\t%s\n" % (e[0] - t_exec, e[1], e[2], e[3] or "",
                                                    "%x" % e[4] if e[4] is not None else "")
                     for e in exits)
    zero = kvmclock_start(exits, t_exec)
    mark = r.markers["KBENCH-CLOCK"]
    if zero is None:   # no kvmclock: assume the guest's clock runs at the host's rate
        zero = mark - clock_t
    rate = (mark - zero) / clock_t   # host seconds per guest second
    ends = boundaries(exits, t_exec, lambda t: zero + t * rate, guest,
                      r.markers["KTEST-GUEST-START"])
    d.update(ok=all(ends[p] is not None for p in PHASES), ends=ends,
             exits=exits_by_phase(exits, t_exec, ends), trace_exits=len(exits),
             trace_overruns=tracer.overruns(), clock_zero_s=zero, clock_rate=rate)
    if not d["ok"]:
        d["problems"].append("phase ends not found: %s" % ends)
    return d


def durations(d):
    """{phase: seconds} from a run's phase ends, plus sub-phases of kernel
    init on the kernel's clock."""
    ends, out, prev = d["ends"], {}, 0.0
    for p in PHASES:
        out[p] = ends[p] - prev
        prev = ends[p]
    g = d["guest"]
    rate = d.get("clock_rate", 1.0)
    if "first_initcall" in g:
        out["ki_before_initcalls"] = g["first_initcall"] * rate
    if "first_initcall" in g and "last_initcall" in g:
        out["ki_initcalls"] = (g["last_initcall"] - g["first_initcall"]) * rate
    if "last_initcall" in g and "run_init" in g:
        out["ki_after_initcalls"] = (g["run_init"] - g["last_initcall"]) * rate
    if "unpack_start" in g and "unpack_end" in g:
        out["initramfs_unpack"] = (g["unpack_end"] - g["unpack_start"]) * rate
    out["total"] = ends["userspace"]
    return out


def attribution(vmms, smp, runs, kernel, initrd, logdir, timeout, log):
    tracer = Tracer()
    if tracer.root is None:
        log("attribution: no tracefs in the KVM host; skipped")
        return {}
    data = {name: [] for name in vmms}
    for i in range(runs):
        for name, vmm in vmms.items():
            logfile = os.path.join(logdir, "attr-smp%d-%s-%d.log" % (smp, name, i + 1))
            d = attr_run(vmm, smp, kernel, initrd, timeout, logfile, tracer)
            data[name].append(d)
            if d["ok"]:
                dur = durations(d)
                log("attr smp%d %d/%d %-7s %s  exits %d (overruns %d) clock rate %.3f" % (
                    smp, i + 1, runs, name, " ".join("%s %.2f" % (p, dur[p]) for p in PHASES),
                    d["trace_exits"], d["trace_overruns"], d["clock_rate"]))
            else:
                log("attr smp%d %d/%d %-7s FAILED: %s" % (smp, i + 1, runs, name,
                                                          "; ".join(d["problems"])))
    return data


def median_durations(runs):
    ok = [durations(r) for r in runs if r.get("ok")]
    keys = sorted({k for d in ok for k in d})
    return {k: statistics.median([d[k] for d in ok if k in d]) for k in keys}

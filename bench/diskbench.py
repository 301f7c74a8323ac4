"""Disk speed phase of measure.py: fio in the guest on a virtio-blk disk.

One run = one boot of the fio initrd (bench/fio_initrd.py) with a raw image
as `-drive file=IMG,if=virtio,format=raw,cache=none,aio=AIO`; the guest runs
every chosen fio job (fio_initrd.JOBS) on /dev/vda and prints their JSON. Per job
we keep fio's IOPS, MiB/s and request count, and the host CPU time
(user+sys) the VMM process spent between the job's start and end markers on
the serial console (printed by fio itself just before its first and after
its last request), sampled from /proc/PID/stat by a thread every SAMPLE_S
seconds and interpolated at the marker times. Linux counts the time a vCPU
thread spends in the guest as user time too; it is kept apart (guest_s), so
vmm_us_per_io is the VMM's own cost without the guest's.
"""

import base64
import gzip
import json
import os
import re
import subprocess
import threading
import time

import exit_trace
import vmrun

APPEND = "console=ttyS0 quiet panic=-1"
FORBID = ["Kernel panic", "Oops", "BUG:", "Initramfs unpacking failed"]
SAMPLE_S = 0.1
TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")
IMAGE_SIZE = 1 << 30


def prepare_image(path, size=IMAGE_SIZE):
    """A preallocated raw image whose blocks are all written (an unwritten
    ext4 extent reads as zeros without any device I/O, and the first write
    jobs would change that half-way through the benchmark)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.posix_fallocate(fd, 0, size)
        chunk = bytes(range(256)) * (8 << 20 >> 8)
        for off in range(0, size, len(chunk)):
            os.pwrite(fd, chunk[:size - off], off)
        os.fsync(fd)
        os.posix_fadvise(fd, 0, size, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
    return path


def start_marker(job):
    return "KBENCH-FIO-START %s ." % job


def end_marker(job):
    return "KBENCH-FIO-END %s ." % job


def vmm_child(helper_pid):
    """The VMM: the only child of rusage_exec."""
    try:
        with open("/proc/%d/task/%d/children" % (helper_pid, helper_pid)) as f:
            kids = f.read().split()
    except OSError:
        return None
    return int(kids[0]) if kids else None


# L1 KVM's counters over all vCPUs (debugfs; measure.py mounts it): every
# exit of the guest, MMIO and port-I/O exits (device registers, queue
# notifications), interrupts injected, HLTs.
EXIT_STATS = ("exits", "mmio_exits", "io_exits", "irq_injections", "halt_exits")
# The shadow MMU's work (L1 runs kvm_amd with npt=0): guest page faults
# fixed, shadow pages zapped, recycled when over the limit, unsynced, TLB
# flushes. Absent counters read as 0.
MMU_STATS = ("pf_fixed", "pf_guest", "mmu_shadow_zapped", "mmu_pte_write", "mmu_pde_zapped",
             "mmu_flooded", "mmu_recycled", "mmu_cache_miss", "mmu_unsync", "remote_tlb_flush", "tlb_flush")
KVM_STATS = EXIT_STATS + MMU_STATS
KVM_DEBUGFS = "/sys/kernel/debug/kvm"


def mount_kvm_debugfs():
    """KVM's exit counters live in debugfs; False when it cannot be had."""
    if not os.path.isdir(KVM_DEBUGFS):
        subprocess.run(["mount", "-t", "debugfs", "none", "/sys/kernel/debug"],
                       stderr=subprocess.DEVNULL)
    return os.path.isdir(KVM_DEBUGFS)


def kvm_counters():
    values = []
    for name in KVM_STATS:
        try:
            with open(os.path.join(KVM_DEBUGFS, name)) as f:
                values.append(int(f.read()))
        except (OSError, ValueError):
            if name in EXIT_STATS:
                return ()
            values.append(0)
    return tuple(values)


def cpu_ticks(pid):
    """(user, sys, guest) clock ticks of the whole process (all its threads,
    the kernel's io_uring workers included); user includes guest."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[11]), int(fields[12]), int(fields[40])


class CpuSampler(threading.Thread):
    """Samples the CPU time of the VMM that vmrun.run is running, as
    (seconds after exec, (user s, sys s, guest s, *KVM_STATS)) on vmrun's
    clock (the KVM counters only where debugfs has them)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples = []
        self.threads = {}  # "tid comm" -> [utime s, stime s], the last seen
        self.done = threading.Event()

    def run(self):
        pid = None
        while not self.done.is_set():
            cur = dict(vmrun.CURRENT)
            if cur:
                pid = pid or vmm_child(cur["pid"])
                ticks = cpu_ticks(pid) if pid else None
                if ticks:
                    self.samples.append((time.perf_counter() - cur["t0"],
                                         tuple(x * TICK_S for x in ticks) + kvm_counters()))
                    self.sample_threads(pid)
            self.done.wait(SAMPLE_S if pid else 0.005)

    def sample_threads(self, pid):
        """Each thread's own CPU (io_uring workers come and go: keep the last seen)."""
        try:
            tids = os.listdir("/proc/%d/task" % pid)
        except OSError:
            return
        for tid in tids:
            try:
                with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                    stat = f.read()
            except OSError:
                continue
            comm = stat[stat.index("(") + 1:stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2:].split()
            self.threads["%s %s" % (tid, comm)] = [int(fields[11]) * TICK_S, int(fields[12]) * TICK_S]

    def at(self, t):
        """(user, sys, guest, *KVM_STATS) at time t, interpolated; None
        outside the samples."""
        s = self.samples
        for (t0, c0), (t1, c1) in zip(s, s[1:]):
            if t0 <= t <= t1:
                k = (t - t0) / (t1 - t0) if t1 > t0 else 0.0
                return tuple(a + k * (b - a) for a, b in zip(c0, c1))
        return None


def guest_irqs(text):
    """{job: virtio interrupts the guest took during it}."""
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r"KBENCH-FIO-IRQS (\S+) (-?\d+)", text)}


def per_io_counts(d, a, b, irqs):
    """Guest interrupts and L1 KVM counters per request."""
    if irqs is not None:
        d["irqs_per_io"] = irqs / d["ios"]
    if len(a) == 3 + len(KVM_STATS) and len(b) == len(a):
        for i, name in enumerate(KVM_STATS):
            d[name + "_per_io"] = (b[3 + i] - a[3 + i]) / d["ios"]


def fio_outputs(text):
    """{job: (fio exit status, parsed JSON or None)} from the serial text."""
    out = {}
    for m in re.finditer(r"KBENCH-FIO-JSON (\S+) (\d+)\r?\n(.*?)KBENCH-FIO-JSON-END \1",
                         text, re.S):
        try:
            raw = gzip.decompress(base64.b64decode("".join(m.group(3).split())))
            out[m.group(1)] = (int(m.group(2)), json.loads(raw))
        except (ValueError, OSError, EOFError):
            out[m.group(1)] = (int(m.group(2)), None)
    return out


def job_result(job, fio, markers, sampler, irqs=None):
    """Numbers of one fio job, with ok and the problems found."""
    status, data = fio.get(job, (None, None))
    t_start, t_end = markers.get(start_marker(job)), markers.get(end_marker(job))
    d = {"ok": False, "fio_status": status}
    if data is None or not data.get("jobs"):
        d["problems"] = ["no fio output" if status is None else
                         "fio exit status %s, no JSON" % status]
        return d
    j = data["jobs"][0]
    rw = [j[k] for k in ("read", "write")]
    d.update(iops=sum(x["iops"] for x in rw), ios=sum(x["total_ios"] for x in rw),
             mib_s=sum(x["bw_bytes"] for x in rw) / (1 << 20),
             runtime_s=j["job_runtime"] / 1e3, fio_error=j["error"],
             lat_us=max(x["lat_ns"]["mean"] for x in rw) / 1e3,
             guest_cpu_pct=j["usr_cpu"] + j["sys_cpu"])
    a = sampler.at(t_start) if t_start is not None else None
    b = sampler.at(t_end) if t_end is not None else None
    problems = []
    if status != 0 or j["error"]:
        problems.append("fio exit status %s, error %s" % (status, j["error"]))
    if t_start is None or t_end is None:
        problems.append("no start/end marker on the serial console")
    elif a is None or b is None:
        problems.append("no CPU samples around the job's markers")
    elif d["ios"]:
        d.update(window_s=t_end - t_start, user_s=b[0] - a[0], sys_s=b[1] - a[1],
                 guest_s=b[2] - a[2])
        d["cpu_s"] = d["user_s"] + d["sys_s"]
        d["cpu_us_per_io"] = d["cpu_s"] * 1e6 / d["ios"]
        d["vmm_us_per_io"] = (d["cpu_s"] - d["guest_s"]) * 1e6 / d["ios"]
        per_io_counts(d, a, b, irqs)
    if not d["ios"]:
        problems.append("no requests completed")
    d.update(ok=not problems, problems=problems)
    return d


def prepare_qcow2(raw, path, empty):
    """--disk-format qcow2: the filled raw image converted to a qcow2 image
    with every cluster allocated (preallocation=metadata); qcow2-empty: a
    new, empty qcow2 image that grows under the guest's writes."""
    if os.path.exists(path):
        os.unlink(path)
    if empty:
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", path, str(IMAGE_SIZE)], check=True)
    else:
        subprocess.run(["qemu-img", "convert", "-O", "qcow2", "-o", "preallocation=metadata", raw, path],
                       check=True)
    return path


def host_vmstat():
    """The test host's counters that show memory compaction and THP work."""
    keep = ("compact_", "thp_", "allocstall", "pgmajfault", "pgsteal", "pgscan", "ksm")
    out = {}
    with open("/proc/vmstat") as f:
        for line in f:
            name, value = line.split()
            if name.startswith(keep):
                out[name] = int(value)
    return out


class JobTrace:
    """--disk-trace JOB: L1's exits during that job (bench/exit_trace.py),
    traced from its start marker to its end marker."""

    def __init__(self, job):
        self.job, self.summary = job, None
        self.tracer = exit_trace.tracer() if job else None

    def on_marker(self, marker):
        if not self.tracer or not self.tracer.root:
            return
        if marker == start_marker(self.job):
            self.tracer.start()
        elif marker == end_marker(self.job):
            self.tracer.stop()
            self.summary = exit_trace.summarize(self.tracer)

    def attach(self, jobs, logfile):
        j = jobs.get(self.job)
        if self.summary and j and j.get("ios"):
            j["trace"] = self.summary
            with open(logfile, "a") as f:
                f.write("--- L1 exits during %s, per request\n%s\n"
                        % (self.job, exit_trace.table(self.summary, j["ios"], "request")))


def disk_run(vmm, cfg, logfile):
    """cfg: kernel, initrd, image, format, aio, mem, timeout, jobs, interface
    (virtio, ide, or cd: the image as the medium of an IDE CD-ROM)."""
    image, fmt = cfg["image"], "raw"
    if cfg.get("format", "raw") != "raw":
        fmt = "qcow2"
        image = cfg["image"] + ".qcow2"
        if cfg["format"] == "qcow2-empty":  # every run starts from an empty image
            prepare_qcow2(cfg["image"], image, True)
    interface = cfg.get("interface", "virtio")
    drive = "file=%s,if=%s,format=%s,cache=none,aio=%s" % (
        image, "ide,media=cdrom" if interface == "cd" else interface, fmt, cfg["aio"])
    append = APPEND + (" kbench_disk=" + interface if interface != "virtio" else "")
    argv = vmm + ["-m", str(cfg["mem"]), "-smp", "1", "-nodefaults", "-display", "none",
                  "-serial", "stdio", "-no-reboot", "-kernel", cfg["kernel"],
                  "-initrd", cfg["initrd"], "-append", append, "-drive", drive]
    markers = ["KTEST-GUEST-START", "KBENCH-FIO-DONE"]
    for job in cfg["jobs"]:
        markers += [start_marker(job), end_marker(job)]
    sampler = CpuSampler()
    sampler.start()
    vm_before = host_vmstat()
    trace = JobTrace(cfg.get("trace_job"))
    try:
        r = vmrun.run(argv, timeout=cfg["timeout"], markers=markers, on_marker=trace.on_marker)
    finally:
        sampler.done.set()
        sampler.join()
    vm_delta = {k: v - vm_before.get(k, 0) for k, v in host_vmstat().items() if v != vm_before.get(k, 0)}
    with open(logfile, "wb") as f:
        f.write(r.stdout + b"\n--- stderr\n" + r.stderr.encode())
        f.write(("\n--- host /proc/vmstat during the run (compaction, THP, reclaim)\n%s\n"
                 % json.dumps(vm_delta, sort_keys=True)).encode())
        busy = {k: v for k, v in sampler.threads.items() if v[0] + v[1] >= 0.2}
        f.write(("--- VMM threads with >= 0.2 s CPU [user s, sys s]\n%s\n"
                 % json.dumps(busy, sort_keys=True)).encode())
    text = r.stdout.decode(errors="replace")
    fio = fio_outputs(text)
    irqs = guest_irqs(text)
    jobs = {job: job_result(job, fio, r.markers, sampler, irqs.get(job))
            for job in cfg["jobs"]}
    trace.attach(jobs, logfile)
    problems = ["saw %r" % f for f in FORBID if f in text]
    if r.status != 0:
        problems.append("exit status %s" % r.status)
    if "KBENCH-FIO-NO-DISK" in text:
        problems.append("the guest found no /dev/vda")
    if "KBENCH-FIO-DONE" not in r.markers:
        problems.append("fio jobs did not finish")
    if fio:
        problems += ["%s: %s" % (job, "; ".join(j["problems"]))
                     for job, j in jobs.items() if not j["ok"]]
    else:
        problems.append("no fio output")
    d = r.to_json(keep_stdout=bool(problems))
    d.update(ok=not problems, problems=problems, jobs=jobs, log=logfile,
             cpu_samples=len(sampler.samples))
    return d


def summary(d):
    if not d["ok"]:
        return "FAILED: " + "; ".join(d["problems"])[:300]
    return "  ".join("%s %.0f IOPS %.0f us/io" % (job.replace("-", ""), j["iops"],
                                                  j.get("cpu_us_per_io", 0))
                     for job, j in d["jobs"].items())


def disk(vmms, runs, cfg, logdir, log):
    """Interleaved rounds kestrel, QEMU, ...; returns {vmm: [run, ...]}."""
    data = {name: [] for name in vmms}
    log("disk: filling %s (%d MiB)" % (cfg["image"], IMAGE_SIZE >> 20))
    prepare_image(cfg["image"])
    if cfg.get("format") == "qcow2":
        log("disk: converting it to a preallocated qcow2 image")
        prepare_qcow2(cfg["image"], cfg["image"] + ".qcow2", False)
    for i in range(runs):
        for name, vmm in vmms.items():
            logfile = os.path.join(logdir, "disk-%s-%d.log" % (name, i + 1))
            d = disk_run(vmm, cfg, logfile)
            data[name].append(d)
            log("disk %d/%d %-7s exit %6.1f s  cpu %6.1f s  %s"
                % (i + 1, runs, name, d["wall_s"], d["cpu_s"], summary(d)))
    os.unlink(cfg["image"])
    if os.path.exists(cfg["image"] + ".qcow2"):
        os.unlink(cfg["image"] + ".qcow2")
    return data

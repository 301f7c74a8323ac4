"""The "virtio-blk: fio in the guest" section of report.py (data from
bench/diskbench.py: {vmm: [run, ...], "settings": {...}})."""

import statistics

NAMES = ("kestrel", "qemu")


def job_values(runs, job, key):
    return [r["jobs"][job][key] for r in runs
            if r.get("jobs", {}).get(job, {}).get("ok") and r["jobs"][job].get(key) is not None]


def med(runs, job, key):
    vals = job_values(runs, job, key)
    return statistics.median(vals) if vals else None


def cell(runs, job, key, fmt, with_range=True):
    vals = job_values(runs, job, key)
    if not vals:
        return "–"
    text = fmt % statistics.median(vals)
    if with_range and len(vals) > 1:
        text += (" (" + fmt + "–" + fmt + ")") % (min(vals), max(vals))
    return text


def ratio(data, job, key):
    a, b = med(data.get("kestrel", []), job, key), med(data.get("qemu", []), job, key)
    return "%.2f" % (a / b) if a is not None and b else "–"


def count(data):
    return ", ".join("%s %d/%d runs ok" % (n, sum(1 for r in data[n] if r.get("ok")),
                                           len(data[n])) for n in NAMES if n in data)


def failures(data):
    out = []
    for n in NAMES:
        for i, r in enumerate(data.get(n, [])):
            if not r.get("ok"):
                err = r.get("stderr", "").strip().splitlines()[-2:]
                out.append("- disk run %d of %s failed: %s (exit status %s after %.1f s)%s" % (
                    i + 1, n, "; ".join(r.get("problems", []))[:400], r["status"],
                    r["wall_s"], ("; stderr: `%s`" % " / ".join(err)) if err else ""))
    return out


def image_text(s):
    """What the disk was (settings of diskbench: format raw, qcow2, qcow2-empty)."""
    mib = s.get("image_mib", "?")
    return {
        "qcow2": "a %s MiB qcow2 image with every cluster allocated (qemu-img convert -o "
                 "preallocation=metadata of the filled raw image)," % mib,
        "qcow2-empty": "an empty %s MiB qcow2 image, made anew before each run, growing under "
                       "fio's writes (read jobs read unallocated clusters)," % mib,
    }.get(s.get("format", "raw"), "a %s MiB raw image, preallocated and written," % mib)


def section(data):
    s = data.get("settings", {})
    jobs = list(s.get("jobs") or next(
        (r["jobs"] for n in NAMES for r in data.get(n, []) if r.get("jobs")), {}))
    interface = s.get("interface", "virtio")
    title, dev, drive_if = {
        "ide": ("IDE (PIIX3, Linux's ata_piix)", "/dev/sda", "ide"),
        "cd": ("ATAPI CD-ROM (PIIX3 IDE, Linux's ata_piix + sr_mod)", "/dev/sr0", "ide,media=cdrom"),
    }.get(interface, ("virtio-blk", "/dev/vda", "virtio"))
    lines = ["### %s: fio in the guest" % title, "",
             "fio (%s engine, direct=1, time_based %s s per job) on the guest's %s: "
             "%s on the test host's /tmp (ext4), "
             "`-drive file=IMG,if=%s,format=%s,cache=none,aio=%s`, `-m %s -smp 1`; "
             "one boot runs all jobs; %s. CPU/request: user+sys of the VMM process "
             "between the job's start and end markers on the serial console (/proc "
             "sampled every 0.1 s), divided by the requests fio completed. Cells: median "
             "(min–max)." % (s.get("engine", "?"), s.get("seconds", "?"),
                             dev, image_text(s), drive_if,
                             "raw" if s.get("format", "raw") == "raw" else "qcow2", s.get("aio", "?"),
                             s.get("mem", "?"), count(data)), "",
             "#### Throughput", "",
             "| job | IOPS kestrel | IOPS QEMU | IOPS kestrel/QEMU | MiB/s kestrel "
             "| MiB/s QEMU | goal |", "|---|---|---|---|---|---|---|"]
    k, q = data.get("kestrel", []), data.get("qemu", [])
    for job in jobs:
        lines.append("| %s | %s | %s | %s | %s | %s | %s |" % (
            job, cell(k, job, "iops", "%.0f"), cell(q, job, "iops", "%.0f"),
            ratio(data, job, "iops"), cell(k, job, "mib_s", "%.1f", False),
            cell(q, job, "mib_s", "%.1f", False),
            "≥ 1.2× QEMU" if job.endswith("qd32") else ""))
    lines += ["", "#### Host CPU time per request (µs)", "",
              "Total: user+sys of the VMM process. Without guest: the same minus the "
              "time its vCPU threads ran the guest (Linux counts that as user time; "
              "/proc/PID/stat guest_time), i.e. the VMM's and the host kernel's own work.",
              "",
              "| job | total kestrel | total QEMU | kestrel/QEMU | without guest kestrel "
              "| without guest QEMU | kestrel/QEMU | goal |", "|---|---|---|---|---|---|---|---|"]
    for job in jobs:
        lines.append("| %s | %s | %s | %s | %s | %s | %s | lower than QEMU |" % (
            job, cell(k, job, "cpu_us_per_io", "%.0f"), cell(q, job, "cpu_us_per_io", "%.0f"),
            ratio(data, job, "cpu_us_per_io"), cell(k, job, "vmm_us_per_io", "%.0f"),
            cell(q, job, "vmm_us_per_io", "%.0f"), ratio(data, job, "vmm_us_per_io")))
    return lines + exit_table(data, jobs) + [""] + failures(data) + [""]


# (key, heading) of the per-request counts diskbench records
COUNTS = (("exits_per_io", "guest exits"), ("mmio_exits_per_io", "MMIO exits"),
          ("io_exits_per_io", "port I/O exits"), ("halt_exits_per_io", "HLT exits"),
          ("irq_injections_per_io", "interrupts injected"),
          ("irqs_per_io", "disk interrupts in the guest"))


def exit_table(data, jobs):
    """Per request: L1 KVM's counters and the guest's virtio interrupts,
    kestrel / QEMU medians (runs without them: no table)."""
    k, q = data.get("kestrel", []), data.get("qemu", [])
    if not any(med(k + q, job, "exits_per_io") is not None for job in jobs):
        return []
    lines = ["", "#### Guest exits and interrupts per request (kestrel / QEMU)", "",
             "L1 KVM's counters (debugfs, all vCPUs) between the job's markers, and the "
             "disk (virtio or ata_piix) interrupts the guest counted in /proc/interrupts during the job, each "
             "divided by the requests fio completed. Medians.", "",
             "| job | " + " | ".join(h for _, h in COUNTS) + " |",
             "|---" * (len(COUNTS) + 1) + "|"]
    for job in jobs:
        cells = []
        for key, _ in COUNTS:
            a, b = med(k, job, key), med(q, job, key)
            cells.append("%s / %s" % ("–" if a is None else "%.2f" % a,
                                      "–" if b is None else "%.2f" % b))
        lines.append("| %s | %s |" % (job, " | ".join(cells)))
    return lines

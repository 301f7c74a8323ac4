#!/usr/bin/env python3
"""A libvirt domain's start, memory and destroy: kestrel against QEMU 7.2
as <emulator> of the same domain XML (issue 17's measure; see
bench/README.md, "libvirt").

In the nested test host a private libvirtd (tests/libvirt/libvirtd.py)
runs two domains as virt-install writes them, each with its serial port
on a file:
  kernel    tests/libvirt/linux_guest_test.py's domain: direct kernel boot
            (Debian's kernel, the l2 initramfs with linux_guest.sh), virtio
            disk and NIC (bridge), VNC + VGA, USB tablet, balloon; the
            kernel command line without `quiet`, so the kernel talks at once;
  kernel-cache  the same, with <qemu:env> giving the emulator
            KESTREL_KERNEL_CACHE (a kernel cache that outlives the domain;
            QEMU ignores it);
  kernel-cold  the `kernel` XML unchanged, with /var/cache/kestrel removed
            before every start: each kestrel start is the first of this
            kernel on this host (a cache miss: it decompresses the kernel);
  firmware  tests/libvirt/firmware_guest.py's domain: SeaBIOS boots
            EXTLINUX from the virtio disk (its banner on COM1 is the first
            output), EXTLINUX the same kernel and initramfs.
Per run: `virsh start` → first byte on the serial port, → the guest's
command loop (KTEST-LIBVIRT-READY); then the process's RSS with the guest
idle, and its overhead: RSS minus the resident part of the guest-RAM
mapping(s); then `virsh destroy` → the process gone. kestrel and QEMU
interleave, one process at a time, in ONE test-host boot.

Under libvirt the emulator's XDG_CACHE_HOME is the domain's own directory,
created for each start and removed at its end; kestrel run as root (the
domains run as root here) makes the shared folder /var/cache/kestrel/kernels
and fills it at its first start (a warm-up), which later starts boot from.

usage: libvirt_bench.py [--runs 5] [--warmups 1] [--configs kernel,kernel-cold,kernel-cache,firmware]
                        [--kestrel BIN] [--kestrel-before BIN] [--json OUT]
--kestrel-before: a second kestrel binary (e.g. the base of a change),
interleaved with the other two in the same test-host boot.
Prints a markdown section for bench/RESULTS.md. Each measured process's
smaps, status and threads are saved beside the raw runs as
CONFIG-VMM-runN.smaps.json (bench/smaps_attribution.py reads them).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import smaps_attribution

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
for sub in ("tests/libvirt", "tests/guest", "tests/kvmhost"):
    sys.path.insert(0, os.path.join(REPO, sub))

SERIAL_FILE = """    <serial type='file'>
      <source path='{path}'/>
      <target type='isa-serial' port='0'>
        <model name='isa-serial'/>
      </target>
    </serial>
    <console type='file'>
      <source path='{path}'/>
      <target type='serial' port='0'/>
    </console>
"""
READY = b"KTEST-LIBVIRT-READY"
MEM_KIB = 524288
PHASES = [("`virsh start` → first serial output (s)", "first_s"),
          ("`virsh start` → guest's command loop (s)", "ready_s"),
          ("RSS of the process, guest idle (MiB)", "rss_mib"),
          ("RSS overhead: RSS − guest RAM resident (MiB)", "overhead_mib"),
          ("`virsh destroy` → process gone (s)", "destroy_s")]
GOALS = {"first_s": "ratio ≤ 0.5", "overhead_mib": "ratio ≤ 0.2"}
NAMES = {"kestrel": "kestrel", "qemu": "QEMU", "kestrel-before": "kestrel before"}


def log(msg):
    print("[libvirt-bench %s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def rss_split(pid):
    """(RSS, resident guest RAM) in KiB from /proc/PID/smaps: guest RAM is
    the mapping(s) of the domain's memory size (smaps_attribution.guest_ram:
    the same rule for both VMMs)."""
    with open("/proc/%d/smaps" % pid) as f:
        maps = smaps_attribution.mappings(f.read())
    ram = smaps_attribution.guest_ram(maps, MEM_KIB)
    total = sum(m[4].get("Rss", 0) for m in maps)
    return total, sum(maps[i][4].get("Rss", 0) for i in ram)


def thread_stack_pointers(pid):
    """[(tid, comm, sp)] of the process's threads: the stack pointer is the
    second-to-last field of /proc/PID/task/TID/syscall (root only); it
    names the mapping that is the thread's stack."""
    threads = []
    for tid in sorted(os.listdir("/proc/%d/task" % pid), key=int):
        base = "/proc/%d/task/%s/" % (pid, tid)
        try:
            with open(base + "comm") as f:
                comm = f.read().strip()
            with open(base + "syscall") as f:
                fields = f.read().split()
            sp = int(fields[-2], 16) if len(fields) >= 3 else None
        except (OSError, ValueError):
            continue
        threads.append((int(tid), comm, sp))
    return threads


def save_smaps(pid, path):
    """The process's smaps, status and threads' stack pointers as JSON, for
    bench/smaps_attribution.py."""
    with open("/proc/%d/smaps" % pid) as f:
        smaps = f.read()
    with open("/proc/%d/status" % pid) as f:
        status = f.read()
    with open("/proc/%d/cmdline" % pid) as f:
        cmdline = f.read().split("\0")
    with open(path, "w") as f:
        json.dump({"smaps": smaps, "status": status, "cmdline": cmdline, "mem_kib": MEM_KIB,
                   "threads": thread_stack_pointers(pid)}, f)


def wait_serial(path, started, deadline):
    """(seconds to the first byte, seconds to READY), polling the file."""
    first = ready = None
    while time.monotonic() < deadline and ready is None:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            data = b""
        now = time.monotonic() - started
        if data and first is None:
            first = now
        if READY in data:
            ready = now
        time.sleep(0.005)
    return first, ready


def one_run(virsh, domain_pid, xml_text, name, work, tag, smaps_dir):
    serial = os.path.join(work, tag + ".serial")
    xml = os.path.join(work, tag + ".xml")
    with open(xml, "w") as f:
        f.write(xml_text.replace("@SERIAL@", serial))
    virsh("define", xml)
    d = {"ok": False}
    try:
        started = time.monotonic()
        r = virsh("start", name)
        d["virsh_start_s"] = time.monotonic() - started
        if r.returncode != 0:
            d["problem"] = r.stderr.strip()
            return d
        d["first_s"], d["ready_s"] = wait_serial(serial, started, started + 300)
        pid = domain_pid(name)
        if d["ready_s"] is None or not pid:
            d["problem"] = "no %s on the serial port" % READY.decode()
            return d
        time.sleep(2)   # the guest idle at its prompt
        rss, ram = rss_split(pid)
        save_smaps(pid, os.path.join(smaps_dir, tag + ".smaps.json"))
        d["rss_mib"], d["ram_mib"], d["overhead_mib"] = rss / 1024, ram / 1024, (rss - ram) / 1024
        began = time.monotonic()
        r = virsh("destroy", name)
        while os.path.exists("/proc/%d" % pid) and time.monotonic() - began < 120:
            time.sleep(0.002)
        d["destroy_s"] = time.monotonic() - began
        d["ok"] = r.returncode == 0 and not os.path.exists("/proc/%d" % pid)
        return d
    finally:
        virsh("destroy", name)
        virsh("undefine", name)
        with open(serial, "rb") as f:
            d["serial_head"] = f.read(300).decode(errors="replace")


def with_kernel_cache(xml_text, work):
    """The domain with KESTREL_KERNEL_CACHE in the emulator's environment
    (libvirt's <qemu:env>): a kernel cache that outlives the domain."""
    cache = os.path.join(work, "kernel-cache")
    os.makedirs(cache, exist_ok=True)
    xml_text = xml_text.replace("<domain type='kvm'>",
                                "<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>")
    return xml_text.replace("</domain>", "  <qemu:commandline>\n    <qemu:env name='KESTREL_KERNEL_CACHE' "
                                         "value='%s'/>\n  </qemu:commandline>\n</domain>" % cache)


def domain_xmls(emulators, work):
    import firmware_guest
    import linux_guest_test as lg
    kernel, initrd = lg.guest_initrd(work)
    serial = SERIAL_FILE.format(path="@SERIAL@")
    xmls = {}
    for vmm, emulator in emulators.items():
        disk = lg.disk_with(os.path.join(work, vmm + "-vda.raw"), lg.PATTERN)

        def kernel_domain(name):
            return name, lg.DOMAIN_XML.format(
                platform=lg.VIRT_INSTALL_PLATFORM, serial=serial, name=name, mem=MEM_KIB, kernel=kernel,
                initrd=initrd, cmdline="console=ttyS0 panic=-1", emulator=emulator, disk=disk, bridge=lg.BRIDGE,
                mac=lg.MAC, network=lg.NETWORK, net_mac=lg.NET_MAC, agent_port=lg.AGENT_PORT)
        xmls[("kernel", vmm)] = kernel_domain("bench-kernel-" + vmm)
        name, xml_text = kernel_domain("bench-kcache-" + vmm)
        xmls[("kernel-cache", vmm)] = name, with_kernel_cache(xml_text, work)
        xmls[("kernel-cold", vmm)] = kernel_domain("bench-kcold-" + vmm)
        name = "bench-firmware-" + vmm
        disk = os.path.join(work, vmm + "-boot.img")
        firmware_guest.bootmedia.copy_raw_disk(firmware_guest.disk_path(), disk, firmware_guest.bootmedia.DATA_BYTES)
        xmls[("firmware", vmm)] = name, firmware_guest.FIRMWARE_XML.format(
            platform=lg.VIRT_INSTALL_PLATFORM, serial=serial, name=name, mem=MEM_KIB, emulator=emulator, disk=disk,
            bridge=lg.BRIDGE, mac=lg.FW_MAC, agent_port=lg.AGENT_PORT)
    return xmls


def measure(a):
    import libvirtd
    status = libvirtd.reexec_in_namespace(__file__, sys.argv[1:])
    if status is not None:
        return status
    import linux_guest_test as lg
    os.makedirs("/run/lock", exist_ok=True)
    lg.add_bridge()
    result = {"l1_kernel": os.uname().release, "l1_cpus": os.cpu_count(), "runs": {}}
    var_cache = tempfile.mkdtemp(prefix="libvirt-bench-var-cache-")
    subprocess.run(["mount", "--bind", var_cache, "/var/cache"], check=True)
    with libvirtd.private_libvirtd(lg.NESTED_QEMU_CONF), tempfile.TemporaryDirectory(prefix="libvirt-bench-") as work:
        emulators = {"kestrel": a.kestrel, "qemu": "/usr/bin/qemu-system-x86_64"}
        if a.kestrel_before:
            emulators = {"kestrel-before": a.kestrel_before, **emulators}
        xmls = domain_xmls(emulators, work)
        lg.start_network(work)  # the direct-boot domain's second NIC is on it
        try:
            measure_configs(a, emulators, xmls, work, result)
        finally:
            lg.stop_network()
    return 0


def measure_configs(a, emulators, xmls, work, result):
    """The runs of every configuration, the VMMs interleaved; each result
    written to a.out as it comes."""
    import libvirtd
    import linux_guest_test as lg
    from domain_start_test import domain_pid
    for config in a.configs.split(","):
        shutil.rmtree("/var/cache/kestrel", ignore_errors=True)
        runs = result["runs"][config] = {vmm: [] for vmm in emulators}
        for i in range(a.warmups + a.runs):
            for vmm in emulators:
                name, xml_text = xmls[(config, vmm)]
                kind = "warm" if i < a.warmups else "run"
                if config == "kernel-cold":
                    shutil.rmtree("/var/cache/kestrel", ignore_errors=True)
                d = one_run(libvirtd.virsh, domain_pid, xml_text, name, work, "%s-%s-%s%d" % (config, vmm, kind, i),
                            os.path.dirname(a.out))
                if i >= a.warmups:
                    runs[vmm].append(d)
                log("%s %-7s %s %d: %s" % (config, vmm, kind, i, json.dumps(
                    {k: round(v, 3) if isinstance(v, float) else v for k, v in d.items() if k != "serial_head"})))
                with open(a.out, "w") as f:
                    json.dump(result, f, indent=1)


def cell(values):
    if not values:
        return "-", None
    med = statistics.median(values)
    return "%.2f (%.2f–%.2f)" % (med, min(values), max(values)), med


def report(m, ctx):
    lines = ["### libvirt: domain start, memory, destroy (bench/libvirt_bench.py)", "",
             "- Machine: %s" % ctx["machine"], "- kestrel: %s" % ctx["kestrel"], "- QEMU: %s" % ctx["qemu"]]
    if ctx.get("kestrel_before"):
        lines += ["- kestrel before: %s" % ctx["kestrel_before"]]
    lines += ["- libvirt 9.0 (Debian 12) in the test host, the same domain XML with `<emulator>` kestrel or "
             "qemu-system-x86_64; %d warm-up(s) and %d runs per VMM, interleaved, one test-host boot. "
             "512 MiB, 1 vCPU; serial port on a file. Cells: median (min–max) of the runs that reached the "
             "guest's command loop." % (ctx["warmups"], ctx["runs"]), ""]
    titles = {"kernel": "Direct kernel boot (virtio disk and NIC, VNC + VGA, tablet, balloon; no `quiet`)",
              "kernel-cache": "The same with `<qemu:env name='KESTREL_KERNEL_CACHE' value='DIR'/>` (a kernel cache "
                              "that outlives the domain; QEMU ignores it)",
              "kernel-cold": "The same XML, /var/cache/kestrel removed before every start (each kestrel "
                             "start decompresses the kernel: the first start of a kernel on a host)",
              "firmware": "Firmware boot (SeaBIOS → EXTLINUX on the virtio disk → the same kernel)"}
    for config, runs in m["runs"].items():
        ok = {n: [r for r in rs if r["ok"]] for n, rs in runs.items()}
        before = "kestrel-before" in runs
        lines += ["#### %s: %s" % (titles.get(config, config), ", ".join(
            "%s %d/%d ok" % (NAMES[n], len(ok[n]), len(runs[n])) for n in runs)), ""]
        head = ["", "kestrel", "QEMU 7.2", "kestrel/QEMU"]
        if before:
            head[1:1] = ["kestrel before"]
            head += ["before/QEMU"]
        lines += ["| %s | goal |" % " | ".join(head), "|---|" + "---|" * len(head)]
        for label, key in PHASES:
            cells = {n: cell([r[key] for r in ok[n] if r.get(key) is not None]) for n in runs}
            q, qm = cells["qemu"]

            def ratio(n):
                return "%.3f" % (cells[n][1] / qm) if cells[n][1] is not None and qm else "-"
            row = [label, cells["kestrel"][0], q, ratio("kestrel")]
            if before:
                row[1:1] = [cells["kestrel-before"][0]]
                row += [ratio("kestrel-before")]
            lines.append("| %s | %s |" % (" | ".join(row), GOALS.get(key, "")))
        lines.append("")
    return "\n".join(lines)


def host_side(a):
    import assets
    import firmware_guest
    import kvmhost
    import importlib.util
    spec = importlib.util.spec_from_file_location("bench_run", os.path.join(BENCH, "run.py"))
    bench_run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_run)
    built = assets.build_all()
    firmware_guest.build_disk(built)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    root = os.path.join(built["cache"], "bench")
    work = os.path.join(root, "bin", "libvirt-" + stamp)
    os.makedirs(work, exist_ok=True)
    kestrel, digest, mtime = bench_run.kestrel_binary(os.path.abspath(a.kestrel), work)
    before = []
    if a.kestrel_before:
        os.makedirs(os.path.join(work, "before"), exist_ok=True)
        copy, before_digest, _ = bench_run.kestrel_binary(os.path.abspath(a.kestrel_before),
                                                          os.path.join(work, "before"))
        before = ["--kestrel-before", copy]
    results = os.path.join(root, "results", "libvirt-" + stamp)
    os.makedirs(results, exist_ok=True)
    out = os.path.join(results, "measure.json")
    cmd = [sys.executable, os.path.abspath(__file__), "--measure", "--kestrel", kestrel, "--out", out,
           "--runs", str(a.runs), "--warmups", str(a.warmups), "--configs", a.configs] + before
    outer = bench_run.outer_context(os.path.abspath(a.kestrel), digest, mtime)  # the commit built, before the run
    started = time.monotonic()
    boots = len(a.configs.split(",")) * (3 if before else 2) * (a.runs + a.warmups)
    status = kvmhost.run(cmd, results, timeout=300 + boots * 150, silent_limit=400)
    log("test host finished with status %d after %.0f s; results in %s"
        % (status, time.monotonic() - started, results))
    if not os.path.exists(out):
        return 1
    with open(out) as f:
        m = json.load(f)
    ctx = {"machine": "%d cores (%s, kernel %s), load average before the run %s; nested test host: "
                      "QEMU %s TCG L1 with kvm_amd, L1 kernel %s, %d L1 vCPUs"
                      % (outer["outer_cpus"], outer["outer_cpu"], outer["outer_kernel"], a.load,
                         outer["l1_qemu"], m["l1_kernel"], m["l1_cpus"]),
           "kestrel": outer["kestrel"], "qemu": outer["l1_qemu"],
           "kestrel_before": "%s (sha256 %s)" % (a.kestrel_before, before_digest) if before else None, "runs": a.runs, "warmups": a.warmups,
           "total_s": round(time.monotonic() - started)}
    print(report(m, ctx))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"context": ctx, "measure": m}, f, indent=1)
    return status


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--warmups", type=int, default=1)
    p.add_argument("--configs", default="kernel,kernel-cold,kernel-cache,firmware")
    p.add_argument("--kestrel", default=os.environ.get("KESTREL_BIN", os.path.join(REPO, "build", "kestrel")))
    p.add_argument("--kestrel-before", help="a second kestrel binary, measured interleaved as 'kestrel before'")
    p.add_argument("--json", help="raw runs and context (e.g. bench/results/libvirt-DATE.json)")
    p.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.measure:
        return measure(a)
    a.load = " ".join(open("/proc/loadavg").read().split()[:3])
    return host_side(a)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

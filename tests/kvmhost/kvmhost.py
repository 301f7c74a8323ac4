#!/usr/bin/env python3
"""Run one command on a machine with real KVM and return its exit status.

Mode (KESTREL_KVMHOST=direct|nested forces one):
  direct  the machine has hardware KVM (vmx/svm flags, /dev/kvm, not PVM):
          the command runs here.
  nested  otherwise: QEMU TCG with an emulated AMD SVM CPU boots the test
          host "L1" (Debian kernel + busybox initramfs, kvm_amd loaded),
          which mounts this machine's root read-only over 9p, chroots into
          it and runs the command there. Paths look the same inside;
          /tmp is a fresh ext4 scratch disk, /run a tmpfs, and the results
          folder is writable (a second 9p share mounted at the same path).

The command's output is copied to stdout as it appears; the L1 console is
kept in RESULTS/l1-console.log. Environment variables are passed through
(except a few that only describe this terminal session).

usage: kvmhost.py [--results DIR] [--timeout SEC] [--mem MIB] [--smp N]
                  [--scratch-size SIZE] -- COMMAND [ARG...]
"""

import argparse
import glob
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "guest"))
import assets  # noqa: E402
import hang_report  # noqa: E402

STATUS_TIMEOUT = 124
STATUS_HOST_FAILED = 125
STATUS_WEDGED = 126   # the L1 kernel reported a long soft lockup: it will not recover
# TCG's SVM emulation sometimes leaves an L1 CPU looping in KVM for minutes
# ("watchdog: BUG: soft lockup - CPU#0 stuck for 231s! [CPU 0/KVM:267]");
# past this many seconds the test host is given up instead of waited for.
WEDGED_AFTER_S = 60
# A test host's init prints its first line ~3 s after start on an idle
# machine (~40 s at a load of 10 on 2 cores), but L1 sometimes hangs
# before that with both TCG CPUs busy (about once in 30 boots). Past this
# many seconds, times the load per CPU when it is above 1, it is given up
# and the runner starts a fresh one instead of waiting for the command's
# silence limit.
BOOT_LIMIT_S = 60
HEARTBEAT = "heartbeat"
SOFT_LOCKUP = re.compile(r"soft lockup - CPU#\d+ stuck for (\d+)s")
# Variables that describe the outer session and would mislead inside L1.
ENV_SKIP = {"PWD", "OLDPWD", "SHLVL", "_", "DISPLAY", "XDG_RUNTIME_DIR",
            "XDG_SESSION_ID", "SSH_AUTH_SOCK", "SSH_CONNECTION", "SSH_CLIENT",
            "SSH_TTY", "DBUS_SESSION_BUS_ADDRESS", "TMUX", "TMUX_PANE",
            "WINDOWID", "KESTREL_KVMHOST"}


def hardware_kvm():
    if not os.path.exists("/dev/kvm") or os.path.exists("/sys/module/kvm_pvm"):
        return False
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                flags = line.split(":", 1)[1].split()
                return "vmx" in flags or "svm" in flags
    return False


def choose_mode():
    forced = os.environ.get("KESTREL_KVMHOST", "")
    if forced in ("direct", "nested"):
        return forced
    if forced:
        raise SystemExit("kvmhost: KESTREL_KVMHOST must be direct or nested")
    return "direct" if hardware_kvm() else "nested"


def heartbeat_path(results):
    return os.path.join(results, ".kvmhost", HEARTBEAT)


def run_direct(command, results):
    env = dict(os.environ, KVMHOST_RESULTS=results, KVMHOST_MODE="direct")
    return subprocess.run(command, env=env, stdin=subprocess.DEVNULL).returncode


def outer_tmp_folder(cwd):
    """L1 puts a scratch disk on /tmp; a working folder under this machine's
    /tmp (a clone in /tmp/x, say) is bound back over it so it stays visible."""
    real = os.path.realpath(cwd)
    return real if real.startswith("/tmp/") else ""


def command_script(command, results):
    """Shell script L1 runs inside the chroot: environment, cwd, command."""
    lines = ["# written by kvmhost.py"]
    for name, value in sorted(os.environ.items()):
        if name not in ENV_SKIP and name.isidentifier():
            lines.append("export %s=%s" % (name, shlex.quote(value)))
    lines.append("export KVMHOST_RESULTS=%s KVMHOST_MODE=nested KVMHOST_HEARTBEAT=%s"
                 % (shlex.quote(results), shlex.quote(heartbeat_path(results))))
    lines.append("cd %s 2>/dev/null || { echo 'kvmhost: the working folder "
                 "is missing in the test host; running in /' >&2; cd /; }"
                 % shlex.quote(os.getcwd()))
    lines.append("exec " + " ".join(shlex.quote(a) for a in command))
    return "\n".join(lines) + "\n"


def qemu_path(path):
    return path.replace(",", ",,")  # QEMU option syntax: ",," is a comma


def qmp_socket_path():
    # a short path: unix socket names are limited to 108 bytes
    return "/tmp/kvmhost-qmp-%d.sock" % os.getpid()


def l1_command(a, opts, results, scratch, console):
    # npt=0: with nested paging, L1 died every minute or two of L2 work: a
    # page fault on a VMM's vCPU thread with a bad GS base, recursing until
    # the stack guard page ("BUG: TASK stack guard page was hit" in
    # exc_page_fault; mitigations=off did not change it). Shadow paging ran
    # 40 L2 boots (two at a time) without it, at ~1.5x the boot time.
    # vgif=0: TCG's emulated V_GIF made the same crash more frequent.
    append = ("console=ttyS0 quiet panic=-1 kvm_amd.vgif=0 kvm_amd.npt=%s %s"
              % (os.environ.get("KVMHOST_NPT", "0"),
                 os.environ.get("KVMHOST_L1_APPEND", "")))
    return [
        "qemu-system-x86_64", "-accel", "tcg,thread=multi", "-cpu", "max",
        "-smp", str(opts.smp), "-m", str(opts.mem),
        "-kernel", a["kernel"], "-initrd", a["l1_initrd"], "-append", append,
        "-display", "none", "-no-reboot", "-nodefaults", "-monitor", "none",
        "-qmp", "unix:%s,server=on,wait=off" % qmp_socket_path(),
        "-name", "kvmhost-l1,debug-threads=on",   # vCPU threads named in l1-hang.txt
        "-serial", "file:" + console,
        "-virtfs", "local,path=/,mount_tag=host,security_model=none,"
                   "readonly=on,multidevs=remap",
        "-virtfs", "local,path=%s,mount_tag=out,security_model=none"
                   % qemu_path(results),
        "-drive", "file=%s,if=virtio,format=raw,cache=unsafe"
                  % qemu_path(scratch),
    ]


class OutputFollower:
    """Copies what L1 appends to the command's output file to stdout, and
    notes when the command last showed life: output, or a line appended to
    its heartbeat file ($KVMHOST_HEARTBEAT, for commands that are quiet for
    long but can say they are not stuck)."""

    def __init__(self, path, heartbeat=None):
        self.path = path
        self.heartbeat = heartbeat
        self.beats = 0
        self.file = None
        self.last_output = time.monotonic()

    def poll(self):
        self.poll_heartbeat()
        if self.file is None:
            if not os.path.exists(self.path):
                return
            self.file = open(self.path, "rb")
        data = self.file.read()
        if data:
            self.last_output = time.monotonic()
            sys.stdout.buffer.write(data)
            sys.stdout.flush()

    def poll_heartbeat(self):
        try:
            size = os.stat(self.heartbeat).st_size if self.heartbeat else 0
        except OSError:
            return
        if size != self.beats:
            self.beats = size
            self.last_output = time.monotonic()

    def close(self):
        self.poll()
        if self.file:
            self.file.close()


def tail(path, lines=25):
    try:
        with open(path, "rb") as f:
            text = f.read().decode(errors="replace")
    except OSError:
        return "(no %s)" % path
    return "\n".join(text.splitlines()[-lines:])


def prepare_control(results, command):
    ctl = os.path.join(results, ".kvmhost")
    os.makedirs(ctl, exist_ok=True)
    for name in ("status", "output.log", HEARTBEAT):
        if os.path.exists(os.path.join(ctl, name)):
            os.unlink(os.path.join(ctl, name))
    with open(os.path.join(ctl, "host.env"), "w") as f:
        f.write("KVMHOST_RESULTS=%s\n" % shlex.quote(results))
        f.write("KVMHOST_KEEP_TMP=%s\n" % shlex.quote(outer_tmp_folder(os.getcwd())))
    with open(os.path.join(ctl, "command.sh"), "w") as f:
        f.write(command_script(command, results))
    shutil.copy(os.path.join(HERE, "hold_kvm_keys.py"), ctl)
    return ctl


def l1_wedged(console):
    """Seconds of the longest soft lockup the L1 console reports, if long."""
    try:
        with open(console, errors="replace") as f:
            stuck = [int(m.group(1)) for m in SOFT_LOCKUP.finditer(f.read())]
    except OSError:
        return None
    worst = max(stuck, default=0)
    return worst if worst >= WEDGED_AFTER_S else None


def boot_limit_s():
    return BOOT_LIMIT_S * max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))


def console_empty(console):
    try:
        return os.path.getsize(console) == 0
    except OSError:
        return True


def wait_for_l1(proc, follower, deadline, console, silent_limit=None):
    """Follows output until L1 exits; "exited", "timeout", "wedged" or
    "silent" (the command wrote nothing for silent_limit seconds: L1 can
    hang with both CPUs stuck and no lockup report)."""
    started = checked = time.monotonic()
    wedged = None
    boot_limit = boot_limit_s()
    while proc.poll() is None:
        follower.poll()
        now = time.monotonic()
        if now - checked > 5:  # the console is read every 5 s
            checked, wedged = now, l1_wedged(console)
        silent = silent_limit is not None and now - follower.last_output > silent_limit
        silent = silent or (now - started > boot_limit and console_empty(console))
        if now > deadline or wedged or silent:
            report = hang_report.write(proc.pid, qmp_socket_path(),
                                       os.path.join(os.path.dirname(console), "l1-hang.txt"))
            print("kvmhost: the test host's state when given up: %s" % report, file=sys.stderr)
            proc.kill()
            proc.wait()
            return "wedged" if wedged else "silent" if silent else "timeout"
        time.sleep(0.2)
    return "exited"


def remove_stale_scratch(cache):
    """Scratch disks left by runs that were killed."""
    for path in glob.glob(os.path.join(cache, "scratch-*.img")):
        pid = path.rsplit("-", 1)[1][:-len(".img")]
        if pid.isdigit() and not os.path.exists("/proc/" + pid):
            os.unlink(path)


def terminate_on_signal(signum, frame):
    # Turn SIGTERM/SIGHUP into an exception so the finally blocks stop L1.
    raise SystemExit(128 + signum)


def run_nested(command, results, opts):
    a = assets.build_all()
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, terminate_on_signal)
    ctl = prepare_control(results, command)
    console = os.path.join(results, "l1-console.log")
    remove_stale_scratch(a["cache"])
    scratch = os.path.join(a["cache"], "scratch-%d.img" % os.getpid())
    assets.make_disk_image(scratch, assets.parse_size(opts.scratch_size))
    qemu_log = os.path.join(results, "l1-qemu.log")
    follower = OutputFollower(os.path.join(ctl, "output.log"), heartbeat_path(results))
    started = time.monotonic()
    try:
        with open(qemu_log, "wb") as log:
            proc = subprocess.Popen(l1_command(a, opts, results, scratch, console),
                                    stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT)
        try:
            finished = wait_for_l1(proc, follower, started + opts.timeout, console, opts.silent_limit)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        follower.close()
    finally:
        os.unlink(scratch)
        if os.path.exists(qmp_socket_path()):
            os.unlink(qmp_socket_path())
    return l1_status(ctl, console, qemu_log, finished, opts.timeout, opts.silent_limit,
                     proc.returncode)


def l1_status(ctl, console, qemu_log, finished, timeout, silent_limit=None, l1_exit=None):
    if finished == "wedged":
        print("kvmhost: test host stopped: its kernel reports a soft lockup of %d s (a CPU "
              "stuck in KVM under TCG); console tail:\n%s" % (l1_wedged(console), tail(console)),
              file=sys.stderr)
        return STATUS_WEDGED
    if finished == "silent":
        if console_empty(console):
            print("kvmhost: test host stopped: its console stayed empty (L1 hung while "
                  "booting)", file=sys.stderr)
        else:
            print("kvmhost: test host stopped: the command showed no life (output or heartbeat) "
                  "for %d s (L1 hung without "
                  "a lockup report); console tail:\n%s" % (silent_limit, tail(console)),
                  file=sys.stderr)
        return STATUS_WEDGED
    if finished != "exited":
        print("kvmhost: test host killed after %d s; console tail:\n%s"
              % (timeout, tail(console)), file=sys.stderr)
        return STATUS_TIMEOUT
    try:
        with open(os.path.join(ctl, "status")) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        print("kvmhost: test host ended without a command status (its QEMU exited "
              "with %s)\n--- %s\n%s\n--- %s\n%s" % (l1_exit, console, tail(console), qemu_log,
                                                  tail(qemu_log, 10)), file=sys.stderr)
        return STATUS_HOST_FAILED


def run(command, results, **options):
    """Run `command` (argv list) on a KVM host; returns its exit status.
    options: timeout, mem, smp, scratch_size, silent_limit (as the
    command-line flags)."""
    opts = parse_args(["--results", results, "--"] + list(command))
    for key, value in options.items():
        if not hasattr(opts, key):
            raise TypeError("kvmhost.run: unknown option " + key)
        setattr(opts, key, value)
    results = os.path.abspath(results)
    os.makedirs(results, exist_ok=True)
    if choose_mode() == "direct":
        return run_direct(command, results)
    return run_nested(command, results, opts)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--results", default=os.path.join(assets.cache_dir(),
                                                     "kvmhost-results"),
                   help="writable folder shared with the command")
    p.add_argument("--timeout", type=float, default=3600,
                   help="kill the test host after this many seconds")
    p.add_argument("--silent-limit", type=float, default=None,
                   help="stop the test host when the command writes nothing for this many seconds")
    p.add_argument("--mem", type=int, default=6144, help="L1 RAM in MiB")
    p.add_argument("--smp", type=int, default=2, help="L1 vCPUs")
    p.add_argument("--scratch-size", default="16G", help="L1 /tmp disk size")
    p.add_argument("--mode", action="store_true",
                   help="print where commands run (direct or nested) and exit")
    p.add_argument("command", nargs="*")
    opts = p.parse_args(argv)
    if not opts.command and not opts.mode:
        p.error("a command is required")
    return opts


def main(argv):
    opts = parse_args(argv)
    if opts.mode:
        print(choose_mode())
        return 0
    return run(opts.command, opts.results, timeout=opts.timeout,
               mem=opts.mem, smp=opts.smp, scratch_size=opts.scratch_size)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""The demo: build kestrel and a demo guest, then boot it on this terminal.

The guest is Debian's kernel with a busybox initramfs (the guest-test
tooling builds both from Debian packages). It prints what it sees of the
machine kestrel gives it, then, when this terminal is interactive and KVM
is local, offers a shell on the serial console (`poweroff -f` ends it);
otherwise it powers off. Where the machine has no hardware KVM the demo
runs inside the nested test host and says so.
"""
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "guest"))
sys.path.insert(0, os.path.join(ROOT, "tests", "kvmhost"))
import assets  # noqa: E402
import cpio  # noqa: E402
import kvmhost  # noqa: E402

DEMO_SCRIPT = r"""
echo
echo "=== kestrel demo guest ==="
uname -sr
echo "CPUs:   $(nproc)"
echo "Memory: $(awk '/MemTotal/ {print int($2/1024) " MiB"}' /proc/meminfo)"
echo "Clock:  $(date -u) (from the emulated RTC)"
echo "Cmdline: $(cat /proc/cmdline)"
echo "PCI devices (vendor:device class):"
for d in /sys/bus/pci/devices/*; do
  echo "  ${d##*/} $(cat $d/vendor | cut -c3-):$(cat $d/device | cut -c3-) $(cat $d/class)"
done
echo "Serial: $(dmesg | grep -o 'ttyS0 at .*' | head -n 1)"
if grep -q kestrel.shell=1 /proc/cmdline; then
  echo "Shell on the serial console; 'poweroff -f' ends the demo."
  setsid cttyhack sh
fi
echo "=== demo done: powering off ==="
"""


def run(cmd):
    subprocess.run(cmd, check=True)


def demo_initrd(base, cache):
    out_dir = os.path.join(cache, "demo")
    os.makedirs(out_dir, exist_ok=True)
    overlay = cpio.CpioWriter()
    overlay.add_file("scenario.sh", DEMO_SCRIPT.encode(), 0o755)
    out = os.path.join(out_dir, "initrd.cpio.gz")
    with open(out, "wb") as f, open(base, "rb") as b:
        shutil.copyfileobj(b, f)
        f.write(overlay.gzip_bytes())
    return out


def main():
    run(["bash", os.path.join(ROOT, "scripts", "install-deps.sh")])
    run(["bash", os.path.join(ROOT, "scripts", "build.sh")])
    a = assets.build_all()
    initrd = demo_initrd(a["l2_initrd"], a["cache"])
    nested = kvmhost.choose_mode() == "nested"
    shell = not nested and sys.stdin.isatty()
    append = "console=ttyS0 quiet panic=-1" + (" kestrel.shell=1" if shell else "")
    cmd = [os.path.join(ROOT, "build", "kestrel"), "-m", "512", "-smp", "2",
           "-display", "none", "-serial", "stdio", "-no-reboot",
           "-kernel", a["kernel"], "-initrd", initrd, "-append", append]
    if not nested:
        return subprocess.call(cmd)
    print("No hardware KVM here: running the demo inside the nested test host "
          "(QEMU TCG with AMD SVM + kvm_amd), so expect ~30 s.", flush=True)
    results = os.path.join(a["cache"], "demo", "host")
    os.makedirs(results, exist_ok=True)
    return kvmhost.run(cmd, results, timeout=600)


if __name__ == "__main__":
    sys.exit(main())

"""Keeps one idle KVM VM (irqchip, one vCPU that never runs) open for the
test host's whole life, so that VMMs starting and quitting never flip KVM's
static keys.

Why: the first VM created and the last destroyed flip KVM's
preempt_notifier_key (and a vCPU's creation and end flip apic_sw_disabled),
and Linux patches every site of such a key with text_poke_bp's int3.  Under
the outer QEMU 7.2's TCG, a vCPU inside __schedule sometimes keeps executing
a stale translation with the int3 after the patch is done; the kernel sees a
breakpoint that is no longer in memory, returns to it, and loops there with
the runqueue lock held, while the other CPU spins on that lock: L1 froze
without any report (found with L1's register samples, 2026-12-04, after
3-24 quick starts of `kestrel -S -qmp`).  With a VM held open both keys stay
enabled, so nothing is patched when test VMMs come and go.

Forks: the parent exits once the VM exists, the child holds it until L1
powers off."""
import fcntl
import os
import signal
import sys

KVM_CREATE_VM = 0xAE01
KVM_CREATE_VCPU = 0xAE41
KVM_CREATE_IRQCHIP = 0xAE60


def hold():
    kvm = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    vm = fcntl.ioctl(kvm, KVM_CREATE_VM, 0)
    fcntl.ioctl(vm, KVM_CREATE_IRQCHIP, 0)
    vcpu = fcntl.ioctl(vm, KVM_CREATE_VCPU, 0)
    return kvm, vm, vcpu


def main():
    try:
        fds = hold()
    except OSError as e:
        print("kvmhost-l1: cannot hold an idle KVM VM (%s); VMM starts may freeze L1" % e)
        return 0
    if os.fork() == 0:
        os.setsid()
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        while True:
            signal.pause()
    del fds
    return 0


if __name__ == "__main__":
    sys.exit(main())

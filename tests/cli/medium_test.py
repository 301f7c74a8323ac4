#!/usr/bin/env python3
"""Removable media of IDE CD-ROM drives from both monitors, on kestrel and
on QEMU 7.2 with the same command lines: the same sequence of QMP eject,
blockdev-open-tray/-close-tray, blockdev-remove-medium,
blockdev-change-medium and HMP eject/change/info block must give the same
replies, the same errors and the same DEVICE_TRAY_MOVED events (in the
same order), and query-block must show the same removable/locked/
tray_open/inserted states. The machines stay stopped (-S): the guest's
side (a locked tray, the media events) is the guest test cd-change's.

usage: medium_test.py PATH/TO/kestrel
Prints one PASS/FAIL line per case, then "N passed, N failed"."""
import json
import os
import re
import sys
import tempfile

from sandbox_test import Vm


class Qmp(Vm):
    """sandbox_test's VMM (-S, QMP socket) keeping the events it reads."""

    def __init__(self, vmm, work, extra):
        super().__init__(vmm, work, list(extra), name="md")
        self.transcript = []
        self.connect()

    def on_event(self, event):
        event.pop("timestamp", None)
        self.transcript.append(event)

    def run(self, name, **args):
        reply = self.cmd(name, args or None)
        self.transcript.append({name: args, "reply": reply})
        return reply

    def hmp(self, line):
        return self.run("human-monitor-command", **{"command-line": line})

    def quit(self):
        self.cmd("quit")
        return self.wait(60)


# What may differ: automatic node names, sizes on the host, and the index
# of a board device's QOM path (QEMU's board makes more objects).
def normalized(transcript, work):
    text = json.dumps(transcript, sort_keys=True, indent=1).replace(work, "WORK")
    text = re.sub(r"#block\d+", "#blockN", text)
    text = re.sub(r"/machine/unattached/device\[\d+\]", "/machine/unattached/device[N]", text)
    return re.sub(r'"actual-size": \d+', '"actual-size": N', text)


def medium_summary(vm):
    """query-block's tray members, for the readable part of a failure."""
    blocks = vm.run("query-block")["return"]
    return [(b["device"], b.get("removable"), b.get("locked"), b.get("tray_open"),
             b.get("inserted", {}).get("file")) for b in blocks]


def cdrom_by_drive_name(vm, work):
    a, b = os.path.join(work, "a.iso"), os.path.join(work, "b.iso")
    medium_summary(vm)
    vm.hmp("info block")
    vm.run("eject")                                   # neither device nor id
    vm.run("eject", device="ide1-cd0", id="x")        # both
    vm.run("eject", device="nosuch")
    vm.run("eject", id="nosuch")
    vm.run("eject", device="ide1-cd0")                # tray opens, medium goes
    medium_summary(vm)
    vm.hmp("info block")
    vm.run("blockdev-open-tray", device="ide1-cd0")   # already open
    vm.run("blockdev-close-tray", device="ide1-cd0")
    vm.run("blockdev-close-tray", device="ide1-cd0")  # already closed: no event
    medium_summary(vm)
    vm.run("blockdev-change-medium", device="ide1-cd0", filename=b, format="raw")
    medium_summary(vm)
    vm.run("blockdev-change-medium", device="ide1-cd0", filename=os.path.join(work, "missing.iso"))
    vm.run("blockdev-change-medium", device="ide1-cd0", filename=a, **{"read-only-mode": "bogus"})
    vm.run("blockdev-change-medium", device="ide1-cd0", filename="")
    vm.run("blockdev-change-medium", device="ide1-cd0", filename=work)          # a directory
    vm.run("blockdev-change-medium", device="ide1-cd0", filename=a, format="bogus")
    vm.run("blockdev-change-medium", device="ide1-cd0", filename=a, format="qcow2")
    vm.run("blockdev-change-medium", device="ide1-cd0", filename=a, force="yes")
    vm.run("eject", device=7)
    vm.run("blockdev-change-medium", device="ide1-cd0", filename=a, format="raw", force=True,
           **{"read-only-mode": "read-only"})
    vm.run("blockdev-open-tray", device="ide1-cd0", force=True)
    medium_summary(vm)
    vm.hmp("info block")
    vm.run("blockdev-close-tray", device="ide1-cd0")
    vm.hmp("eject nosuch")
    vm.hmp("eject -x ide1-cd0")
    vm.hmp("eject")
    vm.hmp("change nosuch " + a)
    vm.hmp("change ide1-cd0 " + b + " raw bogus")
    vm.hmp("change ide1-cd0")
    vm.hmp("change")
    vm.hmp("eject -f")
    vm.hmp("help eject")
    vm.hmp("help change")
    vm.hmp("change ide1-cd0 " + b + " raw")
    vm.hmp("info block")
    vm.hmp("eject -f ide1-cd0")
    vm.hmp("info block")
    vm.hmp("change ide1-cd0 -f " + a + " raw read-only")
    medium_summary(vm)


def cdrom_by_device_id(vm, work):
    a = os.path.join(work, "a.iso")
    medium_summary(vm)                                 # the empty drive: "not inserted"
    vm.hmp("info block")
    vm.run("blockdev-remove-medium", id="cd0")         # tray closed
    vm.run("blockdev-remove-medium", id="hd0")         # not removable
    vm.run("blockdev-open-tray", id="hd0")
    vm.run("blockdev-close-tray", id="hd0")
    vm.run("eject", id="hd0")
    vm.run("eject", device="ide0-hd0")                 # by drive name (-drive id=)
    vm.run("blockdev-open-tray", id="cd0")
    vm.run("blockdev-remove-medium", id="cd0")         # empty already: fine
    vm.run("blockdev-change-medium", id="cd0", filename=a, format="raw")
    medium_summary(vm)
    vm.run("eject", id="cd0", force=False)
    vm.run("blockdev-remove-medium", id="cd0")
    vm.run("blockdev-remove-medium", id="nosuch")
    vm.run("eject", id="pp")                           # a device without a drive
    vm.run("eject", id="blk2")                         # virtio-blk: its drive is in the backend
    vm.run("eject", id="/machine/peripheral/blk2/virtio-backend")
    vm.run("blockdev-open-tray", device="vd")
    medium_summary(vm)
    vm.run("blockdev-close-tray", id="cd0")
    vm.hmp("info block")


def unattached_drive(vm, work):
    """An if=none drive no device uses: removable, no tray, no events."""
    b = os.path.join(work, "b.iso")
    medium_summary(vm)
    vm.run("blockdev-open-tray", device="spare")
    vm.run("blockdev-close-tray", device="spare")
    vm.run("eject", device="spare")
    medium_summary(vm)
    vm.run("blockdev-change-medium", device="spare", filename=b, format="raw")
    medium_summary(vm)


def drive_of_its_own(vm, work):
    """ide-cd without drive=: QEMU's anonymous, empty drive takes media by id."""
    a = os.path.join(work, "a.iso")
    medium_summary(vm)
    vm.hmp("info block")
    vm.run("query-blockstats")
    vm.run("query-named-block-nodes")
    vm.run("blockdev-change-medium", id="cd0", filename=a, format="raw")
    medium_summary(vm)
    vm.run("query-block")
    vm.hmp("info block")
    vm.run("eject", id="cd0")
    vm.run("blockdev-change-medium", id="/machine/peripheral-anon/device[0]", filename=a)
    vm.run("blockdev-close-tray", id="cd0")
    medium_summary(vm)


def blockdev_node(vm, work):
    """A -blockdev node no device uses goes into an open tray and back out."""
    medium_summary(vm)
    vm.run("blockdev-insert-medium", id="cd0", **{"node-name": "nosuch"})
    vm.run("blockdev-insert-medium", id="nosuch", **{"node-name": "bnode"})
    vm.run("blockdev-insert-medium", id="cd0", **{"node-name": "bnode"})  # tray closed
    vm.run("blockdev-open-tray", id="cd0")
    vm.run("blockdev-insert-medium", id="cd0", **{"node-name": "hdnode"})  # a device has it
    vm.run("blockdev-insert-medium", id="cd0", **{"node-name": "bnode"})
    vm.run("blockdev-insert-medium", id="cd0", **{"node-name": "bnode"})
    vm.run("query-named-block-nodes")
    vm.hmp("info block")
    vm.run("blockdev-close-tray", id="cd0")
    medium_summary(vm)
    vm.run("eject", id="cd0")
    vm.run("query-named-block-nodes")
    vm.run("blockdev-insert-medium", id="cd0", **{"node-name": "bnode"})
    medium_summary(vm)


CASES = [
    (cdrom_by_drive_name, ["-drive", "if=ide,index=2,media=cdrom,file=WORK/a.iso,format=raw"]),
    (cdrom_by_device_id, ["-drive", "if=none,id=hd,file=WORK/disk.img,format=raw",
                          "-drive", "if=none,id=cdd",
                          "-device", "ide-hd,drive=hd,bus=ide.0,id=hd0",
                          "-device", "ide-cd,drive=cdd,bus=ide.1,id=cd0", "-device", "pvpanic,id=pp",
                          "-drive", "if=none,id=vd,file=WORK/vd.img,format=raw",
                          "-device", "virtio-blk-pci,drive=vd,id=blk2"]),
    (drive_of_its_own, ["-device", "ide-cd,id=cd0,bus=ide.1", "-device", "ide-cd,bus=ide.0"]),
    (blockdev_node, ["-blockdev", "driver=file,filename=WORK/b.iso,node-name=bfile,read-only=on",
                     "-blockdev", "driver=raw,file=bfile,node-name=bnode,read-only=on",
                     "-blockdev", "driver=file,filename=WORK/disk.img,node-name=hdnode",
                     "-device", "ide-hd,drive=hdnode,bus=ide.0", "-device", "ide-cd,id=cd0,bus=ide.1"]),
    (unattached_drive, ["-drive", "if=none,id=spare,file=WORK/a.iso,format=raw,readonly=on"]),
]


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    kestrel = os.path.abspath(sys.argv[1])
    passed = failed = 0
    work_dir = tempfile.TemporaryDirectory(prefix="kestrel-medium-")
    work = work_dir.name
    for name, size in (("a.iso", 64), ("b.iso", 96), ("disk.img", 1024), ("vd.img", 512)):
        with open(os.path.join(work, name), "wb") as f:
            f.write(name.encode().ljust(2048, b"\0") * size)
    for case, extra in CASES:
        argv = [a.replace("WORK", work) for a in extra]
        transcripts = {}
        try:
            for vmm in (kestrel, "qemu-system-x86_64"):
                vm = Qmp(vmm, work, argv)
                try:
                    case(vm, work)
                finally:
                    status = vm.quit()
                assert status == 0, "%s exited with %s" % (vmm, status)
                transcripts[vmm] = normalized(vm.transcript, work)
            k, q = transcripts[kestrel], transcripts["qemu-system-x86_64"]
            if k != q:
                for path, text in (("kestrel", k), ("qemu", q)):
                    with open("/tmp/tray-medium-%s-%s.json" % (case.__name__, path), "w") as f:
                        f.write(text)
                raise AssertionError("transcripts differ: diff /tmp/tray-medium-%s-{kestrel,qemu}.json"
                                     % case.__name__)
            passed += 1
            print("PASS %s: the same replies, errors and events as QEMU 7.2" % case.__name__, flush=True)
        except (AssertionError, RuntimeError, OSError) as e:
            failed += 1
            print("FAIL %s: %s" % (case.__name__, e), flush=True)
    work_dir.cleanup()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""What kestrel says about its devices, against QEMU 7.2 for the same
command line.

Usage: compare_with_qemu.py PATH/TO/kestrel [PATH/TO/qemu-system-x86_64]

For each case both VMMs start stopped (-S, no guest code runs, so this
machine's own /dev/kvm serves) and answer HMP commands through QMP's
human-monitor-command. Everything kestrel prints must be what QEMU prints,
where QEMU prints more (devices and properties kestrel does not have):

- "-device help": each kestrel line under the same category header;
  "-device TYPE,help": each kestrel property line, for every kestrel type.
- "info qtree": each kestrel device at the same place in the tree (bus by
  bus), with each of its property and PCI lines.
- "info pci": each kestrel function with all its lines.
- "info mtree", address space I/O: each kestrel region (address range,
  priority and name); the PM block is the exception (kestrel maps it at
  0x600 as firmware would, QEMU leaves that to firmware).
- "-machine help", "-cpu help", "-accel help", "-chardev help": the same
  header, each kestrel line among QEMU's (in QEMU's order), the CPUID flag
  list identical; "--help": a first line like QEMU's, QEMU's section titles,
  and only options QEMU has.
- QMP_CASES: whole QMP replies (values and errors), which must be equal.
- The vCPU's QOM object (-cpu qemu64, kvm64): each property kestrel lists
  is QEMU's with the same type, each flag has QEMU's value, each feature
  word's bits are QEMU's.
- "info network": the same text, QEMU's random "#netNNN" ids aside.
Ends with "N passed, N failed".
"""
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "guest", "drivers"))
from qmp import Qmp  # noqa: E402

CASES = {
    "a disk from -drive if=virtio, COM1": ["-serial", "null", "-drive", "file={img},if=virtio,format=raw"],
    "-device with ids, addr and properties": [
        "-chardev", "null,id=c0", "-device", "isa-serial,chardev=c0,id=com1",
        "-object", "iothread,id=io1", "-drive", "file={img},if=none,id=d0,format=raw",
        "-device", "virtio-blk-pci,drive=d0,id=disk0,addr=5,num-queues=2,serial=SN,iothread=io1",
        "-global", "isa-serial.irq=3",
    ],
    "test devices, fw_cfg, kvm-pit's policy": [
        "-device", "pc-testdev", "-device", "pci-testdev,membar=1M,addr=6", "-device", "pvpanic,events=1",
        "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-global", "kvm-pit.lost_tick_policy=discard",
        "-fw_cfg", "opt/x,string=y",
    ],
    "-debugcon": ["-debugcon", "file:{work}/debugcon.log"],
    # Taps need root and /dev/net/tun; both VMMs create and remove them.
    "virtio-net: -netdev tap, -nic tap, -net nic with -net tap on hub 0": [
        "-netdev", "tap,id=n0,ifname=kcmp0,script=no,downscript=no,queues=2",
        "-device", "virtio-net-pci,netdev=n0,id=nic0,mq=on,mac=52:54:00:aa:bb:cc,host_mtu=9000",
        "-nic", "tap,ifname=kcmp1,script=no,downscript=no,model=virtio-net-pci",
        "-net", "nic,model=virtio,macaddr=52:54:00:12:34:99", "-net", "tap,ifname=kcmp2,script=no,downscript=no",
    ],
    "-vga std, a second VGA with properties": [
        "-serial", "null", "-vga", "std", "-device", "VGA,id=v2,vgamem_mb=3,xres=1024,yres=768,edid=off",
    ],
    "-vga cirrus": ["-serial", "null", "-vga", "cirrus"],
    "-device cirrus-vga, USB tablet on piix3-usb-uhci": [
        "-serial", "null", "-device", "cirrus-vga,vgamem_mb=8,id=c", "-device", "piix3-usb-uhci,id=usb",
        "-device", "usb-tablet,id=tablet",
    ],
    "-usb -usbdevice tablet": ["-serial", "null", "-usb", "-usbdevice", "tablet"],
    "e1000 on user networking: -netdev user, -nic user with hostfwd, -net nic -net user": [
        "-netdev", "user,id=u0,net=10.1.2.0/24,restrict=on", "-device", "e1000,netdev=u0,id=e0,mac=52:54:00:aa:bb:01",
        "-nic", "user,model=e1000,hostfwd=tcp:127.0.0.1:47311-:22", "-net", "nic", "-net", "user,ipv6=off",
    ],
    "IDE: ide-hd with serial, model, wwn, bootindex; an empty -drive CD; an ide-cd without drive": [
        "-drive", "file={img},format=raw,if=none,id=d0",
        "-device", "ide-hd,drive=d0,bus=ide.0,unit=1,serial=SN1,model=Kestrel Disk,wwn=0x5000c5000cd43ee0,"
                   "bootindex=2,id=hd1",
        "-drive", "if=ide,media=cdrom,index=2", "-device", "ide-cd,id=cd0",
    ],
    # Two more IDE controllers: buses ide.2/ide.3 and c2.0/c2.1, serials
    # numbered across all of them, a disk without bus= on the newest.
    "IDE: -device piix3-ide and piix4-ide, drives on their buses": [
        "-device", "piix4-ide", "-device", "piix3-ide,id=c2,addr=7",
        "-drive", "file={img},format=raw,if=none,id=d0", "-device", "ide-hd,drive=d0,bus=ide.2,id=hd2",
        "-device", "ide-cd,id=cd9,bus=c2.0,unit=1", "-device", "ide-cd,id=cd10",
    ],
    # The second controller has no id: its bus is virtio-serial-bus.0; a
    # port without bus= goes to the newest controller; ports on null are
    # closed on the host side, a console is open.
    "virtio-serial: a controller with an id, one without, ports on each": [
        "-device", "virtio-serial-pci,id=vs0", "-device", "virtio-serial-pci",
        "-chardev", "null,id=c1", "-device", "virtconsole,chardev=c1,id=con1,bus=virtio-serial-bus.0",
        "-chardev", "null,id=c0", "-device", "virtserialport,chardev=c0,name=org.x,id=p0,bus=vs0.0",
        "-chardev", "socket,id=c2,path={work}/vs.sock,server=on,wait=off", "-device", "virtserialport,chardev=c2,id=p2",
    ],
}
IDE_QOM = ["-device", "ide-cd,id=cd1,serial=S,wwn=7"]
# Types -device help does not list (the board's own) whose properties QEMU
# prints all the same.
BOARD_TYPES = ["kvm-pit", "fw_cfg_io"]
BALLOON = ["-m", "1024", "-device",
           "virtio-balloon-pci,id=b0,deflate-on-oom=on,free-page-reporting=on,guest-stats-polling-interval=3"]
CASES["a balloon"] = BALLOON
# -usb's controller is usb-bus.0, the next one without an id usb-bus.1;
# bus= puts a tablet on the bus it names, a tablet without it goes to the
# newest controller; info usb goes bus by bus. (No bus gets its last free
# port without port=: QEMU would put a usb-hub there.)
USB_BUSES = ["-serial", "null", "-usb", "-device", "piix3-usb-uhci,id=u1", "-device", "piix3-usb-uhci",
             "-device", "usb-tablet,bus=usb-bus.0,port=2,id=t0", "-device", "usb-tablet,bus=u1.0,id=t1",
             "-device", "usb-tablet,id=t2"]
CASES["USB: -usb, controllers with and without an id, tablets by bus name and by default"] = USB_BUSES
HMP = ["info qtree", "info pci", "info mtree", "info network"]


def hmp(line):
    return ("human-monitor-command", {"command-line": line})


def qom(command, prop, path="/machine/peripheral/b0", **value):
    return (command, dict({"path": path, "property": prop}, **value))


# name: (command line, [(QMP command, arguments)])
QMP_CASES = {
    "balloon commands and QOM properties": (BALLOON, [
        ("query-balloon", None), hmp("info balloon"), ("balloon", {"value": 0}), ("balloon", {"value": -5}),
        ("balloon", {"value": 512 << 20}), ("query-balloon", None), hmp("balloon 0"), hmp("balloon -1"),
        hmp("balloon 1g"), hmp("balloon 100000"), qom("qom-get", "guest-stats"),
        qom("qom-get", "guest-stats-polling-interval"),
        qom("qom-set", "guest-stats-polling-interval", value=7),
        qom("qom-get", "guest-stats-polling-interval", path="b0"),
        qom("qom-set", "guest-stats-polling-interval", value=-1),
        qom("qom-set", "guest-stats-polling-interval", value=1 << 33),
        qom("qom-set", "guest-stats-polling-interval", value="x"),
        qom("qom-set", "guest-stats", value=1), qom("qom-set", "deflate-on-oom", value=False),
        qom("qom-set", "addr", value=3), qom("qom-set", "nope", value=3), qom("qom-set", "type", value="x"),
        qom("qom-get", "deflate-on-oom"), qom("qom-get", "free-page-reporting"), qom("qom-get", "page-poison"),
        qom("qom-get", "type"), qom("qom-get", "iothread"), qom("qom-get", "nope"),
        qom("qom-get", "type", path="/machine/peripheral/nope"),
    ]),
    "USB: info usb, device_add to a missing bus and to a taken port": (USB_BUSES, [
        hmp("info usb"), hmp("device_add usb-tablet,bus=usb-bus.2"), hmp("device_add usb-tablet,bus=u1.0,port=1"),
    ]),
    "user networking's monitor commands": (["-netdev", "user,id=u0", "-device", "e1000,netdev=u0"], [
        hmp("hostfwd_add tcp::bad"), hmp("hostfwd_add nope tcp::1-:2"), hmp("hostfwd_remove tcp::47312"),
        hmp("hostfwd_add u0 tcp:127.0.0.1:47312-:22"), hmp("hostfwd_remove u0 tcp:127.0.0.1:47312"),
        hmp("hostfwd_remove u0 tcp:127.0.0.1:47312"), hmp("hostfwd_remove bogus"), hmp("hostfwd_add"),
        ("set_link", {"name": "e1000.0", "up": False}), hmp("info network"),
    ]),
    # device_add/device_del on a machine that has not started (-S): replies
    # and QEMU's errors; blockdev-add's nodes as libvirt adds them.
    "hotplug: blockdev-add, device_add, device_del": ([
        "-device", "isa-serial,id=ser0", "-blockdev", "driver=file,node-name=d0,filename={img2}",
        "-device", "VGA,id=vg",
    ], [
        ("blockdev-add", {"driver": "file", "filename": "{img}", "node-name": "hs", "auto-read-only": True,
                          "discard": "unmap"}),
        ("blockdev-add", {"driver": "raw", "node-name": "hf", "file": "hs", "read-only": False}),
        ("blockdev-add", {"driver": "file", "filename": "{img3}", "node-name": "hf"}),
        ("query-named-block-nodes", None),
        ("blockdev-del", {"node-name": "hs"}), ("blockdev-del", {"node-name": "nope"}),
        ("device_add", {"driver": "virtio-blk-pci", "drive": "hf", "id": "vd1"}),
        ("device_add", {"driver": "virtio-blk-pci", "drive": "hf", "id": "vd1"}),
        ("device_add", {"driver": "virtio-blk-pci", "drive": "hf", "id": "vd2"}),
        ("device_add", {"driver": "virtio-blk-pci", "drive": "d0", "id": "vd3", "addr": "0x2"}),
        ("device_add", {"driver": "virtio-blk-pci", "drive": "d0", "id": "vd3", "addr": "1.0"}),
        ("device_add", {"driver": "virtio-blk-pci", "drive": "nope", "id": "vd4"}),
        ("device_add", {"driver": "virtio-blk-pci", "id": "vd4"}),
        ("device_add", {"driver": "isa-serial", "id": "ser1"}),
        ("device_add", {"driver": "virtio-blk-pci", "drive": "d0", "id": "vd5", "bogus": 1}),
        ("device_add", {"driver": "virtio-blk-pci", "drive": "d0", "id": "vd5"}),
        ("blockdev-del", {"node-name": "hf"}),
        hmp("info pci"), ("query-pci", None),
        ("device_del", {"id": "nope"}), ("device_del", {"id": "ser0"}), ("device_del", {"id": "vd1"}),
        ("device_del", {"id": "vd1"}), hmp("device_del nope"), hmp("device_add virtio-blk-pci,drive=hf,id=vd1"),
        ("device_add", {"driver": "VGA"}), ("device_add", {"driver": "cirrus-vga"}), ("device_del", {"id": "vg"}),
        ("device_add", {"driver": "ide-hd", "drive": "d0"}), ("device_add", {"driver": "pvpanic"}),
    ]),
    # QEMU finds the bus (or the newest IDE controller's second bus) and
    # checks the device against it before refusing hot plug on ISA and IDE.
    "hotplug: ISA and IDE devices against missing, wrong and default buses": ([
        "-device", "piix3-ide,id=foo", "-usb",
    ], [
        ("device_add", {"driver": "ide-hd", "drive": "n1"}), ("device_add", {"driver": "ide-hd", "bus": "pci.0"}),
        ("device_add", {"driver": "ide-cd", "bus": "ide.7"}), ("device_add", {"driver": "ide-cd", "bus": "foo.0"}),
        ("device_add", {"driver": "ide-cd", "bus": "usb-bus.0"}), ("device_add", {"driver": "isa-serial"}),
        ("device_add", {"driver": "isa-serial", "bus": "ide.0"}), ("device_add", {"driver": "isa-serial", "bus": "isa.3"}),
        hmp("device_add ide-cd,bus=ide.4"),
    ]),
    "block jobs: none running": ([], [("query-block-jobs", None), ("query-jobs", None), hmp("info block-jobs")]),
    # One backend each (QEMU lists several in its hash table's order).
    "info memdev: the machine's RAM as a backend with its properties": ([
        "-object", "memory-backend-ram,id=m0,size=128M,prealloc=on,share=on,merge=off,dump=off",
        "-machine", "memory-backend=m0",
    ], [hmp("info memdev"), ("query-memdev", None)]),
    "info memdev: the implicit pc.ram": ([], [hmp("info memdev")]),
    # issue 13's leftover: a blockdev-add'ed node into an empty CD-ROM drive.
    "hotplug: blockdev-add node into an empty CD-ROM": (["-device", "ide-cd,id=cd0,bus=ide.1"], [
        ("blockdev-add", {"driver": "file", "filename": "{img4}", "node-name": "cs", "read-only": True}),
        ("blockdev-add", {"driver": "raw", "node-name": "cf", "file": "cs", "read-only": True}),
        ("blockdev-insert-medium", {"id": "cd0", "node-name": "cf"}),
        ("blockdev-open-tray", {"id": "cd0"}),
        ("blockdev-insert-medium", {"id": "cd0", "node-name": "cf"}), ("blockdev-close-tray", {"id": "cd0"}),
        hmp("info block"), ("blockdev-del", {"node-name": "cf"}), ("blockdev-del", {"node-name": "cs"}),
        ("blockdev-open-tray", {"id": "cd0"}), ("blockdev-remove-medium", {"id": "cd0"}),
        ("blockdev-del", {"node-name": "cf"}), ("blockdev-del", {"node-name": "cs"}),
        ("query-named-block-nodes", None),
    ]),
    "user networking's monitor commands without user networking": ([], [
        hmp("hostfwd_add tcp::1-:2"), hmp("info usernet"),
    ]),
    # libvirt's pair of nodes (JSON), a nested file node (dotted keys), a
    # file node used by the device itself, and a node no device uses.
    "-blockdev nodes: query-block, query-named-block-nodes": ([
        "-blockdev", '{"driver":"file","node-name":"s1","filename":"{img}","discard":"unmap",'
                     '"cache":{"direct":false,"no-flush":false},"auto-read-only":true,"aio":"io_uring"}',
        "-blockdev", '{"node-name":"f1","driver":"raw","file":"s1","read-only":false,"discard":"unmap"}',
        "-device", "virtio-blk-pci,drive=f1,id=vd0",
        "-blockdev", "driver=raw,node-name=f2,read-only=on,file.driver=file,file.filename={img2},"
                     "file.node-name=s2",
        "-device", "virtio-blk-pci,drive=f2",
        "-blockdev", "driver=file,node-name=s3,filename={img3},cache.direct=on,aio=native,locking=off",
        "-device", "virtio-blk-pci,drive=s3,id=vd3",
        "-blockdev", "driver=file,node-name=s4,filename={img4}",
    ], [
        ("query-block", None), ("query-named-block-nodes", None),
        ("query-named-block-nodes", {"flat": True}),
    ]),
    "qcow2 -blockdev nodes (v3 and v2): query-block format-specific": ([
        "-blockdev", '{"driver":"qcow2","node-name":"q3","file":{"driver":"file","filename":"{qcow2}"}}',
        "-device", "virtio-blk-pci,drive=q3",
        "-blockdev", "driver=qcow2,node-name=q2,file.driver=file,file.filename={qcow2v2},file.node-name=s2",
        "-device", "virtio-blk-pci,drive=q2",
    ], [("query-block", None)]),
    "ide-cd's QOM properties": (IDE_QOM, [
        qom("qom-get", p, path="/machine/peripheral/cd1") for p in ("unit", "serial", "model", "wwn", "ver", "bootindex")
    ]),
    "balloon commands without a balloon": ([], [
        ("query-balloon", None), ("balloon", {"value": 1 << 30}), hmp("info balloon"), hmp("balloon 100"),
    ]),
}

passed = failed = 0


def report(ok, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("PASS " + what, flush=True)
    else:
        failed += 1
        print("FAIL " + what + ("\n  " + detail.replace("\n", "\n  ") if detail else ""), flush=True)


def qmp_replies(binary, args, work, commands, defaults=False):
    """The whole reply to each (command, arguments), in order; -nodefaults
    unless `defaults`."""
    sock = os.path.join(work, "qmp-%d.sock" % time.monotonic_ns())
    cmd = [binary, "-S"] + ([] if defaults else ["-nodefaults"]) + [
        "-display", "none", "-machine", "pc", "-enable-kvm", "-qmp", "unix:%s,server=on,wait=off" % sock] + args
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        qmp = Qmp(sock, timeout=60)
        qmp.ok("qmp_capabilities")
        replies = [qmp.execute(name, arguments) for name, arguments in commands]
        qmp.execute("quit")
        proc.wait(timeout=30)
        return replies
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def hmp_answers(binary, args, work):
    replies = qmp_replies(binary, args, work, [hmp(line) for line in HMP])
    return {line: reply["return"] for line, reply in zip(HMP, replies)}


def compare_qmp(name, args, commands, kestrel, qemu, work):
    images = {}
    for key in ("img", "img2", "img3", "img4"):
        images[key] = os.path.join(work, "qmp-%s.img" % key)
        with open(images[key], "wb") as f:
            f.truncate(1 << 20)
    for key, compat in (("qcow2", "1.1"), ("qcow2v2", "0.10")):
        images[key] = os.path.join(work, "qmp-%s.qcow2" % key)
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-o", "compat=" + compat, images[key], "1M"],
                       check=True)
    fill = lambda text: re.sub(r"\{(img\d?|qcow2\w*)\}", lambda m: images[m.group(1)], text)
    args = [fill(a) for a in args]
    commands = [(c, json.loads(fill(json.dumps(a)))) for c, a in commands]
    k, q = qmp_replies(kestrel, args, work, commands), qmp_replies(qemu, args, work, commands)
    lost = ["%s %s: kestrel %s, QEMU %s" % (c, a, kr, qr) for (c, a), kr, qr in zip(commands, k, q) if kr != qr]
    report(not lost, name, "\n".join(lost))


CPU0 = "/machine/unattached/device[0]"
# The vCPU's QOM object as libvirt reads it after start (qemuProcessFetchGuestCPU);
# vCPU 1 is device[2] (QEMU's kvmvapic is device[1]).
QMP_CASES["vCPU QOM objects: identity, flags, errors"] = (["-cpu", "qemu64", "-smp", "2"], [
    qom("qom-get", p, path=CPU0) for p in ("type", "family", "model", "stepping", "model-id", "vendor", "level",
                                           "xlevel", "unavailable-features", "nope")
] + [qom("qom-get", "type", path="/machine/unattached/device[2]"), qom("qom-get", "apic-id", path="device[2]"),
     qom("qom-set", "sse2", path=CPU0, value=False), qom("qom-set", "nope", path=CPU0, value=False),
     qom("qom-set", "type", path=CPU0, value="x"), ("qom-list", {"path": "/machine/unattached/cpu-nope"})])

# Every possible vCPU with its topology ids; qom-path for the present ones.
for smp in ("2,maxcpus=4", "2,sockets=2,cores=2,threads=1,maxcpus=4", "1,sockets=1,dies=2,cores=1,threads=2,maxcpus=4",
            "3,sockets=2,cores=1,threads=2,maxcpus=4", "1"):
    QMP_CASES["query-hotpluggable-cpus (-smp %s)" % smp] = (["-smp", smp, "-cpu", "kvm64"], [
        ("query-hotpluggable-cpus", None), ("query-hotpluggable-cpus", {"x": 1})])


# -device CPUs (cold plug) as libvirt writes them for <vcpus> with hotpluggable
# ones: one with id (JSON), one anonymous after an anonymous device.
COLD_PLUG = ["-smp", "1,maxcpus=4,sockets=4,cores=1,threads=1", "-device", "pc-testdev", "-device",
             '{"driver":"qemu64-x86_64-cpu","id":"vcpu1","socket-id":1,"core-id":0,"thread-id":0}', "-device",
             '{"driver":"qemu64-x86_64-cpu","socket-id":3,"core-id":0,"thread-id":0}']
ANON_CPU = "/machine/peripheral-anon/device[1]"
QMP_CASES["-device CPUs: slots, QOM paths, device_del refused"] = (COLD_PLUG, [
    ("query-hotpluggable-cpus", None), qom("qom-get", "type", path="/machine/peripheral/vcpu1"),
    ("device_add", {"driver": "virtio-blk-pci", "id": "vcpu1"}),
    qom("qom-get", "type", path=ANON_CPU), ("device_del", {"id": "vcpu1"}), ("device_del", {"id": ANON_CPU}),
    ("device_del", {"id": CPU0})])

# device_del of -smp's second vCPU by its QOM path: QEMU allows it, but asks
# the guest, whose ACPI has not switched the CPU hotplug registers yet here.
# (The guest's side: tests/guest's cpu-hotplug-smp.)
QMP_CASES["device_del of a -smp vCPU before the guest's ACPI"] = (["-smp", "2,maxcpus=4"], [
    ("device_del", {"id": "/machine/unattached/device[2]"}), hmp("device_del /machine/unattached/device[2]"),
    ("query-hotpluggable-cpus", None)])

# device_add of a vCPU (libvirt's setvcpus --live): QEMU's pc_cpu_pre_plug
# errors, then plugs with and without id in the free slots; the slots'
# qom-paths and HMP's view follow. (The guest's side: tests/guest's cpu-hotplug.)
def cpu_add(**props):
    return ("device_add", dict({"driver": "qemu64-x86_64-cpu"}, **props))


QMP_CASES["device_add of vCPUs: errors, plugs, slots"] = (["-smp", "1,maxcpus=4", "-cpu", "qemu64"], [
    cpu_add(id="c0", **{"socket-id": 0, "core-id": 0, "thread-id": 0}),
    cpu_add(id="c9", **{"socket-id": 0, "core-id": 9, "thread-id": 0}),
    cpu_add(id="c1", **{"core-id": 1, "thread-id": 0}), cpu_add(id="c1", **{"socket-id": 0, "thread-id": 0}),
    ("device_add", {"driver": "host-x86_64-cpu", "id": "c1", "socket-id": 0, "core-id": 1, "thread-id": 0}),
    cpu_add(id="c1", **{"socket-id": 0, "core-id": 1, "thread-id": 0, "nope": 1}),
    cpu_add(id="c1", **{"socket-id": 0, "core-id": "x", "thread-id": 0}),
    cpu_add(id="c1", **{"socket-id": 0, "core-id": 2, "thread-id": 0}),
    cpu_add(id="c1", **{"socket-id": 0, "core-id": 3, "thread-id": 0}),
    cpu_add(id="c2", **{"socket-id": 0, "core-id": 2, "thread-id": 0}),
    cpu_add(**{"socket-id": 0, "core-id": 3, "thread-id": 0}),
    ("device_add", {"driver": "virtio-net-pci", "id": "c1"}), ("device_add", {"driver": "nope", "id": "c1"}),
    ("query-hotpluggable-cpus", None), hmp("info hotpluggable-cpus"), qom("qom-get", "type", path="/machine/peripheral/c1"),
    ("device_del", {"id": CPU0}), ("device_del", {"id": "c1"})])


def without_host_threads(reply):
    """query-cpus-fast and "info cpus" with the vCPU threads' host ids masked."""
    if isinstance(reply.get("return"), str):
        return re.sub(r"thread_id=\d+", "thread_id=N", reply["return"])
    return [{k: v for k, v in cpu.items() if k != "thread-id"} for cpu in reply["return"]]


def compare_cold_plugged_cpus(kestrel, qemu, work):
    """cpu-index, order, QOM paths of -device CPUs; /machine/peripheral's children."""
    commands = [("query-cpus-fast", None), hmp("info cpus"), ("qom-list", {"path": "/machine/peripheral"}),
                ("qom-list", {"path": "/machine/peripheral-anon"})]
    k, q = (qmp_replies(b, COLD_PLUG, work, commands) for b in (kestrel, qemu))
    children = lambda r: sorted(json.dumps(p, sort_keys=True) for p in r["return"])
    lost = []
    for (c, a), kr, qr in zip(commands, k, q):
        same = children(kr) == children(qr) if c == "qom-list" else without_host_threads(kr) == without_host_threads(qr)
        if not same:
            lost.append("%s %s: kestrel %s, QEMU %s" % (c, a, kr, qr))
    report(not lost, "-device CPUs: query-cpus-fast, info cpus, qom-list of the peripherals", "\n".join(lost))

def compare_iothreads(kestrel, qemu, work):
    """query-iothreads (libvirt's domstats and iothreadinfo) and info
    iothreads: ids and poll properties as QEMU's, each with a thread of its
    own in the process."""
    args = ["-object", "iothread,id=io1", "-object",
            "iothread,id=io2,poll-max-ns=1000,poll-grow=2,poll-shrink=3,aio-max-batch=4"]
    k, q = (qmp_replies(b, args, work, [("query-iothreads", None), hmp("info iothreads")]) for b in (kestrel, qemu))
    threads = [t.get("thread-id") for t in k[0].get("return", [])]
    problems = ["kestrel %s, QEMU %s" % (kr, qr) for kr, qr in zip(k, q)
                if without_host_threads(kr) != without_host_threads(qr)]
    if len(set(threads)) != 2 or not all(isinstance(t, int) and t > 0 for t in threads):
        problems.append("thread ids %s" % threads)
    report(not problems, "query-iothreads, info iothreads", "\n".join(problems))


def compare_vcpu_properties(kestrel, qemu, work, cpu):
    """Every property kestrel's vCPU 0 lists, QEMU's lists with the same
    type; every flag (bool) kestrel lists has QEMU's value; each feature
    word kestrel reports is QEMU's word (kestrel names fewer bits: its
    bits must be QEMU's)."""
    args = ["-cpu", cpu]
    k_list, q_list = (qmp_replies(b, args, work, [("qom-list", {"path": CPU0})])[0]["return"] for b in (kestrel, qemu))
    q_types = {p["name"]: p["type"] for p in q_list}
    wrong = ["%s: kestrel %s, QEMU %s" % (p["name"], p["type"], q_types.get(p["name"]))
             for p in k_list if q_types.get(p["name"]) != p["type"]]
    flags = [p["name"] for p in k_list if p["type"] == "bool"]
    commands = [qom("qom-get", f, path=CPU0) for f in flags] + [qom("qom-get", "feature-words", path=CPU0)]
    k, q = (qmp_replies(b, args, work, commands) for b in (kestrel, qemu))
    wrong += ["%s: kestrel %s, QEMU %s" % (f, kr, qr) for f, kr, qr in zip(flags, k, q) if kr != qr]
    word = lambda w: (w["cpuid-input-eax"], w.get("cpuid-input-ecx"), w["cpuid-register"])
    q_words = {word(w): w["features"] for w in q[-1]["return"]}
    wrong += ["feature word %s: kestrel %#x, QEMU %#x" % (word(w), w["features"], q_words.get(word(w), 0))
              for w in k[-1]["return"] if w["features"] & ~q_words.get(word(w), 0)]
    report(len(flags) > 100 and not wrong, "vCPU QOM (-cpu %s): %d flags, types and values as QEMU's" % (cpu, len(flags)),
           "\n".join(wrong[:20]))


def compare_default_network(kestrel, qemu, work):
    """Without -nodefaults and any network option both add QEMU's default
    network (-net nic -net user): an e1000 at 00:03.0 on hub 0 with user
    networking, the same info network and PCI function."""
    args = ["-vga", "none", "-serial", "none", "-monitor", "none"]
    commands = [hmp("info network"), hmp("info pci")]
    k, q = (qmp_replies(b, args, work, commands, defaults=True) for b in (kestrel, qemu))
    k_net, q_net = (re.sub(r"#net\d+", "#net", r[0]["return"]) for r in (k, q))
    lost = [] if k_net == q_net else ["info network: kestrel %r, QEMU %r" % (k_net, q_net)]
    def e1000(info_pci):
        return [(f, lines) for f, lines in pci_functions(info_pci).items() if "8086:100e" in "".join(lines)]
    k_nic, q_nic = e1000(k[1]["return"]), e1000(q[1]["return"])
    if len(k_nic) != 1 or k_nic != q_nic:
        lost.append("the e1000's info pci: kestrel %r, QEMU %r" % (k_nic, q_nic))
    report(not lost and "e1000" in k_net, "the default network: an e1000 on user networking", "\n".join(lost))


def compare_default_cdrom(kestrel, qemu, work):
    """Without -nodefaults both add an empty CD-ROM drive, ide1-cd0, on
    ide.1's master: the same query-block entry (QOM path numbers aside: QEMU
    has board devices kestrel has not) and qtree node."""
    args = ["-vga", "none", "-nic", "none", "-serial", "none", "-monitor", "none"]
    commands = [("query-block", None), hmp("info block ide1-cd0"), hmp("info qtree"), hmp("commit ide1-cd0"),
                hmp("info blockstats")]
    k = qmp_replies(kestrel, args, work, commands, defaults=True)
    q = qmp_replies(qemu, args, work, commands, defaults=True)
    unnumbered = lambda text: re.sub(r"device\[\d+\]", "device[N]", text)
    kb = [unnumbered(repr(b)) for b in k[0]["return"]]
    qb = [unnumbered(repr(b)) for b in q[0]["return"]]
    lost = ["query-block: kestrel %s not in QEMU's" % b for b in kb if b not in qb]
    if unnumbered(k[1]["return"]) != unnumbered(q[1]["return"]):
        lost.append("info block: kestrel %r, QEMU %r" % (k[1]["return"], q[1]["return"]))
    lost += missing_lines(qtree_entries(k[2]["return"]), qtree_entries(q[2]["return"]))
    lost += ["%s: kestrel %r, QEMU %r" % (c[0], kr, qr) for c, kr, qr in zip(commands[3:], k[3:], q[3:])
             if kr["return"] not in qr["return"]]  # QEMU's blockstats have floppy0 and sd0 too
    report(not lost and len(kb) == 1, "the default empty CD-ROM drive", "\n".join(lost) + "\nkestrel: %r" % kb)


def qtree_entries(text):
    """{(path, line)} where path is the chain of bus and dev lines above."""
    entries = set()
    stack = []  # (indent, label)
    for raw in text.splitlines():
        if not raw.strip():
            continue
        indent = len(raw) - len(raw.lstrip())
        line = raw.strip()
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = tuple(label for _, label in stack)
        entries.add((path, line))
        if line.startswith("bus: ") or line.startswith("dev: "):
            stack.append((indent, line))
    return entries


def pci_functions(text):
    """{header line: set of its lines}"""
    out, current = {}, None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("Bus "):
            current = out.setdefault(line, set())
        elif current is not None and line:
            current.add(line)
    return out


def io_regions(text):
    section = text.split("address-space: I/O", 1)[1].split("address-space:", 1)[0]
    return {line.strip() for line in section.splitlines() if "(prio" in line}


def missing_lines(mine, theirs):
    return sorted(str(x) for x in mine - theirs)


def compare_case(name, args, kestrel, qemu, work):
    img = os.path.join(work, "disk.img")
    with open(img, "wb") as f:
        f.truncate(1 << 20)
    args = [a.replace("{img}", img).replace("{work}", work) for a in args]
    k = hmp_answers(kestrel, args, work)
    q = hmp_answers(qemu, args, work)
    ids = lambda text: re.sub(r"#net\d+", "#net", text)  # QEMU's generated ids end in random digits
    lost = missing_lines(qtree_entries(ids(k["info qtree"])), qtree_entries(ids(q["info qtree"])))
    report(not lost, name + ": info qtree", "\n".join(lost))
    kp, qp = pci_functions(k["info pci"]), pci_functions(q["info pci"])
    lost = ["%s: %s" % (f, sorted(lines - qp.get(f, set()))) for f, lines in kp.items() if lines - qp.get(f, set())]
    report(kp and not lost, name + ": info pci", "\n".join(lost))
    mine = {r for r in io_regions(k["info mtree"]) if not r.endswith(": piix4-pm")}
    lost = missing_lines(mine, io_regions(q["info mtree"]))
    report(len(mine) > 5 and not lost, name + ": info mtree (I/O)", "\n".join(lost))
    k_net, q_net = (re.sub(r"#net\d+", "#net", a["info network"]) for a in (k, q))
    report(k_net == q_net, name + ": info network", "kestrel:\n%s\nqemu:\n%s" % (k_net, q_net))


def help_sections(text):
    """{category header: set of lines}"""
    out, current = {}, None
    for line in text.splitlines():
        if line.endswith(":"):
            current = out.setdefault(line, set())
        elif line and current is not None:
            current.add(line)
    return out


def run(binary, args):
    return subprocess.run([binary] + args, capture_output=True, text=True, timeout=60).stdout


def compare_help(kestrel, qemu):
    k, q = help_sections(run(kestrel, ["-device", "help"])), help_sections(run(qemu, ["-device", "help"]))
    lost = ["%s %s" % (c, sorted(lines - q.get(c, set()))) for c, lines in k.items() if lines - q.get(c, set())]
    report(k and not lost, "-device help", "\n".join(lost))
    types = [m.group(1) for m in re.finditer(r'^name "([^"]+)"', run(kestrel, ["-device", "help"]), re.M)]
    types += BOARD_TYPES
    for t in types:
        mine = set(run(kestrel, ["-device", t + ",help"]).splitlines())
        lost = sorted(mine - set(run(qemu, ["-device", t + ",help"]).splitlines()))
        report(len(mine) > 0 and not lost, "-device %s,help" % t, "\n".join(lost))


def in_order(mine, theirs):
    """The lines of mine missing from theirs, or out of theirs' order."""
    problems, at = [], -1
    for line in mine:
        if line not in theirs:
            problems.append("not in QEMU's: %r" % line)
        elif theirs.index(line) < at:
            problems.append("out of QEMU's order: %r" % line)
        else:
            at = theirs.index(line)
    return problems


def compare_listings(kestrel, qemu):
    for what in (["-machine", "help"], ["-cpu", "help"], ["-accel", "help"], ["-chardev", "help"], ["-nic", "model=help"],
                 ["-object", "help"], ["-object", "rng-random,help"], ["-object", "rng-builtin,help"]):
        k, q = run(kestrel, what).splitlines(), run(qemu, what).splitlines()
        problems = [] if k[:1] == q[:1] else ["header %r, QEMU's %r" % (k[:1], q[:1])]
        if what[0] == "-cpu":
            flags = lambda lines: lines[lines.index("Recognized CPUID flags:"):]
            if flags(k) != flags(q):
                problems.append("the CPUID flag list differs")
            k, q = k[:k.index("Recognized CPUID flags:")], q[:q.index("Recognized CPUID flags:")]
        problems += in_order([l for l in k[1:] if l], q)
        report((len(k) > 1 or k == q) and not problems, " ".join(what), "\n".join(problems))
    k, q = run(kestrel, ["--help"]), run(qemu, ["--help"])
    problems = []
    if not re.match(r"QEMU emulator version \d+\.\d+\.\d+ ", k):
        problems.append("first line %r" % k.splitlines()[0])
    titles = lambda text: [l for l in text.splitlines() if re.match(r"^[A-Z][\w /-]+:$", l)]
    problems += ["section %r is not QEMU's" % t for t in titles(k) if t not in titles(q)]
    options = lambda text: {m.group(1) for m in re.finditer(r"^(-[\w-]+)", text, re.M)}
    problems += ["option %s is not QEMU's" % o for o in sorted(options(k) - options(q))]
    report(len(options(k)) > 20 and not problems, "--help", "\n".join(problems))


# Bad -smbios options: both VMMs exit 1 with the same message (QEMU checks
# them while parsing, before the machine exists; -S keeps a wrongly accepted
# one from running anything).
SMBIOS_ERRORS = [
    ["-smbios", "type=99"], ["-smbios", "type=5"], ["-smbios", "type=200"], ["-smbios", "type=-1"],
    ["-smbios", "type=abc"], ["-smbios", "foo=bar"], ["-smbios", "type=1,foo=bar"],
    ["-smbios", "type=1,uuid=xyz"], ["-smbios", "type=0,release=abc"], ["-smbios", "type=0,uefi=maybe"],
    ["-smbios", "type=4,max-speed=70000"], ["-smbios", "type=4,current-speed=-1"],
    ["-smbios", "type=17,speed=abc"], ["-smbios", "type=11,foo=1"], ["-smbios", "type=11,path=/nonexistent"],
    ["-smbios", "file=/nonexistent"], ["-smbios", "file=/nonexistent,type=1"],
    ["-smbios", "type=2,serial=x", "-smbios", "file={work}/t2.bin"],
    ["-smbios", "file={work}/t2.bin", "-smbios", "type=2,serial=x"],
    ["-machine", "smbios-entry-point-type=16"],
    ["-smbios", "type=41,kind=sata-controller"], ["-smbios", "type=41,instance=x"],
    ["-smbios", "type=41,designation=x,kind=other,pcidev=nope"],
    # found once the machine is built
    ["-smp", "2,sockets=2,cores=1", "-smbios", "file={work}/t4.bin"],
    ["-smbios", "type=11,path={work}/big.txt"],
]


def compare_smbios_errors(kestrel, qemu, work):
    with open(os.path.join(work, "t2.bin"), "wb") as f:
        f.write(bytes([2, 15, 0, 2, 1, 0, 0, 0, 0, 1, 0, 0, 3, 10, 0]) + b"Blob\0\0")
    with open(os.path.join(work, "t4.bin"), "wb") as f:  # one type 4 for two sockets
        f.write(bytes([4, 4, 0, 4, 0, 0]))
    with open(os.path.join(work, "big.txt"), "w") as f:  # an OEM string past SMBIOS 2.1's 64 KiB
        f.write("x" * 70000)
    for args in SMBIOS_ERRORS:
        args = [a.replace("{work}", work) for a in args]
        answers = []
        for binary in (kestrel, qemu):
            p = subprocess.run([binary, "-S", "-display", "none", "-nodefaults"] + args, capture_output=True,
                               text=True, timeout=60, stdin=subprocess.DEVNULL)
            err = [l for l in p.stderr.splitlines() if "host doesn't support requested feature" not in l]
            answers.append((p.returncode, "\n".join(err).split(": ", 1)[-1]))
        report(answers[0] == answers[1] and answers[0][0] == 1, " ".join(args),
               "kestrel %r, qemu %r" % tuple(answers))


# Hostile qcow2 headers: (name, byte offset, struct format, value) patched
# into a fresh 1 MiB image; both VMMs refuse the -drive with the same words
# before the machine runs.
QCOW2_HEADER_ERRORS = [
    ("version", 4, ">I", 0xffffffff),
    ("cluster-bits-30", 20, ">I", 30),
    ("cluster-bits-8", 20, ">I", 8),
    ("l1-size", 36, ">I", 0x7fffffff),
    ("refcount-table-offset", 48, ">Q", 0x12345),
    ("incompatible-feature", 72, ">Q", 1 << 40),
]


def compare_qcow2_errors(kestrel, qemu, work):
    good = os.path.join(work, "good.qcow2")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", good, "1M"], check=True)
    images = []
    short = os.path.join(work, "short.qcow2")
    with open(good, "rb") as f, open(short, "wb") as out:
        out.write(f.read(50))
    images.append(("a header cut short", short))
    for name, offset, fmt, value in QCOW2_HEADER_ERRORS:
        path = os.path.join(work, "hostile-%s.qcow2" % name)
        with open(good, "rb") as f, open(path, "wb") as out:
            data = bytearray(f.read())
            data[offset:offset + struct.calcsize(fmt)] = struct.pack(fmt, value)
            out.write(data)
        images.append((name, path))
    for name, path in images:
        answers = []
        for binary in (kestrel, qemu):
            p = subprocess.run([binary, "-S", "-display", "none", "-nodefaults", "-drive",
                                "file=%s,format=qcow2,if=virtio" % path], capture_output=True, text=True,
                               timeout=60, stdin=subprocess.DEVNULL)
            err = [l for l in p.stderr.splitlines() if "module ui-" not in l]
            answers.append((p.returncode, "\n".join(err).split(": ", 1)[-1]))
        report(answers[0] == answers[1] and answers[0][0] == 1, "hostile qcow2 image (%s) refused as by QEMU" % name,
               "kestrel %r, qemu %r" % tuple(answers))


CPU_DEVICE = "qemu64-x86_64-cpu,"
CPU_DEVICE_ERRORS = [
    ["-smp", "1,maxcpus=2,sockets=2", "-device", "kvm64-x86_64-cpu,socket-id=1,core-id=0,thread-id=0"],
    ["-cpu", "kvm64", "-smp", "1,maxcpus=2,sockets=2", "-device", CPU_DEVICE + "socket-id=1,core-id=0,thread-id=0"],
    ["-smp", "1,maxcpus=4", "-device", CPU_DEVICE + "socket-id=1,core-id=0,thread-id=0"],
    ["-smp", "1,maxcpus=4,sockets=4", "-device", CPU_DEVICE + "socket-id=4,core-id=0,thread-id=0"],
    ["-smp", "1,maxcpus=4,sockets=4", "-device", CPU_DEVICE + "socket-id=1,core-id=1,thread-id=0"],
    ["-smp", "1,maxcpus=4,sockets=4", "-device", CPU_DEVICE + "socket-id=1,core-id=0,thread-id=1"],
    ["-smp", "1,maxcpus=4,sockets=4", "-device", CPU_DEVICE + "socket-id=1,core-id=0,thread-id=0,die-id=1"],
    ["-smp", "1,maxcpus=4,sockets=2,dies=2", "-device", CPU_DEVICE + "socket-id=1,core-id=0,thread-id=0"],
    ["-smp", "1,maxcpus=4,sockets=2,dies=2", "-device", CPU_DEVICE + "socket-id=1,die-id=2,core-id=0,thread-id=0"],
    ["-smp", "1,maxcpus=4,sockets=4", "-device", CPU_DEVICE + "core-id=0,thread-id=0"],
    ["-smp", "1,maxcpus=4,sockets=4", "-device", CPU_DEVICE + "socket-id=1,thread-id=0"],
    ["-smp", "1,maxcpus=4,sockets=4", "-device", CPU_DEVICE + "socket-id=1,core-id=0"],
    ["-smp", "1,maxcpus=4,sockets=4", "-device", CPU_DEVICE + "socket-id=-1,core-id=0,thread-id=0"],
    ["-smp", "1,maxcpus=4,sockets=4", "-device", CPU_DEVICE + "socket-id=x,core-id=0,thread-id=0"],
    ["-smp", "1,maxcpus=4,sockets=4", "-device", CPU_DEVICE + "socket-id=5000000000,core-id=0,thread-id=0"],
    ["-smp", "2,maxcpus=4,sockets=4", "-device", CPU_DEVICE + "socket-id=1,core-id=0,thread-id=0"],
    ["-smp", "1", "-device", CPU_DEVICE + "socket-id=0,core-id=0,thread-id=0"],
    ["-smp", "1,maxcpus=2,sockets=2", "-device", CPU_DEVICE + "socket-id=1,core-id=0,thread-id=0,id=a",
     "-device", CPU_DEVICE + "socket-id=1,core-id=0,thread-id=0"],
    ["-smp", "1,maxcpus=4,sockets=4", "-device", CPU_DEVICE + "apic-id=9"],
    ["-smp", "1,maxcpus=4,sockets=4", "-device", CPU_DEVICE + "apic-id=1,socket-id=2"],
    ["-smp", "1,maxcpus=4,sockets=4", "-device", CPU_DEVICE + "apic-id=-1"],
    ["-smp", "1,maxcpus=4,sockets=4", "-device", CPU_DEVICE + "socket-id=1,core-id=0,thread-id=0,foo=1"],
]


# virtio-rng-pci and its rng backends.
RNG_ERRORS = [
    ["-device", "virtio-rng-pci,rng=nope"], ["-object", "iothread,id=io", "-device", "virtio-rng,rng=io"],
    ["-device", "virtio-rng-pci,period=0"], ["-device", "virtio-rng-pci,period=-1"],
    ["-device", "virtio-rng-pci,period=4294967296"], ["-device", "virtio-rng-pci,max-bytes=-1"],
    ["-device", "virtio-rng-pci,max-bytes=9223372036854775808"], ["-device", "virtio-rng-pci,max-bytes=x"],
    ["-object", "rng-random,id=r,filename=/nonexistent/rng"], ["-object", "rng-random,id=r,filename="],
    ["-object", "rng-random,filename=/dev/urandom"], ["-object", "rng-random,id=r,foo=1"],
    ["-object", "rng-builtin,id=r,filename=/dev/urandom"],
    ["-object", '{"qom-type":"rng-random","id":"r","filename":5}'],
    ["-object", "rng-random,id=r", "-object", "rng-builtin,id=r"],
]


def compare_cpu_device_errors(kestrel, qemu, cases=CPU_DEVICE_ERRORS, title="-device CPU error: "):
    """Each bad command line: exit status 1 and QEMU's message (after the option)."""
    for args in cases:
        answers = []
        for binary in (kestrel, qemu):
            p = subprocess.run([binary, "-S", "-display", "none", "-nodefaults", "-machine", "pc,accel=kvm"] + args,
                               capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
            err = [l for l in p.stderr.splitlines() if "warning:" not in l]
            answers.append((p.returncode, "\n".join(err).split(": ", 1)[-1]))
        report(answers[0] == answers[1] and answers[0][0] == 1, title + " ".join(args),
               "kestrel %r, qemu %r" % tuple(answers))

def main():
    kestrel = os.path.abspath(sys.argv[1])
    qemu = sys.argv[2] if len(sys.argv) > 2 else "qemu-system-x86_64"
    compare_help(kestrel, qemu)
    compare_listings(kestrel, qemu)
    with tempfile.TemporaryDirectory(prefix="kestrel-compare-") as work:
        for name, args in CASES.items():
            try:
                compare_case(name, args, kestrel, qemu, work)
            except Exception as e:  # a VMM that did not start or answer
                report(False, name, repr(e))
        try:
            compare_default_cdrom(kestrel, qemu, work)
        except Exception as e:
            report(False, "the default empty CD-ROM drive", repr(e))
        try:
            compare_default_network(kestrel, qemu, work)
        except Exception as e:
            report(False, "the default network: an e1000 on user networking", repr(e))
        compare_smbios_errors(kestrel, qemu, work)
        compare_qcow2_errors(kestrel, qemu, work)
        compare_cpu_device_errors(kestrel, qemu)
        compare_cpu_device_errors(kestrel, qemu, RNG_ERRORS, "virtio-rng error: ")
        try:
            compare_cold_plugged_cpus(kestrel, qemu, work)
        except Exception as e:
            report(False, "-device CPUs: query-cpus-fast, info cpus, qom-list", repr(e))
        try:
            compare_iothreads(kestrel, qemu, work)
        except Exception as e:
            report(False, "query-iothreads", repr(e))
        for cpu in ("qemu64", "kvm64"):
            try:
                compare_vcpu_properties(kestrel, qemu, work, cpu)
            except Exception as e:
                report(False, "vCPU QOM (-cpu %s)" % cpu, repr(e))
        for name, (args, commands) in QMP_CASES.items():
            try:
                compare_qmp(name, args, commands, kestrel, qemu, work)
            except Exception as e:
                report(False, name, repr(e))
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

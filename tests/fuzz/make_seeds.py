#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into tests/fuzz/corpus/<target>/.

Each seed is an input as the target reads it (see the comment at the top of
each tests/fuzz/fuzz_*.cpp and devices/device_fuzzer.cpp): QMP sessions and
HMP key strokes as the guest drivers and unit tests send them, the guest
scenarios' command lines, driver-like register sequences (the virtio legacy
and modern handshakes and requests Linux makes), a real bzImage header,
qcow2 images made by qemu-img, the tiny test kernels (tests/tiny/kernel)
and a tiny vmlinux built here with its payload in each kernel compression.
Also writes tests/fuzz/dict/TARGET.dict, the words each parser looks for
(string literals of its sources), for libFuzzer's -dict. Run it again after
changing an input format or adding commands; the files are committed.

usage: make_seeds.py [--kernel PATH/TO/bzImage]
"""
import argparse
import bz2
import glob
import gzip
import lzma
import os
import re
import shlex
import shutil
import struct
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(HERE, "corpus")


def write(target, name, data):
    folder = os.path.join(OUT, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def u8(v): return struct.pack("<B", v & 0xff)
def u16(v): return struct.pack("<H", v & 0xffff)
def u32(v): return struct.pack("<I", v & 0xffffffff)
def u64(v): return struct.pack("<Q", v & 0xffffffffffffffff)


# --- QMP: option byte (bit 0 pretty, bits 1-7 chunk size - 1), then the stream
NEGOTIATE = b'{"execute": "qmp_capabilities"}\n'
QMP_SESSIONS = {
    "lifecycle": NEGOTIATE + b"".join(x + b"\n" for x in [
        b'{"execute": "query-status"}', b'{"execute": "cont"}', b'{"execute": "stop"}',
        b'{"execute": "human-monitor-command", "arguments": {"command-line": "info status"}}',
        b'{"execute": "cont", "id": 7}', b'{"execute": "query-cpus-fast"}', b'{"execute": "query-kvm"}',
        b'{"execute": "query-name"}', b'{"execute": "query-pci"}', b'{"execute": "query-chardev"}',
        b'{"execute": "pmemsave", "arguments": {"val": 0, "size": 4096, "filename": "/tmp/low.bin"}}',
        b'{"execute": "system_reset"}', b'{"execute": "system_powerdown"}', b'{"execute": "quit"}']),
    "bad-input": NEGOTIATE + b'{"execute": "query-status"]\n{"execute": "no-such-command"}\n'
        b'{"execute": "pmemsave", "arguments": {"val": "zero", "size": 1, "filename": "/dev/null"}}\n'
        b'{"execute": "query-status", "arguments": {"bogus": 1}}\n'
        b'{"execute": "query-status", "id": {"any": ["json", 1]}}\n'
        b"{'execute': 'query-status'}\n\xff\xfe{\"execute\": \"query-status\"}\n[1, 2.5e3, -0, true, null]\n"
        b'{"execute": "x\\u00e9\\ud83d\\ude00"}\n{"a": {"b": {"c": [[[[{}]]]]}}}\n',
    "before-negotiation": b'{"execute": "query-status"}\n{"execute": "qmp_capabilities", '
        b'"arguments": {"enable": ["oob"]}}\n{"exec-oob": "query-status", "id": 1}\n'
        b'{"execute": "qmp_capabilities"}\n',
    "introspection": NEGOTIATE + b'{"execute": "query-commands"}\n{"execute": "query-events"}\n'
        b'{"execute": "qom-list-types", "arguments": {"implements": "pci-device", "abstract": true}}\n'
        b'{"execute": "device-list-properties", "arguments": {"typename": "virtio-blk-pci"}}\n'
        b'{"execute": "device-list-properties", "arguments": {"typename": "isa-serial"}}\n'
        b'{"execute": "query-version"}\n{"execute": "query-machines"}\n{"execute": "query-iothreads"}\n',
    "memory": NEGOTIATE + b'{"execute": "memsave", "arguments": {"val": 4096, "size": 256, '
        b'"filename": "/tmp/m.bin", "cpu-index": 1}}\n'
        b'{"execute": "human-monitor-command", "arguments": {"command-line": "x /16xb 0x1000", "cpu-index": 1}}\n'
        b'{"execute": "human-monitor-command", "arguments": {"command-line": "xp /4i 0"}}\n'
        b'{"execute": "human-monitor-command", "arguments": {"command-line": "info registers"}}\n',
    "block": NEGOTIATE + b'{"execute": "query-block"}\n{"execute": "query-blockstats"}\n'
        b'{"execute": "block_set_io_throttle", "arguments": {"device": "d0", "bps": 1, "bps_rd": 0, '
        b'"bps_wr": 0, "iops": 0, "iops_rd": 0, "iops_wr": 0}}\n{"execute": "eject", "arguments": {"device": "d0"}}\n',
}


def qmp_seeds():
    for name, stream in QMP_SESSIONS.items():
        write("qmp", name, u8(0x7e) + stream)         # 64-byte chunks
    write("qmp", "lifecycle-pretty-bytewise", u8(0x01) + QMP_SESSIONS["lifecycle"])


# --- HMP: option byte (bits 0-6 chunk size - 1, bit 7 refocus), then keys
HMP_LINES = [
    b"info status\r", b"info version\r", b"info pci\r", b"info qtree\r", b"info mtree\r", b"info chardev\r",
    b"info registers\r", b"info cpus\r", b"x /8xb 0x1000\r", b"xp /4xw 0x1000\r", b"x /2i $pc\r",
    b"p 0x10 + 3 * 4\r", b"cpu 1\r", b"memsave 0 16 /tmp/m\r", b"pmemsave 0x1000 16 /tmp/p\r",
    b"log guest_errors\r", b"log foo\r", b"help info\r", b"stop\r", b"c\r", b"system_reset\r",
    b"nmi\r", b"info block\r", b"info blockstats\r", b"quit\r",
]


def hmp_seeds():
    write("hmp", "commands", u8(0x3f) + b"".join(HMP_LINES))
    edit = (b"inf\t\tst\t\r"            # completion
            b"info vers\x1b[D\x1b[Dxx\x7f\x7f\x01\x05\r"   # cursor moves, backspace, home/end
            b"\x1b[A\x1b[A\x1b[B\r"     # history
            b"x /8xb 0x10\x17\x17\r"    # Ctrl-W
            b"\x1b[1~\x1b[4~\x1bOH\x1bOF\x1b[3~\x04\x0c\r")
    write("hmp", "line-editing", u8(0x00) + edit)
    write("hmp", "refocus", u8(0x87) + b"info status\rinfo pci\r")


# --- argv: NUL-separated arguments (argv[1..])
def scenario_command_lines():
    out = []
    for path in sorted(glob.glob(os.path.join(REPO, "tests/guest/scenarios/*.toml"))):
        text = open(path).read()
        m = re.search(r'^command\s*=\s*"""(.*?)"""', text, re.S | re.M)
        if not m:
            continue
        cmd = m.group(1)
        cmd = cmd.replace("{vmm}", "").replace("{kernel}", "/boot/vmlinuz").replace("{initrd}", "/tmp/initrd")
        cmd = cmd.replace("{append}", "console=ttyS0 quiet").replace("{workdir}", "/tmp/w").replace(
            "{results}", "/tmp/r")
        cmd = re.sub(r"\{disk:(\w+)\}", r"/tmp/\1.img", cmd)
        out.append((os.path.basename(path)[:-5], shlex.split(cmd)))
    return out


LIBVIRT_LIKE = [
    "-name", "guest=vm1,debug-threads=on", "-S", "-machine", "pc-i440fx-7.2,usb=off,dump-guest-core=off",
    "-accel", "kvm", "-cpu", "host,migratable=on", "-m", "1024", "-smp", "2,sockets=2,cores=1,threads=1",
    "-uuid", "4f0a51c8-2b7a-4c55-9d0e-6a1b2c3d4e5f", "-no-user-config", "-nodefaults",
    "-chardev", "socket,id=charmonitor,path=/tmp/mon.sock,server=on,wait=off",
    "-mon", "chardev=charmonitor,id=monitor,mode=control", "-rtc", "base=utc,driftfix=slew",
    "-no-shutdown", "-boot", "strict=on", "-object", "iothread,id=iothread1",
    "-drive", "file=/tmp/disk.img,format=raw,if=none,id=drive-virtio-disk0,cache=none,aio=native",
    "-device", "virtio-blk-pci,iothread=iothread1,drive=drive-virtio-disk0,id=virtio-disk0,bootindex=1",
    "-chardev", "pty,id=charserial0", "-device", "isa-serial,chardev=charserial0,id=serial0",
    "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
    "-msg", "timestamp=on",
]


def argv_seeds():
    for name, args in scenario_command_lines():
        write("argv", name, b"\0".join(a.encode() for a in args))
    write("argv", "libvirt-like", b"\0".join(a.encode() for a in LIBVIRT_LIKE))
    for extra in (["-device", "help"], ["-machine", "help"], ["-device", "virtio-blk-pci,help"],
                  ["-runas", "nobody", "-chroot", "/tmp"], ["-global", "isa-serial.chardev=c0"]):
        write("argv", "-".join(re.sub(r"\W", "", e) for e in extra), b"\0".join(a.encode() for a in extra))


# --- options: (u8 index into kOptions, NUL-terminated value)*
OPTIONS = ["-drive", "-device", "-chardev", "-global", "-object", "-machine", "-smp", "-m",
           "-serial", "-mon", "-monitor", "-qmp", "-rtc", "-accel", "-cpu", "-name"]


def opt(name, value):
    return u8(OPTIONS.index(name)) + value.encode() + b"\0"


def options_seeds():
    seeds = {
        "drives-devices": [("-drive", "file=/tmp/a.img,if=none,id=da,format=raw,cache=none,aio=native"),
                           ("-device", "virtio-blk-pci,drive=da,num-queues=2,iothread=io0,serial=MQ,addr=5"),
                           ("-drive", "file=/tmp/b.img,if=virtio,format=raw,readonly=on,serial=RO"),
                           ("-device", "virtio-blk,drive=d0,bootindex=2,id=disk1")],
        "chardevs": [("-chardev", "socket,id=s1,path=/tmp/s.sock,server=on,wait=off"),
                     ("-chardev", "socket,id=s2,host=127.0.0.1,port=4444,server=on,wait=off,nodelay=on"),
                     ("-chardev", "udp,id=u1,host=127.0.0.1,port=5555,localport=5556"),
                     ("-chardev", "file,id=f1,path=/tmp/f.log,append=on"), ("-chardev", "pty,id=p1,mux=on"),
                     ("-serial", "chardev:p1"), ("-mon", "chardev=p1,mode=readline"),
                     ("-qmp", "unix:/tmp/q.sock,server,nowait"), ("-monitor", "tcp::4445,server=on,wait=off")],
        "machine": [("-machine", "pc-i440fx-7.2,accel=kvm,usb=off"), ("-smp", "4,sockets=2,cores=2,maxcpus=4"),
                    ("-m", "size=1G,slots=2,maxmem=4G"), ("-cpu", "host,+x2apic,-svm,pmu=off"),
                    ("-rtc", "base=2020-01-01T00:00:00,clock=host"), ("-accel", "kvm,kernel-irqchip=on"),
                    ("-name", "guest=g,process=p,debug-threads=on")],
        "globals": [("-global", "isa-serial.chardev=c0"), ("-device", "isa-serial,chardev=c0,id=com2"),
                    ("-global", "driver=virtio-blk-pci,property=num-queues,value=3"),
                    ("-object", "iothread,id=io1,poll-max-ns=0"), ("-device", "isa-debug-exit,iobase=0xf4")],
    }
    for name, pairs in seeds.items():
        write("options", name, b"".join(opt(o, v) for o, v in pairs))


# --- virtqueue: u8 log2 size, u16 desc, avail, used, u8 flags, then ops
def vq_poke(gpa, data):
    return u8(5) + u16(gpa) + u8(len(data)) + data


def desc(addr, length, flags, nxt):
    return u64(addr) + u32(length) + u16(flags) + u16(nxt)


def virtqueue_seeds():
    head = u8(4) + u16(0x1000) + u16(0x3000) + u16(0x4000) + u8(3)
    chain = (vq_poke(0x1000, desc(0x8000, 16, 1, 1)) + vq_poke(0x1010, desc(0x9000, 512, 3, 2)) +
             vq_poke(0x1020, desc(0xa000, 1, 2, 0)))
    indirect = vq_poke(0x1030, desc(0xb000, 48, 4, 0)) + vq_poke(0xb000, desc(0x8000, 16, 1, 1) +
                                                                 desc(0x9000, 512, 3, 2) + desc(0xa000, 1, 2, 0))
    avail = vq_poke(0x3000, u16(0) + u16(2) + u16(0) + u16(3))
    ops = u8(0) + u8(0) + u8(1) + u8(0) + u32(513) + u8(1) + u8(1) + u32(513) + u8(2) + u8(3) + u8(4)
    write("virtqueue", "chain-and-indirect", head + chain + indirect + avail + ops)
    loop = vq_poke(0x1000, desc(0x8000, 16, 1, 0)) + vq_poke(0x3000, u16(0) + u16(1) + u16(0)) + u8(0)
    write("virtqueue", "descriptor-loop", head + loop)
    write("virtqueue", "event-idx", head + avail + vq_poke(0x3000 + 4 + 32, u16(0)) + chain + ops + u8(4) + u8(0))


# --- bzImage: u8 flags, u16 initrd size, u16 cmdline length, kernel bytes
def synthetic_bzimage(pm_size=0x3000):
    setup = (4 + 1) * 512
    v = bytearray(setup + pm_size)
    v[0x1f1] = 4
    struct.pack_into("<H", v, 0x1fe, 0xaa55)
    v[0x200], v[0x201] = 0xeb, 0x6a
    v[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", v, 0x206, 0x020f)
    v[0x211] = 1
    struct.pack_into("<I", v, 0x22c, 0x7fffffff)
    struct.pack_into("<I", v, 0x230, 0x200000)
    v[0x234] = 1
    struct.pack_into("<H", v, 0x236, 1)
    struct.pack_into("<I", v, 0x238, 0x7ff)
    struct.pack_into("<Q", v, 0x258, 0x1000000)
    struct.pack_into("<I", v, 0x260, 0x800000)
    return bytes(v)


def bzimage_seeds(kernel):
    write("bzimage", "synthetic", u8(1) + u16(4096) + u16(40) + synthetic_bzimage())
    if kernel and os.path.exists(kernel):
        data = open(kernel, "rb").read()
        setup = (data[0x1f1] + 1) * 512
        write("bzimage", "debian-header", u8(1) + u16(1024) + u16(200) + data[:setup + 4096])


# --- qcow2: u8 flags, 8 ops {u8 kind, u64 offset, u16 length}, image bytes
READ, WRITE, ZERO, ZERO_UNMAP, DISCARD, FLUSH, STATUS, COMPRESSED = range(8)
QCOW2_MAX_SEED = 16 << 10   # longer images are cut: past the end reads as zeros
QCOW2_RAW_DATA = [(0, 512, 0x11), (64 << 10, 512, 0x22), (200 << 10, 1024, 0x33), (900 << 10, 512, 0x44)]
# name, qemu-img create/convert options, compressed (convert -c)
QCOW2_IMAGES = [
    ("c512", "cluster_size=512", False),
    ("c512-v2", "cluster_size=512,compat=0.10", False),
    ("c512-refcount1", "cluster_size=512,refcount_bits=1", False),
    ("c512-refcount64", "cluster_size=512,refcount_bits=64", False),
    ("c512-lazy", "cluster_size=512,lazy_refcounts=on", False),
    ("c512-compressed", "cluster_size=512", True),
    ("c512-zstd", "cluster_size=512,compression_type=zstd", True),
    ("c4k", "cluster_size=4096", False),
    ("c64k", "cluster_size=65536", False),        # the header cluster only, once cut
    ("c2m", "cluster_size=2097152", False),
]


def qemu_img(*args, cwd=None):
    subprocess.run(["qemu-img"] + list(args), check=True, capture_output=True, cwd=cwd)


def qcow2_ops(cluster):
    ops = [(WRITE, 0, 4096), (READ, 0, 8192), (ZERO, 3 * cluster, 2 * cluster), (WRITE, 5 * cluster + 100, 3000),
           (DISCARD, 8 * cluster, 4 * cluster), (COMPRESSED, 16 * cluster, 0), (STATUS, 0, 65535),
           (ZERO_UNMAP, 64 << 10, 1024)]
    return b"".join(u8(kind) + u64(offset) + u16(min(length, 0xffff)) for kind, offset, length in ops)


def qcow2_seed(flags, cluster, path):
    data = open(path, "rb").read()[:QCOW2_MAX_SEED].rstrip(b"\0")
    return u8(flags) + qcow2_ops(cluster) + data


def raw_with_data(path, size=1 << 20):
    with open(path, "wb") as f:
        f.truncate(size)
        for off, n, byte in QCOW2_RAW_DATA:
            f.seek(off)
            f.write(bytes((byte + i) & 0xff for i in range(n)))


def set_header_bit(path, offset, bit):
    with open(path, "r+b") as f:
        f.seek(offset)
        v = struct.unpack(">Q", f.read(8))[0] | (1 << bit)
        f.seek(offset)
        f.write(struct.pack(">Q", v))


def qcow2_seeds():
    """Real images from qemu-img 7.2; the seed's flags open the second copy
    read-write (1), side by side (3), repaired first (5)."""
    if not shutil.which("qemu-img"):
        print("qemu-img not found: no qcow2 seeds")
        return
    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, "data.raw")
        raw_with_data(raw)
        for name, opts, compressed in QCOW2_IMAGES:
            img = os.path.join(tmp, name + ".qcow2")
            qemu_img("convert", "-S", "512", *(["-c"] if compressed else []), "-f", "raw", "-O", "qcow2", "-o", opts,
                     raw, img)
            cluster = int(re.search(r"cluster_size=(\d+)", opts).group(1))
            write("qcow2", name, qcow2_seed(1, cluster, img))
        c512 = os.path.join(tmp, "c512.qcow2")
        write("qcow2", "c512-read-only", qcow2_seed(0, 512, c512))
        write("qcow2", "c512-side-by-side", qcow2_seed(3, 512, c512))
        # The lazy refcounts image as a crash leaves it: dirty, repaired when
        # opened read-write (and by check -r all).
        lazy = os.path.join(tmp, "c512-lazy.qcow2")
        set_header_bit(lazy, 72, 0)
        write("qcow2", "c512-lazy-dirty", qcow2_seed(1, 512, lazy))
        write("qcow2", "c512-lazy-dirty-repair", qcow2_seed(5, 512, lazy))
        # Internal snapshots: clusters shared by two L1 tables.
        snap = os.path.join(tmp, "snap.qcow2")
        qemu_img("convert", "-S", "512", "-f", "raw", "-O", "qcow2", "-o", "cluster_size=512", raw, snap)
        qemu_img("snapshot", "-c", "first", snap)
        if shutil.which("qemu-io"):  # a cluster written after it: the copy-on-write of a shared cluster
            subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x55 0 512", snap], check=True,
                           capture_output=True)
        qemu_img("snapshot", "-c", "second", snap)
        write("qcow2", "c512-snapshots", qcow2_seed(1, 512, snap))
        # Backing files the target provides (base.raw, 64 KiB), the image's
        # other copy, and itself (a loop).
        base = os.path.join(tmp, "base.raw")
        with open(base, "wb") as f:
            f.truncate(64 << 10)
        for name, backing, fmt in [("backing-raw", "base.raw", "raw"), ("backing-qcow2", "rw.qcow2", "qcow2"),
                                   ("backing-loop", "ro.qcow2", "qcow2"), ("backing-missing", "nothere.img", "raw")]:
            img = os.path.join(tmp, name + ".qcow2")
            qemu_img("create", "-f", "qcow2", "-u", "-b", backing, "-F", fmt, "-o", "cluster_size=512", img, "1M",
                     cwd=tmp)
            write("qcow2", "c512-" + name, qcow2_seed(1, 512, img))


# --- tiny kernels: tests/tiny/kernel/build.sh (multiboot ELF, a.out kludge
# binary, PVH ELF32 and ELF64), and a vmlinux as Linux's build makes it for
# the payload: linked at 0xffffffff81000000 (physical 16 MiB), followed by
# its relocation table.
VMLINUX_S = r"""
    .text
    .globl startup_64
startup_64:
    movq $target, %rax          /* imm32 at startup_64 + 3: a 32-bit relocation */
    movq reloc64(%rip), %rbx
    hlt
    .data
    .balign 8
reloc64: .quad target           /* a 64-bit relocation */
inverse: .long 0x1000           /* an inverse 32-bit relocation (per-CPU offsets) */
    .balign 8
target: .quad 0x1122334455667788
    .bss
    .skip 8192                  /* .bss: memory beyond the file */
"""
VMLINUX_LD = """
ENTRY(phys_startup_64)
SECTIONS {
    . = 0xffffffff81000000;
    .text : AT(ADDR(.text) - 0xffffffff80000000) { *(.text*) }
    .data : AT(ADDR(.data) - 0xffffffff80000000) { *(.data*) }
    .bss : AT(ADDR(.bss) - 0xffffffff80000000) { *(.bss*) }
    phys_startup_64 = startup_64 - 0xffffffff80000000;
    /DISCARD/ : { *(.note*) *(.comment) *(.eh_frame*) }
}
"""
def tiny_vmlinux(tmp):
    """The vmlinux and its relocation table: forward, 0, the 64-bit list, 0,
    the inverse list, 0, the 32-bit list (the kernel reads it backwards)."""
    src, ld, elf = (os.path.join(tmp, n) for n in ("vmlinux.S", "vmlinux.ld", "vmlinux"))
    open(src, "w").write(VMLINUX_S)
    open(ld, "w").write(VMLINUX_LD)
    subprocess.run(["gcc", "-c", "-o", elf + ".o", src], check=True, capture_output=True)
    subprocess.run(["ld", "-m", "elf_x86_64", "-n", "-nostdlib", "-T", ld, "-o", elf + ".full", elf + ".o"],
                   check=True, capture_output=True)
    nm = subprocess.run(["nm", elf + ".full"], check=True, capture_output=True, text=True).stdout
    sym = {f[2]: int(f[0], 16) for f in (line.split() for line in nm.splitlines()) if len(f) == 3}
    subprocess.run(["objcopy", "-S", elf + ".full", elf], check=True, capture_output=True)
    table = u32(0) + u32(sym["reloc64"]) + u32(0) + u32(sym["inverse"]) + u32(0) + u32(sym["startup_64"] + 3)
    return open(elf, "rb").read() + table


def compressed_payloads(vmlinux):
    """The payload as each kernel compression writes it, its decompressed
    size appended (gzip's own trailer already ends with it)."""
    size = u32(len(vmlinux))
    out = {"gzip": gzip.compress(vmlinux, 9, mtime=0),
           "bzip2": bz2.compress(vmlinux, 9) + size,
           "lzma": lzma.compress(vmlinux, format=lzma.FORMAT_ALONE) + size,
           "xz": lzma.compress(vmlinux, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32) + size}
    for name, cmd in (("zstd", ["zstd", "-19", "-c"]), ("lz4", ["lz4", "-l", "-9", "-c"])):
        if shutil.which(cmd[0]):
            out[name] = subprocess.run(cmd, input=vmlinux, check=True, capture_output=True).stdout + size
    return out


def kernel_seeds(bzimage):
    """fuzz-kernel-payload: u8 flags (KASLR), u8 link address (2 MiB units
    - 1), u64 seed, payload. fuzz-boot-image: u8 flags (modules), u16 mod0
    size, u16 command line length, kernel file."""
    head = u8(1) + u8(7) + u64(0x0123456789abcdef)
    boot = os.path.join(REPO, "tests/tiny/kernel/build.sh")
    with tempfile.TemporaryDirectory() as tmp:
        vmlinux = tiny_vmlinux(tmp)
        write("kernel-payload", "vmlinux", head + vmlinux)
        write("kernel-payload", "vmlinux-nokaslr", u8(2) + u8(7) + u64(0) + vmlinux)
        for name, payload in compressed_payloads(vmlinux).items():
            write("kernel-payload", name, head + payload)
        write("boot-image", "vmlinux-without-pvh", u8(0) + u16(0) + u16(10) + vmlinux)
        subprocess.run(["bash", boot, tmp], check=True, capture_output=True)
        for name, flags in (("tiny-mb.elf", 7), ("tiny-mb.bin", 3), ("tiny-pvh.elf", 1), ("tiny-pvh64.elf", 0)):
            write("boot-image", name, u8(flags) + u16(300) + u16(40) + open(os.path.join(tmp, name), "rb").read())
    write("boot-image", "bzimage", u8(0) + u16(0) + u16(40) + synthetic_bzimage())


# --- devices: ops of device_fuzzer.cpp
W, R, CW, CR, POKE, LOOP, BARS, RESET, PAUSE, INPUT = range(10)


def wr(region, offset, size_log2, value):
    return u8(W) + u8(region) + u32(offset) + u8(size_log2) + u64(value)


def rd(region, offset, size_log2):
    return u8(R) + u8(region) + u32(offset) + u8(size_log2)


def cw(fn, offset, size_log2, value):
    return u8(CW) + u8(fn) + u8(offset) + u8(size_log2) + u32(value)


def cr(fn, offset, size_log2):
    return u8(CR) + u8(fn) + u8(offset) + u8(size_log2)


def poke(gpa, data):
    out = b""
    for at in range(0, len(data), 4095):
        part = data[at:at + 4095]
        out += u8(POKE) + u32(gpa + at) + u16(len(part)) + part
    return out


def loop(n=4): return u8(LOOP) + u8(n - 1)


def host_input(data): return u8(INPUT) + u8(len(data)) + data


def config_probe(functions=1):
    return b"".join(cr(f, off, 2) for f in range(functions) for off in range(0, 256, 4))


def blk_request(kind, sector, data_len, base, write_data=False):
    """Header, data and status buffers at base; descriptors for them."""
    header = u32(kind) + u32(0) + u64(sector)
    bufs = [(base, 16, 0), (base + 0x1000, data_len, 0 if write_data else 2), (base + 0x2000, 1, 2)]
    if data_len == 0:
        bufs = [bufs[0], bufs[2]]
    return header, bufs


def virtio_blk_seeds():
    # Legacy I/O BAR (region 1 after 0xCF8's ports): status, features, queue
    # PFN, then a read, a write, a flush, get-id, discard, write-zeroes.
    ring, desc_table, avail, used = 0x10000, 0x10000, 0x11000, 0x12000
    legacy = u8(BARS) + config_probe()
    legacy += wr(1, 18, 0, 1) + wr(1, 18, 0, 3) + rd(1, 0, 2) + wr(1, 4, 2, (1 << 28) | (1 << 29) | (1 << 9))
    legacy += wr(1, 14, 1, 0) + rd(1, 12, 1) + wr(1, 8, 2, ring >> 12) + wr(1, 18, 0, 7)
    requests = [blk_request(0, 0, 512, 0x20000), blk_request(1, 8, 512, 0x30000, True),
                blk_request(4, 0, 0, 0x40000), blk_request(8, 0, 20, 0x50000),
                blk_request(11, 0, 16, 0x60000, True), blk_request(13, 0, 16, 0x70000, True)]
    descs = b""
    n = 0
    for i, (header, bufs) in enumerate(requests):
        legacy += poke(bufs[0][0], header)
        for j, (addr, length, flags) in enumerate(bufs):
            last = j == len(bufs) - 1
            descs += desc(addr, length, flags | (0 if last else 1), n + 1 if not last else 0)
            n += 1
    legacy += poke(desc_table, descs)
    heads, n = [], 0
    for header, bufs in requests:
        heads.append(n)
        n += len(bufs)
    legacy += poke(avail, u16(0) + u16(len(heads)) + b"".join(u16(h) for h in heads))
    legacy += wr(1, 16, 1, 0) + loop(8) + rd(1, 19, 0) + loop(8) + rd(1, 20, 2) + rd(1, 24, 2)
    write("device-virtio-blk-pci", "legacy-requests", legacy)
    # Modern: common config at the start of BAR4 (region 3), notify at 0x3000.
    modern = u8(BARS) + config_probe()
    modern += wr(3, 0x14, 0, 1) + wr(3, 0x14, 0, 3)
    for sel in (0, 1):
        modern += wr(3, 0x0, 2, sel) + rd(3, 0x4, 2) + wr(3, 0x8, 2, sel)
        modern += wr(3, 0xc, 2, [(1 << 28) | (1 << 29) | (1 << 9), 1][sel])
    modern += wr(3, 0x14, 0, 11) + rd(3, 0x14, 0) + wr(3, 0x16, 1, 0) + rd(3, 0x18, 1) + wr(3, 0x18, 1, 256)
    modern += wr(3, 0x1a, 1, 1) + wr(3, 0x20, 3, desc_table) + wr(3, 0x28, 3, avail) + wr(3, 0x30, 3, used)
    modern += wr(3, 0x1c, 1, 1) + wr(3, 0x10, 1, 0) + wr(3, 0x14, 0, 15)
    modern += wr(2, 0x10, 2, 0xfee00000) + wr(2, 0x18, 2, 0x4021) + wr(2, 0x1c, 2, 0)
    modern += cw(0, 0x42, 1, 0x8000)  # MSI-X enable (capability at 0x40 in QEMU's layout)
    modern += poke(0x20000, u32(0) + u32(0) + u64(0)) + poke(desc_table, desc(0x20000, 16, 1, 1) +
                                                              desc(0x21000, 4096, 3, 2) + desc(0x22000, 1, 2, 0))
    modern += poke(avail, u16(0) + u16(1) + u16(0)) + wr(3, 0x3000, 1, 0) + loop(8) + rd(3, 0x2000, 3)
    modern += rd(3, 0x1000, 0) + u8(RESET) + rd(3, 0x14, 0)
    write("device-virtio-blk-pci", "modern-request", modern)


def isa_seeds():
    serial = (wr(0, 3, 0, 0x80) + wr(0, 0, 0, 1) + wr(0, 1, 0, 0) + wr(0, 3, 0, 3) + wr(0, 2, 0, 0xc7) +
              wr(0, 1, 0, 0x0f) + wr(0, 4, 0, 0x0b) + b"".join(wr(0, 0, 0, c) for c in b"hello\n") +
              host_input(b"typed\r") + loop() + rd(0, 5, 0) + rd(0, 2, 0) + rd(0, 0, 0) + rd(0, 6, 0) +
              wr(0, 4, 0, 0x1b) + wr(0, 0, 0, 0x55) + rd(0, 0, 0) + u8(RESET))
    write("device-isa-serial", "driver", serial)
    rtc = b"".join(wr(0, 0, 0, r) + rd(0, 1, 0) for r in range(0, 0x80, 1))
    rtc += wr(0, 0, 0, 0x0a) + wr(0, 1, 0, 0x26) + wr(0, 0, 0, 0x0b) + wr(0, 1, 0, 0x52) + loop()
    rtc += wr(0, 0, 0, 0x0c) + rd(0, 1, 0) + wr(0, 0, 0, 0x0b) + wr(0, 1, 0, 0x86) + wr(0, 0, 0, 0) + wr(0, 1, 0, 0x59)
    write("device-mc146818rtc", "driver", rtc)
    kbd = b""
    for cmd, data in [(0x20, None), (0x60, 0x47), (0xaa, None), (0xab, None), (0xae, None), (0xa8, None),
                      (0xd4, 0xf4), (0xd4, 0xf3), (0xd2, 0x1c), (0xd3, 0x55), (0xd1, 0xdf), (0xfe, None)]:
        kbd += wr(1, 0, 0, cmd) + (wr(0, 0, 0, data) if data is not None else b"") + rd(1, 0, 0) + rd(0, 0, 0)
    kbd += wr(0, 0, 0, 0xff) + rd(0, 0, 0) + rd(0, 0, 0) + wr(0, 0, 0, 0xed) + wr(0, 0, 0, 7) + rd(0, 0, 0)
    write("device-i8042", "driver", kbd)
    write("device-port92", "driver", rd(0, 0, 0) + wr(0, 0, 0, 2) + rd(0, 0, 0) + wr(0, 0, 0, 1))
    write("device-isa-debug-exit", "driver", wr(0, 0, 0, 0) + wr(0, 0, 1, 3) + rd(0, 0, 2))


def pci_board_seeds():
    pm = config_probe() + cw(0, 0x40, 2, 0xb001) + cw(0, 0x80, 0, 1) + cw(0, 0x04, 1, 1)
    pm += cw(0, 0x90, 2, 0xb101) + cw(0, 0xd2, 0, 9) + u8(BARS)
    pm += b"".join(rd(i, off, 1) for i in range(4) for off in (0, 2, 4, 8, 0x10))
    pm += wr(0, 2, 1, 0x0121) + wr(0, 4, 1, 0x2001) + wr(0, 4, 1, 0x3c01) + loop()
    write("device-piix4-pm", "driver", pm)
    # The CPU hotplug registers (0xaf00) as the DSDT's methods use them,
    # at each region index (their place among the PM function's varies):
    # the legacy bitmap, _INI's switch (0 at offset 0), then CSCN and _EJ0.
    cpuhp = config_probe() + cw(0, 0x80, 0, 1) + wr(1, 2, 1, 1 << 2)
    for r in range(6):
        cpuhp += rd(r, 0, 0) + wr(r, 0, 2, 0) + wr(r, 0, 2, 1) + rd(r, 4, 0) + wr(r, 5, 0, 0) + rd(r, 8, 2) + wr(r, 4, 0, 2) + wr(r, 5, 0, 3)
        cpuhp += rd(r, 8, 2) + rd(r, 0, 2) + wr(r, 5, 0, 1) + wr(r, 8, 2, 0x103) + wr(r, 4, 0, 8) + wr(r, 0, 2, 9)
        cpuhp += rd(r, 4, 0) + loop()
    write("device-piix4-pm-cpuhp", "driver", cpuhp)
    piix3 = config_probe() + b"".join(cw(0, 0x60 + i, 0, 0x0a + i) for i in range(4)) + cw(0, 0x60, 0, 0x80)
    piix3 += b"".join(wr(r, 0, 0, v) for r in range(3) for v in (2, 4, 6, 0x0e)) + u8(RESET)
    write("device-piix3", "driver", piix3)
    i440fx = config_probe() + b"".join(cw(0, 0x59 + i, 0, 0x33) for i in range(7)) + cw(0, 0x72, 0, 0x0a)
    write("device-i440fx", "driver", i440fx)
    host = b"".join(wr(0, 0, 2, 0x80000000 | off) + rd(0, 4, 2) for off in range(0, 0x40, 4))
    host += wr(0, 0, 2, 0x80000000 | 0x800) + wr(0, 4, 2, 0xffffffff) + rd(0, 6, 1) + rd(0, 1, 0)
    write("device-i440fx-pcihost", "driver", host)


def ide_seeds():
    """piix3-ide: pio regions 0 ide1 (0x170), 1 ide0 (0x1f0), 2 and 3 the
    control ports, 4 the bus-master BAR once placed (0xc000)."""
    seed = u8(BARS) + wr(1, 6, 0, 0xa0) + wr(1, 7, 0, 0xec) + b"".join(rd(1, 0, 1) for _ in range(16))
    seed += wr(1, 2, 0, 2) + wr(1, 3, 0, 1) + wr(1, 6, 0, 0xe0) + wr(1, 7, 0, 0x20) + rd(1, 7, 0)
    seed += b"".join(rd(1, 0, 2) for _ in range(8))
    seed += poke(0x1000, u32(0x2000) + u32(0x80000400)) + wr(4, 4, 2, 0x1000)
    seed += wr(1, 2, 0, 2) + wr(1, 7, 0, 0xc8) + wr(4, 0, 0, 9) + rd(4, 2, 0) + wr(4, 2, 0, 6)
    seed += wr(3, 0, 0, 4) + wr(3, 0, 0, 0) + rd(1, 4, 0)
    packet = [0x0028, 0, 0, 0, 1, 0]  # READ(10) of LBA 0, one block
    seed += wr(0, 6, 0, 0xa0) + wr(0, 4, 0, 0) + wr(0, 5, 0, 8) + wr(0, 7, 0, 0xa0)
    seed += b"".join(wr(0, 0, 1, w) for w in packet) + rd(0, 7, 0) + b"".join(rd(0, 0, 1) for _ in range(16))
    write("device-piix3-ide", "driver", seed)


def register_sweep(regions, offsets, values=(0, 1, 0xff)):
    """Writes and reads over the first regions: the fuzzer finds its way
    from any register the device has."""
    out = b""
    for r in range(regions):
        for off in offsets:
            for v in values:
                out += wr(r, off, 0, v) + rd(r, off, 0)
    return out


def virtio_legacy_init(features):
    """The legacy transport's handshake (region 1 is the I/O BAR) and queue 0
    at 0x10000, as virtio_blk_seeds does it."""
    seed = u8(BARS) + config_probe()
    seed += wr(1, 18, 0, 1) + wr(1, 18, 0, 3) + rd(1, 0, 2) + wr(1, 4, 2, features)
    return seed + wr(1, 14, 1, 0) + rd(1, 12, 1) + wr(1, 8, 2, 0x10000 >> 12) + wr(1, 18, 0, 7)


def new_device_seeds():
    # virtio-net: a control-queue command (VIRTIO_NET_CTRL_RX promisc on)
    # on queue 2 and a TX frame on queue 1.
    net = virtio_legacy_init((1 << 17) | (1 << 18) | (1 << 22))
    net += wr(1, 14, 1, 2) + wr(1, 8, 2, 0x20000 >> 12) + wr(1, 14, 1, 1) + wr(1, 8, 2, 0x30000 >> 12)
    net += poke(0x40000, u8(0) + u8(0) + u8(1)) + poke(0x20000, desc(0x40000, 2, 1, 1) + desc(0x40002, 1, 1, 2)
                                                       + desc(0x40010, 1, 2, 0))
    net += poke(0x21000, u16(0) + u16(1) + u16(0)) + wr(1, 16, 1, 2) + loop(8)
    net += poke(0x50000, bytes(12) + b"\xff" * 6 + b"\x52\x54\x00\x12\x34\x56\x08\x00" + bytes(46))
    net += poke(0x30000, desc(0x50000, 72, 0, 0)) + poke(0x31000, u16(0) + u16(1) + u16(0)) + wr(1, 16, 1, 1)
    write("device-virtio-net-pci", "legacy-ctrl-tx", net + loop(8) + rd(1, 19, 0))
    # virtio-balloon: inflate two pages (queue 0), deflate one (queue 1).
    balloon = virtio_legacy_init(0) + wr(1, 14, 1, 1) + wr(1, 8, 2, 0x20000 >> 12)
    balloon += poke(0x40000, u32(0x80) + u32(0x81)) + poke(0x10000, desc(0x40000, 8, 0, 0))
    balloon += poke(0x11000, u16(0) + u16(1) + u16(0)) + wr(1, 16, 1, 0) + loop(4)
    balloon += poke(0x20000, desc(0x40000, 4, 0, 0)) + poke(0x21000, u16(0) + u16(1) + u16(0)) + wr(1, 16, 1, 1)
    write("device-virtio-balloon-pci", "inflate-deflate", balloon + loop(4) + rd(1, 20, 2))
    # virtio-rng (queue size 8: avail at 0x10080): a writable buffer, then
    # a readable-only one, both on queue 0.
    rng = virtio_legacy_init(0) + poke(0x10000, desc(0x40000, 64, 2, 0) + desc(0x40100, 16, 0, 0))
    rng += poke(0x10080, u16(0) + u16(1) + u16(0)) + wr(1, 16, 1, 0) + loop(4)
    rng += poke(0x10080, u16(0) + u16(2) + u16(0) + u16(1)) + wr(1, 16, 1, 0) + loop(4)
    write("device-virtio-rng-pci", "fill-and-readable", rng + rd(1, 19, 0))
    # fw_cfg: the signature through the data port, the file directory, then
    # a DMA read of the signature (descriptor big-endian, at 0x1000).
    fw = wr(0, 0, 1, 0) + b"".join(rd(1, 0, 0) for _ in range(4)) + wr(0, 0, 1, 0x19)
    fw += b"".join(rd(1, 0, 0) for _ in range(16))
    dma = struct.pack(">IIQ", (0 << 16) | 0x08 | 0x02, 4, 0x2000)
    fw += poke(0x1000, dma) + wr(2, 0, 2, 0) + wr(2, 4, 2, struct.unpack("<I", struct.pack(">I", 0x1000))[0])
    write("device-fw_cfg_io", "data-and-dma", fw + register_sweep(3, range(0, 8, 2)))
    # UHCI: frame list at 0x10000 pointing at a QH and a TD (SETUP of
    # GET_DESCRIPTOR to address 0), the controller run.
    uhci = u8(BARS) + config_probe() + wr(4, 0, 1, 2) + wr(4, 0x10, 1, 0x0004) + wr(4, 0x08, 2, 0x10000)
    uhci += poke(0x10000, b"".join(u32(0x11000 | 2) for _ in range(8)))
    uhci += poke(0x11000, u32(1) + u32(0x12000))
    uhci += poke(0x12000, u32(1) + u32(0x00800000) + u32((7 << 21) | 0x2d) + u32(0x13000))
    uhci += poke(0x13000, bytes([0x80, 6, 0, 1, 0, 0, 18, 0])) + wr(4, 0, 1, 1) + loop(8) + rd(4, 2, 1)
    write("device-piix3-usb-uhci", "setup-td", uhci)
    # e1000: link up, both rings at 0x10000/0x20000, one legacy TX
    # descriptor (EOP|IFCS|RS) of a 60-byte frame, in whichever of the
    # first regions the MMIO BAR is.
    e1000 = u8(BARS) + config_probe()
    e1000 += poke(0x30000, b"\xff" * 6 + b"\x52\x54\x00\x12\x34\x56\x08\x00" + bytes(46))
    e1000 += poke(0x10000, u64(0x30000) + u16(60) + u8(0) + u8(0x0b) + u32(0))
    for r in (1, 2):
        for reg, value in ((0x0, 0x40), (0xd0, 0xffff), (0x3800, 0x10000), (0x3808, 0x1000), (0x3810, 0),
                           (0x2800, 0x20000), (0x2808, 0x1000), (0x2818, 8), (0x100, 0x801a), (0x400, 0x10a),
                           (0x3818, 1)):
            e1000 += wr(r, reg, 2, value)
        e1000 += loop(4) + rd(r, 0xc0, 2) + rd(r, 0x8, 2)
    write("device-e1000", "tx-one-frame", e1000)
    # VGA and cirrus: every port of the first regions, then a mode set by
    # the Bochs VBE registers (std VGA) or the cirrus extended sequencer.
    vga = u8(BARS) + config_probe() + register_sweep(6, range(0, 0x20), (0, 0x0f, 0xff))
    write("device-vga", "ports", vga)
    write("device-cirrus-vga", "ports", vga + register_sweep(8, range(0, 0x40, 3), (0x12, 0x31, 0xff)))


# --- dictionaries: the words each parser looks for, from the sources
WORD = re.compile(r'"([A-Za-z_][A-Za-z0-9_.:|-]{1,40})"')


def words_in(patterns):
    found = set()
    for pattern in patterns:
        for path in glob.glob(os.path.join(REPO, pattern), recursive=True):
            for w in WORD.findall(open(path, errors="replace").read()):
                found.update(w.split("|"))  # HMP's "cont|c"
    return sorted(w for w in found if w)


def write_dict(target, words, raw=()):
    """raw entries are written as they are (libFuzzer's \\xNN escapes)."""
    folder = os.path.join(HERE, "dict")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, target + ".dict"), "w") as f:
        for r in raw:
            f.write('"%s"\n' % r)
        for w in words:
            f.write('"%s"\n' % w.replace("\\", "\\\\").replace('"', '\\"'))


def virtio_serial_seeds():
    """virtio-serial-pci (legacy, multiport): control queues at 0x20000 and
    0x30000 (32 entries: avail at +0x200), port 1's receive and transmit at
    0x40000 and 0x50000 (128: avail at +0x800). DEVICE_READY, PORT_READY
    and PORT_OPEN for port 1, a line out on it, a line of host input in."""
    s = u8(BARS) + config_probe() + wr(1, 18, 0, 1) + wr(1, 18, 0, 3) + rd(1, 0, 2) + wr(1, 4, 2, 1 << 1)
    for q, at in ((2, 0x20000), (3, 0x30000), (4, 0x40000), (5, 0x50000)):
        s += wr(1, 14, 1, q) + rd(1, 12, 1) + wr(1, 8, 2, at >> 12)
    s += wr(1, 18, 0, 7)
    s += poke(0x20000, b"".join(desc(0x60000 + 64 * i, 64, 2, 0) for i in range(4)))
    s += poke(0x20200, u16(0) + u16(4) + u16(0) + u16(1) + u16(2) + u16(3)) + wr(1, 16, 1, 2)
    msgs = u32(0) + u16(0) + u16(1) + u32(1) + u16(3) + u16(1) + u32(1) + u16(6) + u16(1)
    s += poke(0x61000, msgs) + poke(0x30000, b"".join(desc(0x61000 + 8 * i, 8, 0, 0) for i in range(3)))
    s += poke(0x30200, u16(0) + u16(3) + u16(0) + u16(1) + u16(2)) + wr(1, 16, 1, 3) + loop(4)
    s += poke(0x62000, b"hello\n") + poke(0x50000, desc(0x62000, 6, 0, 0))
    s += poke(0x50800, u16(0) + u16(1) + u16(0)) + wr(1, 16, 1, 5) + loop(4)
    s += host_input(b"ping\n") + poke(0x40000, desc(0x63000, 64, 2, 0))
    s += poke(0x40800, u16(0) + u16(1) + u16(0)) + wr(1, 16, 1, 4) + loop(4)
    write("device-virtio-serial-pci", "handshake-and-data", s + rd(1, 19, 0))


def dictionaries():
    write_dict("qmp", words_in(["src/monitor/qmp/*.cpp"]),
               [r'{\"execute\": \"', r'\"arguments\": {', r'\"exec-oob\": \"', r'\"id\": ', "true", "false",
                "null"])
    write_dict("hmp", words_in(["src/monitor/hmp/*.cpp"]),
               [r"\x1b[A", r"\x1b[B", r"\x1b[C", r"\x1b[D", r"\x1b[3~", r"\x1bOH", r"\x09", r"\x0d", r"\x7f"])
    options = ["-" + w for w in WORD.findall(open(os.path.join(REPO, "src/config/option_table.cpp")).read())
               if re.fullmatch(r"[a-zA-Z][a-z0-9-]*", w)]
    words = words_in(["src/config/*.cpp", "src/devices/**/*.cpp", "src/chardev/*.cpp", "src/virtio/**/*.cpp"])
    write_dict("argv", options + words)
    write_dict("options", words)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--kernel", default=next(iter(sorted(glob.glob(os.path.expanduser(
        "~/.cache/kestrel/kernel/*/boot/vmlinuz-*")))), None))
    args = p.parse_args()
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    qmp_seeds()
    hmp_seeds()
    argv_seeds()
    options_seeds()
    virtqueue_seeds()
    bzimage_seeds(args.kernel)
    virtio_blk_seeds()
    isa_seeds()
    pci_board_seeds()
    ide_seeds()
    new_device_seeds()
    virtio_serial_seeds()
    qcow2_seeds()
    kernel_seeds(args.kernel)
    dictionaries()
    for target in sorted(os.listdir(OUT)):
        files = os.listdir(os.path.join(OUT, target))
        print("%-28s %d seeds" % (target, len(files)))


if __name__ == "__main__":
    main()

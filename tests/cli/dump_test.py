#!/usr/bin/env python3
"""dump-guest-memory beside QEMU 7.2: the tiny kernel's "dumppattern" test
writes a known pattern at 0x400000 and spins with known ESI/EDI; both VMMs
dump it (QMP, synchronous to a file; detached to a pipe passed with getfd,
as libvirt's `virsh dump --memory-only` does; HMP) and the test parses
the ELF cores: header, section headers, the NT_PRSTATUS and QEMU notes
(one of each per vCPU, registers as the guest set them), PT_LOADs at the
guest-physical addresses of RAM (QEMU's dump also holds its BIOS ROM at
0xfffc0000, which kestrel's direct boot does not map), the pattern's
bytes equal to what the guest wrote and to pmemsave's. Replies, errors
and events (STOP, DUMP_COMPLETED, RESUME) must match QEMU's, sizes aside.
The kdump-compressed formats (makedumpfile's flattened stream, as QEMU 7.2
writes them) are read back by a small reader here: headers, both bitmaps,
page descriptors, pages decompressed (zlib; lzo and snappy through
liblzo2 and libsnappy by ctypes). kdump-zlib is compared with QEMU's dump
of the same guest; QEMU 7.2 as Debian builds it writes no kdump-lzo nor
kdump-snappy, so kestrel's are checked on their own: their pages equal its
kdump-zlib's.

usage: dump_test.py PATH/TO/kestrel
Prints one PASS/FAIL line per case, then "N passed, N failed"."""
import ctypes
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import zlib

from sandbox_test import Vm

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "libvirt"))
from results import report, summary  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PATTERN_ADDR, PATTERN_SIZE = 0x400000, 65536
ESI, EDI = 0x5e5e1234, 0xd1d15678
QEMU_BIOS = (0xfffc0000, 0x40000)
TIMEOUT = 120
KDUMP_ZLIB, KDUMP_LZO, KDUMP_SNAPPY = 1, 2, 4
KESTREL_FORMATS = ["elf", "kdump-zlib", "kdump-lzo", "kdump-snappy"]



def pattern():
    return b"".join(struct.pack("<I", ((i * 2654435761) ^ 0x4b455354) & 0xffffffff)
                    for i in range(PATTERN_SIZE // 4))


class Guest(Vm):
    """The tiny kernel stopped at its pattern, with the events QMP sent."""

    def __init__(self, vmm, work, tiny, tag, mem="128", smp="1"):
        self.log = os.path.join(work, tag + ".log")
        extra = ["-m", mem, "-smp", smp, "-serial", "file:" + self.log, "-kernel", tiny,
                 "-append", "tests=dumppattern"]
        super().__init__(vmm, work, extra, name=tag)
        self.events = []
        self.connect()
        self.cmd("cont")
        deadline = time.monotonic() + TIMEOUT
        while "ready" not in (open(self.log).read() if os.path.exists(self.log) else ""):
            if time.monotonic() > deadline:
                raise RuntimeError("%s: no pattern line in %s" % (vmm, self.log))
            time.sleep(0.05)
        self.events.clear()

    def on_event(self, event):
        event.pop("timestamp", None)
        self.events.append(event)

    def take_events(self):
        out, self.events = self.events, []
        return out

    def wait_event(self, name):
        deadline = time.monotonic() + TIMEOUT
        while not any(e["event"] == name for e in self.events):
            if time.monotonic() > deadline:
                raise RuntimeError("no %s event" % name)
            self.sock.flush()
            line = self.sock.readline()
            if line:
                self.on_event(json.loads(line))

    def hmp(self, line):
        return self.cmd("human-monitor-command", {"command-line": line})


# ELF64 core parsing (what readelf shows, as data).
def parse_core(path):
    with open(path, "rb") as f:
        data = f.read()
    eh = struct.unpack_from("<16sHHIQQQIHHHHHH", data, 0)
    core = {"ident": eh[0][:7], "type": eh[1], "machine": eh[2], "phoff": eh[5], "shoff": eh[6],
            "phnum": eh[10], "shnum": eh[12], "shstrndx": eh[13], "data": data}
    core["sections"] = [struct.unpack_from("<IIQQQQIIQQ", data, core["shoff"] + 64 * i) for i in range(eh[12])]
    core["phdrs"] = [struct.unpack_from("<IIQQQQQQ", data, core["phoff"] + 56 * i) for i in range(eh[10])]
    ptype, _, off, _, _, size, _, _ = core["phdrs"][0]
    assert ptype == 4, "first program header is not PT_NOTE"
    core["notes"] = parse_notes(data[off:off + size])
    return core


def loads(core):
    return [(p[4], p[5]) for p in core["phdrs"][1:]]   # (paddr, filesz)


def read_phys(core, addr, size):
    for _, _, off, vaddr, paddr, filesz, memsz, _ in core["phdrs"][1:]:
        if paddr <= addr and addr + size <= paddr + filesz:
            return core["data"][off + addr - paddr:off + addr - paddr + size]
    return None


def i386_regs(desc):
    """NT_PRSTATUS, i386: pid and the general registers."""
    pid = struct.unpack_from("<I", desc, 24)[0]
    ebx, ecx, edx, esi, edi, ebp, eax = struct.unpack_from("<7I", desc, 72)
    eip, cs, eflags, esp, ss = struct.unpack_from("<IHxxIIH", desc, 120)
    return {"pid": pid, "esi": esi, "edi": edi, "eip": eip, "cs": cs, "ss": ss}


def qemu_state(desc):
    version, size = struct.unpack_from("<II", desc, 0)
    gpr = struct.unpack_from("<16Q", desc, 8)
    segs = [struct.unpack_from("<IIIIQ", desc, 152 + 24 * i) for i in range(10)]
    cr = struct.unpack_from("<5Q", desc, 392)
    return {"version": version, "size": size, "rsi": gpr[4], "rdi": gpr[5], "cs": segs[0], "ss": segs[5],
            "tr": segs[7], "cr0": cr[0]}


def core_problems(core, ram, cpus, what):
    """What is wrong with a kestrel or QEMU core of the tiny guest."""
    p = []
    if core["ident"] != b"\x7fELF\x02\x01\x01":
        p.append("%s: ident %r" % (what, core["ident"]))
    if (core["type"], core["machine"]) != (4, 3):   # ET_CORE, EM_386 (the guest is not in long mode)
        p.append("%s: type/machine %s" % (what, (core["type"], core["machine"])))
    if (core["shoff"], core["shnum"], core["shstrndx"]) != (64, 2, 1):
        p.append("%s: section headers %s" % (what, (core["shoff"], core["shnum"], core["shstrndx"])))
    strtab = core["sections"][1]
    if core["data"][strtab[4]:strtab[4] + strtab[5]] != b"\0.shstrtab\0" or strtab[1] != 3:
        p.append("%s: .shstrtab %s" % (what, strtab))
    names = [(n, t, len(d)) for n, t, d in core["notes"]]
    if names != [("CORE", 1, 144)] * cpus + [("QEMU", 0, 440)] * cpus:
        p.append("%s: notes %s" % (what, names))
        return p
    for i in range(cpus):
        r = i386_regs(core["notes"][i][2])
        q = qemu_state(core["notes"][cpus + i][2])
        if r["pid"] != i + 1 or (q["version"], q["size"]) != (1, 440):
            p.append("%s: cpu %d pid %d QEMU note %d/%d" % (what, i, r["pid"], q["version"], q["size"]))
        if i == 0 and (r["esi"], r["edi"], q["rsi"], q["rdi"]) != (ESI, EDI, ESI, EDI):
            p.append("%s: registers %s %s" % (what, r, q))
    got = [l for l in loads(core) if l != QEMU_BIOS]
    if got != ram:
        p.append("%s: PT_LOADs %s, want %s" % (what, [tuple(map(hex, l)) for l in loads(core)], ram))
    at = core["phoff"] + 56 * core["phnum"] + sum(12 + ((len(n) + 4) & ~3) + ((len(d) + 3) & ~3)
                                                  for n, _, d in core["notes"])
    for _, _, off, vaddr, paddr, filesz, memsz, _ in core["phdrs"][1:]:
        if off != at or vaddr != paddr or memsz != filesz:
            p.append("%s: PT_LOAD at %x: offset %x (want %x) vaddr %x memsz %x" % (what, paddr, off, at, vaddr, memsz))
        at += filesz
    if strtab[4] != at:
        p.append("%s: .shstrtab at %x, want %x" % (what, strtab[4], at))
    return p


def report_problems(name, problems):
    report(not problems, name, "\n".join(problems))


def normalized(value, work):
    text = json.dumps(value, sort_keys=True).replace(work, "WORK")
    text = re.sub(r"WORK/(\w+)-(kestrel|qemu)", r"WORK/\1-VMM", text)
    return re.sub(r'"(completed|total)": \d+', r'"\1": N', text)


def compare(name, k_items, q_items, work):
    k, q = normalized(k_items, work), normalized(q_items, work)
    if k == q:
        return []
    return ["%s differs from QEMU's:" % name, "  kestrel: " + k, "  qemu:    " + q]


def both(kestrel, work, tiny, tag, scenario, **guest):
    """Runs scenario(vm, tag) on kestrel and QEMU; returns both results."""
    out = {}
    for vmm in (kestrel, "qemu-system-x86_64"):
        who = "qemu" if vmm.startswith("qemu") else "kestrel"
        vm = Guest(vmm, work, tiny, "%s-%s" % (tag, who), **guest)
        try:
            out[who] = scenario(vm, os.path.join(work, "%s-%s" % (tag, who)))
        finally:
            vm.stop()
    return out["kestrel"], out["qemu"]


def bad_arguments(vm, base):
    cases = [
        {"protocol": "file:" + base + ".x"},                                    # paging missing
        {"paging": "no", "protocol": "file:" + base + ".x"},                    # wrong type
        {"paging": False, "protocol": "file:" + base + ".x", "format": "raw"},  # not a format
        {"paging": False, "protocol": "file:" + base + ".x", "extra": 1},
        {"paging": False, "protocol": "tcp:" + base},
        {"paging": False, "protocol": "file:/nonexistent/dir/core"},
        {"paging": False, "protocol": "fd:nosuch"},
        {"paging": False, "protocol": "file:" + base + ".x", "begin": 0},
        {"paging": False, "protocol": "file:" + base + ".x", "length": 4096},
        {"paging": True, "protocol": "file:" + base + ".x", "format": "kdump-zlib"},
        {"paging": False, "protocol": "file:" + base + ".x", "format": "kdump-zlib", "begin": 0, "length": 1},
        {"paging": False, "protocol": "file:" + base + ".x", "begin": 0x200000000, "length": 4096},
    ]
    out = []
    for args in cases:
        out.append({"args": args, "reply": vm.cmd("dump-guest-memory", args), "events": vm.take_events()})
    out.append({"query-dump": vm.cmd("query-dump")})
    for line in ["dump-guest-memory", "dump-guest-memory -z -l " + base + ".h", "dump-guest-memory -x " + base + ".h",
                 "dump-guest-memory -d -p -q " + base + ".h", "dump-guest-memory " + base + ".h 0",
                 "dump-guest-memory " + base + ".h 0x200000000 4096"]:
        out.append({"hmp": line, "reply": vm.hmp(line), "events": vm.take_events()})
    # Not a dump: kestrel's board has no S3, so its guest is never suspended (QEMU's answer then).
    out.append({"system_wakeup": vm.cmd("system_wakeup"), "hmp": vm.hmp("system_wakeup"),
                "help": vm.hmp("help system_wakeup")})
    return out


def test_bad_arguments(k, work, tiny):
    kr, qr = both(k, work, tiny, "bad", bad_arguments)
    report_problems("malformed arguments: QMP and HMP errors as QEMU's; system_wakeup", compare("replies", kr, qr, work))


def sync_dump(vm, base):
    before = vm.cmd("query-dump")
    reply = vm.cmd("dump-guest-memory", {"paging": False, "protocol": "file:" + base + ".core"})
    events = vm.take_events()
    after = vm.cmd("query-dump")
    vm.cmd("pmemsave", {"val": PATTERN_ADDR, "size": PATTERN_SIZE, "filename": base + ".pmem"})
    status = vm.cmd("query-status")
    mode = os.stat(base + ".core").st_mode & 0o777
    return {"before": before, "reply": reply, "events": events, "after": after, "status": status,
            "mode": oct(mode)}, after


def check_core(path, pmem, ram, cpus, what):
    core = parse_core(path)
    p = core_problems(core, ram, cpus, what)
    got = read_phys(core, PATTERN_ADDR, PATTERN_SIZE)
    if got != pattern():
        p.append("%s: the pattern's bytes at 0x%x differ from what the guest wrote" % (what, PATTERN_ADDR))
    if pmem and open(pmem, "rb").read() != got:
        p.append("%s: the dump differs from pmemsave" % what)
    return p, core


def test_sync_dump(k, work, tiny):
    (kr, kq), (qr, qq) = both(k, work, tiny, "sync", sync_dump, smp="2")
    p = compare("replies and events", kr, qr, work)
    if kq["return"]["total"] != 128 << 20 or kq["return"]["completed"] != kq["return"]["total"]:
        p.append("kestrel: query-dump %s, want 128 MiB completed" % kq)
    kp, kcore = check_core(os.path.join(work, "sync-kestrel.core"), os.path.join(work, "sync-kestrel.pmem"),
                           [(0, 128 << 20)], 2, "kestrel")
    qp, qcore = check_core(os.path.join(work, "sync-qemu.core"), os.path.join(work, "sync-qemu.pmem"),
                           [(0, 128 << 20)], 2, "qemu")
    p += kp + qp
    if not kp and not qp:
        # The same guest code runs in both: the code and stack segments' flags are the same.
        ks, qs = qemu_state(kcore["notes"][2][2]), qemu_state(qcore["notes"][2][2])
        if (ks["cs"][2], ks["ss"][2], ks["cr0"] & 1) != (qs["cs"][2], qs["ss"][2], qs["cr0"] & 1):
            p.append("QEMU notes: kestrel cs/ss %s %s, QEMU's %s %s" % (ks["cs"], ks["ss"], qs["cs"], qs["ss"]))
    report_problems("synchronous QMP dump of 2 vCPUs to a file: ELF core, notes, PT_LOADs, pattern = pmemsave", p)


def detached_to_pipe(vm, base):
    """As libvirt: getfd of a pipe, a detached dump into it; the test reads slowly."""
    r, w = os.pipe()
    got = vm.cmd("getfd", {"fdname": "dumpfd"}, fds=[w])
    os.close(w)
    out = {"getfd": got, "dump": vm.cmd("dump-guest-memory", {"paging": False, "protocol": "fd:dumpfd",
                                                              "detach": True})}
    # The pipe is full: the dump is active until the test reads.
    out["second"] = vm.cmd("dump-guest-memory", {"paging": False, "protocol": "file:" + base + ".second"})
    query = vm.cmd("query-dump")
    out["query-active"] = query
    out["status-during"] = vm.cmd("query-status")
    out["info-dump"] = re.sub(r"Finished: [\d.]+ %", "Finished: N %", vm.hmp("info dump")["return"])
    out["closefd"] = vm.cmd("closefd", {"fdname": "dumpfd"})   # the dump took it
    data = []
    reader = threading.Thread(target=lambda: data.append(read_all(r)))
    reader.start()
    vm.wait_event("RESUME")
    reader.join()
    out["events"] = vm.take_events()
    out["query-after"] = vm.cmd("query-dump")
    out["status-after"] = vm.cmd("query-status")
    out["info-after"] = vm.hmp("info dump")
    with open(base + ".core", "wb") as f:
        f.write(data[0])
    return out, query


def read_all(fd):
    chunks = []
    while True:
        b = os.read(fd, 1 << 20)
        if not b:
            os.close(fd)
            return b"".join(chunks)
        chunks.append(b)


def test_detached_fd(k, work, tiny):
    (kr, kq), (qr, qq) = both(k, work, tiny, "fd", detached_to_pipe)
    p = compare("replies and events", kr, qr, work)
    if not (0 <= kq["return"]["completed"] < kq["return"]["total"]):
        p.append("kestrel: query-dump during the dump %s" % kq)
    kp, _ = check_core(os.path.join(work, "fd-kestrel.core"), None, [(0, 128 << 20)], 1, "kestrel")
    qp, _ = check_core(os.path.join(work, "fd-qemu.core"), None, [(0, 128 << 20)], 1, "qemu")
    report_problems("detached dump to a getfd pipe (libvirt's way): progress, second dump refused, events", p + kp + qp)


def hmp_and_filter(vm, base):
    out = {"help": vm.hmp("help dump-guest-memory"), "help-info": vm.hmp("help info dump")}
    # 5 GiB: RAM below 3 GiB and above 4 GiB; the range crosses the hole.
    out["dump"] = vm.hmp("dump-guest-memory %s.core 0xbff00000 0x40200000" % base)
    out["events"] = vm.take_events()
    out["info"] = vm.hmp("info dump")
    out["paging"] = vm.hmp("dump-guest-memory -p %s.core2 0x400000 0x10000" % base)   # paging off in the guest
    out["events2"] = vm.take_events()
    return out, None


def test_hmp_filter(k, work, tiny):
    (kr, _), (qr, _) = both(k, work, tiny, "hmp", hmp_and_filter, mem="5G")
    p = compare("replies and events", kr, qr, work)
    want = [(0xbff00000, 1 << 20), (1 << 32, 1 << 20)]
    for who in ("kestrel", "qemu"):
        core = parse_core(os.path.join(work, "hmp-%s.core" % who))
        p += core_problems(core, want, 1, who)
        core2 = parse_core(os.path.join(work, "hmp-%s.core2" % who))
        p += core_problems(core2, [(PATTERN_ADDR, 0x10000)], 1, who + " -p")
        if read_phys(core2, PATTERN_ADDR, 0x10000) != pattern():
            p.append("%s: -p dump of the pattern differs" % who)
    report_problems("HMP dump-guest-memory of 5 GiB with begin/length across the PCI hole; -p without guest paging", p)


# The kdump-compressed format (makedumpfile's diskdump layout, header version 6).
def unflatten(raw):
    """makedumpfile's flattened stream -> the file it stands for."""
    assert raw[:16].rstrip(b"\0") == b"makedumpfile", "no makedumpfile flat header"
    assert struct.unpack_from(">qq", raw, 16) == (1, 1), "flat header type/version"
    out, at = bytearray(), 4096
    while True:
        off, size = struct.unpack_from(">qq", raw, at)
        at += 16
        if (off, size) == (-1, -1):
            break
        if len(out) < off + size:
            out.extend(bytes(off + size - len(out)))
        out[off:off + size] = raw[at:at + size]
        at += size
    assert at == len(raw), "bytes after the end record"
    return bytes(out)


def lzo_decompress(data, size):
    lib = ctypes.CDLL("liblzo2.so.2")
    out, n = ctypes.create_string_buffer(size), ctypes.c_ulong(size)
    rc = lib.lzo1x_decompress_safe(data, ctypes.c_ulong(len(data)), out, ctypes.byref(n), None)
    assert rc == 0 and n.value == size, "lzo: rc %d size %d" % (rc, n.value)
    return out.raw


def snappy_decompress(data, size):
    lib = ctypes.CDLL("libsnappy.so.1")
    out, n = ctypes.create_string_buffer(size), ctypes.c_size_t(size)
    rc = lib.snappy_uncompress(data, ctypes.c_size_t(len(data)), out, ctypes.byref(n))
    assert rc == 0 and n.value == size, "snappy: rc %d size %d" % (rc, n.value)
    return out.raw


def parse_notes(data):
    notes, at = [], 0
    while at < len(data):
        namesz, descsz, ntype = struct.unpack_from("<III", data, at)
        name = data[at + 12:at + 12 + namesz].rstrip(b"\0").decode()
        dstart = at + 12 + ((namesz + 3) & ~3)
        notes.append((name, ntype, data[dstart:dstart + descsz]))
        at = dstart + ((descsz + 3) & ~3)
    return notes


def parse_kdump(path):
    d = unflatten(open(path, "rb").read())
    k = {"signature": d[:8], "version": struct.unpack_from("<I", d, 8)[0],
         "machine": d[12 + 4 * 65:12 + 5 * 65].rstrip(b"\0")}
    (k["status"], k["block_size"], k["sub_hdr_size"], k["bitmap_blocks"], k["max_mapnr"]) = \
        struct.unpack_from("<5I", d, 424)
    k["nr_cpus"] = struct.unpack_from("<I", d, 460)[0]
    bs = k["block_size"]
    k["phys_base"], k["dump_level"] = struct.unpack_from("<QI", d, bs)
    k["offset_note"], k["note_size"] = struct.unpack_from("<QQ", d, bs + 48)
    k["max_mapnr_64"] = struct.unpack_from("<Q", d, bs + 96)[0]
    k["notes"] = parse_notes(d[k["offset_note"]:k["offset_note"] + k["note_size"]])
    at, blen = (1 + k["sub_hdr_size"]) * bs, k["bitmap_blocks"] // 2 * bs
    k["bitmaps_equal"] = d[at:at + blen] == d[at + blen:at + 2 * blen]
    # Bit N (byte N / 8, bit N % 8): page frame N is in the dump.
    k["pfns"] = [i * 8 + bit for i, byte in enumerate(d[at:at + blen]) if byte
                 for bit in range(8) if byte >> bit & 1]
    desc_at = at + 2 * blen
    k["zero_at"] = desc_at + 24 * len(k["pfns"])
    k["pages"] = {}
    for i, pfn in enumerate(k["pfns"]):
        off, size, flags, page_flags = struct.unpack_from("<QIIQ", d, desc_at + 24 * i)
        k["pages"][pfn] = (off, size, flags, d[off:off + size])
    k["data"] = d
    return k


def page_bytes(k, pfn):
    off, size, flags, stored = k["pages"][pfn]
    if flags == KDUMP_ZLIB:
        return zlib.decompress(stored)
    if flags == KDUMP_LZO:
        return lzo_decompress(stored, k["block_size"])
    if flags == KDUMP_SNAPPY:
        return snappy_decompress(stored, k["block_size"])
    assert flags == 0 and size == k["block_size"], "page %x: flags %x size %d" % (pfn, flags, size)
    return stored


def kdump_problems(k, flag, cpus, ram_pages, what):
    """What is wrong with a kdump file of the tiny guest, on its own."""
    p = []
    want = {"signature": b"KDUMP   ", "version": 6, "machine": b"x86_64", "status": flag, "block_size": 4096,
            "nr_cpus": cpus, "dump_level": 1, "bitmaps_equal": True, "offset_note": 4096 + 104,
            "max_mapnr": min(k["max_mapnr_64"], 0xffffffff), "max_mapnr_64": k["pfns"][-1] + 1 if k["pfns"] else 0,
            "sub_hdr_size": (104 + k["note_size"] + 4095) // 4096}
    for key, value in want.items():
        if k[key] != value:
            p.append("%s: %s %r, want %r" % (what, key, k[key], value))
    names = [(n, t, len(d)) for n, t, d in k["notes"]]
    if names != [("CORE", 1, 144)] * cpus + [("QEMU", 0, 440)] * cpus:
        p.append("%s: notes %s" % (what, names))
    elif (i386_regs(k["notes"][0][2])["esi"], i386_regs(k["notes"][0][2])["edi"]) != (ESI, EDI):
        p.append("%s: registers %s" % (what, i386_regs(k["notes"][0][2])))
    if [pfn for pfn in k["pfns"] if pfn < ram_pages] != list(range(ram_pages)):
        p.append("%s: the bitmap does not hold every RAM page" % what)
    flags = {f for _, _, f, _ in k["pages"].values()}
    if not flags <= {0, flag} or flag not in flags:
        p.append("%s: page descriptor flags %s" % (what, flags))
    zero = [pfn for pfn, (off, size, f, _) in k["pages"].items() if off == k["zero_at"]]
    if not zero or any(page_bytes(k, pfn) != bytes(4096) for pfn in zero[:64]):
        p.append("%s: zero pages do not share the zero page at %x" % (what, k["zero_at"]))
    got = b"".join(page_bytes(k, (PATTERN_ADDR >> 12) + i) for i in range(PATTERN_SIZE >> 12))
    if got != pattern():
        p.append("%s: the pattern's pages differ from what the guest wrote" % what)
    return p


def kdump_vs_qemu(k, q):
    """kestrel's and QEMU's kdump of the same guest: what must agree."""
    p = []
    for key in ("signature", "version", "machine", "status", "block_size", "nr_cpus", "phys_base", "dump_level",
                "offset_note", "note_size"):
        if k[key] != q[key]:
            p.append("kdump %s: kestrel %r, QEMU %r" % (key, k[key], q[key]))
    if [(n, t, len(d)) for n, t, d in k["notes"]] != [(n, t, len(d)) for n, t, d in q["notes"]]:
        p.append("kdump notes differ")
    bios = set(range(QEMU_BIOS[0] >> 12, (QEMU_BIOS[0] + QEMU_BIOS[1]) >> 12))
    if k["pfns"] != [pfn for pfn in q["pfns"] if pfn not in bios]:
        p.append("kdump pages: kestrel %d (last %x), QEMU's RAM pages %d" % (len(k["pfns"]), k["pfns"][-1],
                                                                              len(set(q["pfns"]) - bios)))
    # The same zlib at the same level: a page both hold alike is stored alike.
    same = differ = 0
    for pfn in k["pfns"]:
        if pfn in q["pages"] and page_bytes(k, pfn) == page_bytes(q, pfn):
            same += 1
            differ += k["pages"][pfn][1:3] != q["pages"][pfn][1:3]
    if differ or same < len(range(PATTERN_SIZE >> 12)):
        p.append("kdump: %d equal pages, %d of them stored differently" % (same, differ))
    return p


def detached_kdump(vm, path):
    """As libvirt's `virsh dump --memory-only --format kdump-zlib`: detached, into a getfd pipe."""
    r, w = os.pipe()
    vm.cmd("getfd", {"fdname": "kdumpfd"}, fds=[w])
    os.close(w)
    data = []
    reader = threading.Thread(target=lambda: data.append(read_all(r)))
    reader.start()
    reply = vm.cmd("dump-guest-memory", {"paging": False, "protocol": "fd:kdumpfd", "detach": True,
                                         "format": "kdump-zlib"})
    vm.wait_event("RESUME")
    reader.join()
    with open(path, "wb") as f:
        f.write(data[0])
    return reply


def kdump_dumps(vm, base):
    out = {"capability": vm.cmd("query-dump-guest-memory-capability")}
    out["zlib"] = vm.cmd("dump-guest-memory", {"paging": False, "protocol": "file:" + base + ".zlib",
                                               "format": "kdump-zlib"})
    out["zlib-events"] = vm.take_events()
    out["query"] = vm.cmd("query-dump")
    out["hmp-z"] = vm.hmp("dump-guest-memory -z %s.hz" % base)
    out["hmp-z-events"] = vm.take_events()
    out["fd"] = detached_kdump(vm, base + ".fd")
    out["fd-events"] = vm.take_events()
    if "kdump-lzo" in out["capability"]["return"]["formats"]:   # kestrel's only: see the docstring
        for fmt, flag in (("lzo", "l"), ("snappy", "s")):
            vm.cmd("dump-guest-memory", {"paging": False, "protocol": "file:%s.%s" % (base, fmt),
                                         "format": "kdump-" + fmt})
            vm.hmp("dump-guest-memory -%s %s.h%s" % (flag, base, flag))
        out["lzo-events"] = vm.take_events()
    return out, out.pop("capability")


def test_kdump(k, work, tiny):
    (kr, kcap), (qr, qcap) = both(k, work, tiny, "kdump", kdump_dumps, smp="2")
    p = compare("replies and events", {x: y for x, y in kr.items() if x != "lzo-events"}, qr, work)
    if kcap != {"return": {"formats": KESTREL_FORMATS}}:
        p.append("kestrel: capability %s" % kcap)
    if "kdump-zlib" not in qcap["return"]["formats"]:
        p.append("QEMU writes no kdump-zlib here: %s" % qcap)
    if [e["event"] for e in kr.get("lzo-events", [])] != ["STOP", "DUMP_COMPLETED", "RESUME"] * 4:
        p.append("kestrel kdump-lzo/-snappy events %s" % kr.get("lzo-events"))
    ram_pages = (128 << 20) >> 12
    dumps = {}
    for who, ext, flag in [("kestrel", "zlib", KDUMP_ZLIB), ("kestrel", "hz", KDUMP_ZLIB), ("qemu", "zlib", KDUMP_ZLIB),
                           ("qemu", "hz", KDUMP_ZLIB), ("kestrel", "fd", KDUMP_ZLIB),
                           ("qemu", "fd", KDUMP_ZLIB), ("kestrel", "lzo", KDUMP_LZO), ("kestrel", "hl", KDUMP_LZO),
                           ("kestrel", "snappy", KDUMP_SNAPPY), ("kestrel", "hs", KDUMP_SNAPPY)]:
        dumps[who, ext] = parse_kdump(os.path.join(work, "kdump-%s.%s" % (who, ext)))
        p += kdump_problems(dumps[who, ext], flag, 2, ram_pages, "%s %s" % (who, ext))
    if not p:
        p += kdump_vs_qemu(dumps["kestrel", "zlib"], dumps["qemu", "zlib"])
        kz = dumps["kestrel", "zlib"]
        for fmt in ("lzo", "snappy"):
            other = dumps["kestrel", fmt]
            if other["pfns"] != kz["pfns"] or any(page_bytes(kz, pfn) != page_bytes(other, pfn) for pfn in kz["pfns"]):
                p.append("kestrel: kdump-%s's pages differ from kdump-zlib's" % fmt)
    report_problems("kdump-zlib (QMP, HMP -z, detached into a getfd pipe) beside QEMU's: headers, bitmaps, descriptors, pages; "
                    "kestrel's kdump-lzo and kdump-snappy (QMP, HMP -l and -s)", p)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    kestrel = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory(prefix="kestrel-dump-") as work:
        subprocess.run(["bash", os.path.join(HERE, "..", "tiny", "kernel", "build.sh"), work], check=True)
        tiny = os.path.join(work, "tiny-mb.elf")
        for test in (test_bad_arguments, test_sync_dump, test_detached_fd, test_hmp_filter, test_kdump):
            try:
                test(kestrel, work, tiny)
            except Exception:
                report_problems(test.__name__, traceback.format_exc().splitlines())
    sys.exit(summary())


if __name__ == "__main__":
    main()

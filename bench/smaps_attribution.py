#!/usr/bin/env python3
"""Where a VMM's resident memory goes, mapping by mapping: reads the
*.smaps.json snapshots bench/libvirt_bench.py saves (smaps, status and the
threads' stack pointers of the running domain process, guest idle) and
sums Rss per kind of mapping: guest RAM (the same rule as the bench: an
anonymous mapping of 0.95-1.1x the domain's memory), the binary's text /
read-only data / data, shared libraries, the brk heap (glibc's main
arena), the other malloc arenas (glibc maps them 64 MiB-aligned), each
thread's stack (the mapping that holds its stack pointer), io_uring rings,
memfd / shared memory, mapped files (kernel, initrd, firmware), the rest
of anonymous memory by mapping size.

usage: smaps_attribution.py DIR [--detail] [--top N]
Prints a markdown table: per config and VMM the median KiB of each kind
over the runs (warm-ups skipped), and with --detail the biggest
unattributed anonymous mappings.
"""

import argparse
import collections
import glob
import json
import os
import re
import statistics

ARENA_ALIGN = 64 << 20          # glibc's HEAP_MAX_SIZE on 64-bit
HEADER = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \d+\s*(.*)$")
TAG = re.compile(r"^(.*?)-(kestrel-before|kestrel|qemu)-(warm|run)(\d+)\.smaps\.json$")


def mappings(smaps_text):
    """[(start, end, perms, name, {field: kB})] of an smaps text."""
    out = []
    for line in smaps_text.splitlines():
        header = HEADER.match(line)
        if header:
            out.append((int(header.group(1), 16), int(header.group(2), 16), header.group(3),
                        header.group(4).strip(), {}))
        elif out and line.endswith(" kB"):
            key, value = line.split(":", 1)
            out[-1][4][key] = int(value.split()[0])
    return out


def guest_ram(maps, mem_kib):
    """Indexes of the mappings that hold the guest's RAM, the same rule for
    every VMM: the anonymous mapping of 0.95-1.1x the RAM size, and while
    the sum stays within the RAM size the anonymous mappings right below
    and above it (a VMM that madvises part of its RAM differently, e.g.
    kestrel's first 2 MiB without huge pages, splits it into several)."""
    ram = set()
    for i, (start, end, _, name, _) in enumerate(maps):
        if name or not mem_kib * 0.95 <= (end - start) // 1024 <= mem_kib * 1.1:
            continue
        ram.add(i)
        total = (end - start) // 1024
        for step in (-1, 1):
            j = i + step
            while 0 <= j < len(maps) and not maps[j][3]:
                lo, hi = (maps[j][1], maps[j - step][0]) if step < 0 else (maps[j - step][1], maps[j][0])
                size = (maps[j][1] - maps[j][0]) // 1024
                if lo != hi or total + size > mem_kib:
                    break
                ram.add(j)
                total += size
                j += step
    return ram


def stack_sized(size):
    """A thread stack's VMA: a power of two (glibc's guard page is a VMA
    of its own); anything else took in an adjacent mapping of the same
    flags (the kernel merges them)."""
    kib = size // 1024
    return any(abs(kib - (1 << n)) <= 8 for n in range(6, 16))


def binary_part(perms):
    if "x" in perms:
        return "text"
    return "data + bss" if "w" in perms else "read-only data"


def kind_of(start, end, perms, name, snapshot, stacks):
    exe = os.path.basename(snapshot["cmdline"][0])
    if name == "[heap]":
        return "malloc: main arena (brk heap)"
    if name == "[stack]":
        return "stack: main thread"
    if name in ("[vdso]", "[vvar]", "[vsyscall]", "[vvar_vclock]"):
        return "vdso/vvar"
    if "io_uring" in name:
        return "io_uring rings"
    if name.startswith("/memfd:") or name.startswith("/dev/shm") or name.startswith("/SYSV"):
        return "shared memory: " + re.sub(r" \(deleted\)$", "", name)
    if name and os.path.basename(name.split(" ")[0]) == exe:
        return "binary: " + binary_part(perms)
    if ".so" in name:
        return "shared libraries: " + binary_part(perms)
    if name:
        return "file: " + os.path.basename(name.split(" ")[0])
    for lo, hi, comm in stacks:
        if lo <= hi and start <= lo < end:
            merged = "" if stack_sized(end - start) else " + a neighbour merged into its VMA"
            return "stack: " + re.sub(r"\d+", "N", comm) + merged
    if start % ARENA_ALIGN == 0:
        return "malloc: other arenas"
    return "anonymous, other"


def attribute(snapshot):
    """({kind: Rss KiB}, [(Rss, size KiB, perms, kind)] of each mapping)."""
    stacks = [(sp, sp, comm) for _, comm, sp in snapshot["threads"] if sp]
    kinds = collections.Counter()
    each = []
    maps = mappings(snapshot["smaps"])
    ram = guest_ram(maps, snapshot["mem_kib"])
    for i, (start, end, perms, name, fields) in enumerate(maps):
        kind = "guest RAM" if i in ram else kind_of(start, end, perms, name, snapshot, stacks)
        if i in ram and (end - start) // 1024 < snapshot["mem_kib"] * 0.95:
            kind = "guest RAM (a part in a mapping of its own)"
        if kind == "anonymous, other" and i and maps[i - 1][1] == start and "w" in maps[i - 1][2]:
            before = kind_of(*maps[i - 1][:4], snapshot, stacks)
            if before.endswith("data + bss"):
                kind = before   # the .bss beyond the file's data segment
        kinds[kind] += fields.get("Rss", 0)
        each.append((fields.get("Rss", 0), (end - start) // 1024, perms, kind, name))
    kinds["total RSS"] = sum(f.get("Rss", 0) for *_, f in maps)
    kinds["overhead (RSS - guest RAM)"] = kinds["total RSS"] - kinds["guest RAM"] \
        - kinds["guest RAM (a part in a mapping of its own)"]
    return kinds, each


def load(folder):
    """{(config, vmm): [snapshot, ...]} of the measured runs."""
    runs = collections.defaultdict(list)
    for path in sorted(glob.glob(os.path.join(folder, "*.smaps.json"))):
        tag = TAG.match(os.path.basename(path))
        if tag and tag.group(3) == "run":
            with open(path) as f:
                runs[(tag.group(1), tag.group(2))].append(json.load(f))
    return runs


def table(runs):
    columns = sorted(runs)
    per = {c: [attribute(s)[0] for s in runs[c]] for c in columns}
    kinds = sorted({k for c in columns for a in per[c] for k in a},
                   key=lambda k: (k.startswith("total") or k.startswith("overhead"), k == "guest RAM", k))
    lines = ["| KiB (median of %s runs) | %s |" % ("/".join(str(len(runs[c])) for c in columns),
                                                 " | ".join("%s %s" % c for c in columns)),
             "|---|" + "---|" * len(columns)]
    for kind in kinds:
        cells = ["%d" % statistics.median(a.get(kind, 0) for a in per[c]) for c in columns]
        lines.append("| %s | %s |" % (kind, " | ".join(cells)))
    return "\n".join(lines)


def detail(runs, top):
    lines = []
    for config, vmm in sorted(runs):
        _, each = attribute(runs[(config, vmm)][0])
        lines.append("\n%s %s, biggest resident mappings (Rss KiB, size KiB, perms, kind, name):" % (config, vmm))
        for rss, size, perms, kind, name in sorted(each, reverse=True)[:top]:
            lines.append("  %7d %9d %s %-32s %s" % (rss, size, perms, kind, name))
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("folder")
    p.add_argument("--detail", action="store_true")
    p.add_argument("--top", type=int, default=25)
    a = p.parse_args()
    runs = load(a.folder)
    if not runs:
        raise SystemExit("no *-run*.smaps.json in " + a.folder)
    print(table(runs))
    if a.detail:
        print(detail(runs, a.top))


if __name__ == "__main__":
    main()

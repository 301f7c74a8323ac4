"""A minimal ISO 9660 image writer for guest tests (no external tools):
one root directory of plain files, 8.3 upper-case names (Linux's isofs
shows them in lower case), the primary volume descriptor, its path
tables and the terminator. Enough for `mount -t iso9660` in the guest."""

import os
import struct

SECTOR = 2048


def both16(v):
    return struct.pack("<H", v) + struct.pack(">H", v)


def both32(v):
    return struct.pack("<I", v) + struct.pack(">I", v)


def dir_record(name, lba, size, directory):
    record = bytearray(33 + len(name) + (1 - len(name) % 2))
    record[0] = len(record)
    record[2:10] = both32(lba)
    record[10:18] = both32(size)
    record[18:25] = bytes([126, 1, 1, 0, 0, 0, 0])  # 2026-01-01 00:00 UTC
    record[25] = 2 if directory else 0
    record[28:32] = both16(1)
    record[32] = len(name)
    record[33:33 + len(name)] = name
    return bytes(record)


def iso_name(filename):
    base, _, ext = filename.upper().partition(".")
    if not base or len(base) > 8 or len(ext) > 3:
        raise ValueError("not an 8.3 name: " + filename)
    return ("%s.%s;1" % (base, ext)).encode()


def make_iso(out, files, label="KESTREL"):
    """`files`: {8.3 name: bytes}. Writes the image to `out`."""
    root_lba, first_file = 20, 21
    layout, lba = [], first_file
    for name in sorted(files):
        layout.append((iso_name(name), lba, files[name]))
        lba += max(1, (len(files[name]) + SECTOR - 1) // SECTOR)
    total = lba
    root = dir_record(b"\0", root_lba, SECTOR, True) + dir_record(b"\1", root_lba, SECTOR, True)
    for name, at, data in layout:
        root += dir_record(name, at, len(data), False)
    if len(root) > SECTOR:
        raise ValueError("too many files for one directory sector")
    image = bytearray(total * SECTOR)

    def put(sector, offset, data):
        at = sector * SECTOR + offset
        image[at:at + len(data)] = data

    pvd = bytearray(SECTOR)
    pvd[0:7] = b"\x01CD001\x01"
    pvd[8:40] = b" " * 32
    pvd[40:72] = label.upper().encode().ljust(32)
    pvd[80:88] = both32(total)
    pvd[120:124] = both16(1)
    pvd[124:128] = both16(1)
    pvd[128:132] = both16(SECTOR)
    pvd[132:140] = both32(10)            # path table: the root only
    pvd[140:144] = struct.pack("<I", 18)
    pvd[148:152] = struct.pack(">I", 19)
    pvd[156:190] = dir_record(b"\0", root_lba, SECTOR, True)
    pvd[190:813] = b" " * 623
    for at in (813, 830, 847, 864):      # dates: "not specified"
        pvd[at:at + 17] = b"0" * 16 + b"\0"
    pvd[881] = 1
    put(16, 0, pvd)
    put(17, 0, b"\xffCD001\x01")
    put(18, 0, bytes([1, 0]) + struct.pack("<I", root_lba) + struct.pack("<H", 1) + b"\0\0")
    put(19, 0, bytes([1, 0]) + struct.pack(">I", root_lba) + struct.pack(">H", 1) + b"\0\0")
    put(root_lba, 0, root)
    for _, at, data in layout:
        put(at, 0, data)
    with open(out, "wb") as f:
        f.write(image)
    return out


def make_iso_from_folder(out, source, label="KESTREL"):
    files = {}
    for name in sorted(os.listdir(source)):
        with open(os.path.join(source, name), "rb") as f:
            files[name] = f.read()
    return make_iso(out, files, label)

#!/usr/bin/env python3
"""Write a tiny Linux bzImage whose every entry point triple-faults at once.

usage: mktiny.py OUT.bzImage [--marker]

Boot protocol 2.15 image (Documentation/arch/x86/boot.rst): one boot sector,
one setup sector, a 4 KiB protected-mode part. Entry points:

  real-mode setup  file offset 0x200 (jump in the header) -> 0x280
                   QEMU's linuxboot option ROM enters here (ljmp to
                   real_seg+0x20:0), like a real-mode boot loader.
  32-bit entry     protected-mode part offset 0 (code32_start)
  64-bit entry     protected-mode part offset 0x200 (kestrel enters here)

The 32- and 64-bit entries run the same bytes, valid in both modes:
  6a 00 6a 00   push 0; push 0        (a zero IDT descriptor on the stack)
  0f 01 1c 24   lidt [esp] / [rsp]    (IDT limit 0)
  0f 0b         ud2                   (#UD -> #GP -> #DF -> triple fault)
The real-mode entry does the same in 16-bit code (lidt [bp] with bp = sp,
so it reads the stack through SS whatever DS is).

--marker first writes one byte to COM1 (port 0x3f8) at each entry: 'R'
(real mode), '3' (32-bit) or '6' (64-bit). Used only to verify which entry a
VMM ran and that it really executed guest code; timed runs use the plain
image, so no device exit happens before the triple fault.
"""

import struct
import sys

SECTOR = 512
SETUP_SECTS = 1
SETUP_BYTES = (1 + SETUP_SECTS) * SECTOR
PM_BYTES = 0x1000
REAL_MODE_CODE = 0x280          # file offset of the real-mode setup code
ENTRY_64 = 0x200                # offset of the 64-bit entry in the pm part
KERNEL_INFO = 0x400             # offset of kernel_info in the pm part
VERSION_STRING = 0x300          # file offset of the kernel version string
VERSION = b"kestrel-bench tiny (triple fault at every entry)\0"

TRIPLE_FAULT = bytes.fromhex("6a006a000f011c240f0b")
TRIPLE_FAULT_16 = bytes.fromhex("6a006a006a0089e50f015e000f0b")


def com1_byte_16(ch):
    return bytes.fromhex("baf803b0") + ch.encode() + b"\xee"      # mov dx; mov al; out


def com1_byte_32_64(ch):
    return bytes.fromhex("66baf803b0") + ch.encode() + b"\xee"    # mov dx; mov al; out


def setup_header(pm_bytes):
    h = bytearray(SETUP_BYTES)
    fields = [  # (offset, struct format, value)
        (0x1F1, "<B", SETUP_SECTS),
        (0x1F4, "<I", pm_bytes // 16),          # syssize
        (0x1FA, "<H", 0xFFFF),                  # vid_mode: normal
        (0x1FE, "<H", 0xAA55),                  # boot_flag
        (0x200, "<BB", (0xEB, REAL_MODE_CODE - 0x202)),  # jmp short to setup code
        (0x202, "<4s", b"HdrS"),
        (0x206, "<H", 0x020F),                  # protocol 2.15
        (0x20C, "<H", 0x1000),                  # start_sys_seg
        (0x20E, "<H", VERSION_STRING - 0x200),  # kernel_version
        (0x211, "<B", 0x01),                    # loadflags: LOADED_HIGH
        (0x212, "<H", 0x8000),                  # setup_move_size
        (0x214, "<I", 0x100000),                # code32_start
        (0x22C, "<I", 0x7FFFFFFF),              # initrd_addr_max
        (0x230, "<I", 0x200000),                # kernel_alignment
        (0x234, "<B", 1),                       # relocatable_kernel
        (0x235, "<B", 21),                      # min_alignment (2^21)
        (0x236, "<H", 0x0001),                  # xloadflags: XLF_KERNEL_64
        (0x238, "<I", 2047),                    # cmdline_size
        (0x258, "<Q", 0x1000000),               # pref_address
        (0x260, "<I", 0x10000),                 # init_size
        (0x268, "<I", KERNEL_INFO),             # kernel_info_offset
    ]
    for off, fmt, value in fields:
        values = value if isinstance(value, tuple) else (value,)
        struct.pack_into(fmt, h, off, *values)
    return h


def kernel_info():
    # header "LToP", size of the fixed part, total size, setup_type_max
    return struct.pack("<4sIII", b"LToP", 16, 16, 0)


def image(marker):
    setup = setup_header(PM_BYTES)
    real = (com1_byte_16("R") if marker else b"") + TRIPLE_FAULT_16
    setup[REAL_MODE_CODE:REAL_MODE_CODE + len(real)] = real
    setup[VERSION_STRING:VERSION_STRING + len(VERSION)] = VERSION
    pm = bytearray(PM_BYTES)
    for off, ch in ((0, "3"), (ENTRY_64, "6")):
        code = (com1_byte_32_64(ch) if marker else b"") + TRIPLE_FAULT
        pm[off:off + len(code)] = code
    info = kernel_info()
    pm[KERNEL_INFO:KERNEL_INFO + len(info)] = info
    return bytes(setup + pm)


def main(argv):
    if len(argv) not in (1, 2) or (len(argv) == 2 and argv[1] != "--marker"):
        raise SystemExit(__doc__)
    with open(argv[0], "wb") as f:
        f.write(image(marker=len(argv) == 2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Write a tiny bzImage that draws a known VGA text screen, then halts.

usage: vga_text_guest.py OUT.bzImage

Every entry point (real-mode setup, as QEMU's linuxboot ROM enters after
SeaBIOS and the VGA BIOS ran; the 32- and 64-bit entries, kestrel's) does
the same: fills the 80x25 text page at 0xb8000 with cell i = character
i & 0xff in attribute (i >> 4) & 0x7f (every character, every colour pair,
no blinking), switches the cursor off (CRTC 0x0a bit 5), writes "VGA-READY"
to COM1 and halts with interrupts off. The screen then depends only on the
VGA's registers and font, so screendumps of two VMMs can be compared pixel
for pixel. Built on bench/mktiny.py's boot-protocol header.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
import mktiny  # noqa: E402

MARKER = b"VGA-READY\n"


def com1_string_16(text):
    code = bytes.fromhex("baf803")                        # mov dx, 0x3f8
    for ch in text:
        code += bytes([0xB0, ch, 0xEE])                    # mov al, ch; out dx, al
    return code


def com1_string_32_64(text):
    return b"\x66" + com1_string_16(text)                 # operand-size prefix for mov dx


# 16-bit: es:di = b800:0000, cx = cell index.
FILL_16 = bytes.fromhex(
    "fc"            # cld
    "b800b8"        # mov ax, 0xb800
    "8ec0"          # mov es, ax
    "31ff"          # xor di, di
    "31c9"          # xor cx, cx
    # loop:
    "89c8"          # mov ax, cx
    "89ca"          # mov dx, cx
    "c1ea04"        # shr dx, 4
    "81e27f00"      # and dx, 0x7f
    "c1e208"        # shl dx, 8
    "25ff00"        # and ax, 0xff
    "09d0"          # or ax, dx
    "ab"            # stosw
    "41"            # inc cx
    "81f9d007"      # cmp cx, 2000
    "72e5"          # jb loop
    "bad403b00aee"  # mov dx, 0x3d4; mov al, 0x0a; out dx, al
    "bad503b020ee"  # mov dx, 0x3d5; mov al, 0x20; out dx, al
)
# 32/64-bit (the same bytes mean the same in both): edi = 0xb8000.
FILL_32_64 = bytes.fromhex(
    "fc"                # cld
    "bf00800b00"        # mov edi, 0xb8000
    "31c9"              # xor ecx, ecx
    # loop:
    "89c8"              # mov eax, ecx
    "89ca"              # mov edx, ecx
    "c1ea04"            # shr edx, 4
    "81e27f000000"      # and edx, 0x7f
    "c1e208"            # shl edx, 8
    "25ff000000"        # and eax, 0xff
    "09d0"              # or eax, edx
    "66ab"              # stosw
    "ffc1"              # inc ecx
    "81f9d0070000"      # cmp ecx, 2000
    "72dd"              # jb loop
    "66bad403b00aee"    # mov dx, 0x3d4; mov al, 0x0a; out dx, al
    "66bad503b020ee"    # mov dx, 0x3d5; mov al, 0x20; out dx, al
)
HALT = bytes.fromhex("faf4ebfd")  # cli; hlt; jmp back to hlt
# --churn, 32/64-bit entries only: instead of halting, count up the first
# cell forever and print a "." on COM1 every 1024 writes (the guest's
# progress, for tests that must see it go on).
CHURN_32_64 = bytes.fromhex(
    "bb00800b00"        # mov ebx, 0xb8000
    "31c9"              # xor ecx, ecx
    # loop:
    "66ff03"            # inc word [ebx]
    "ffc1"              # inc ecx
    "f7c1ff030000"      # test ecx, 0x3ff
    "75f3"              # jnz loop
    "66baf803b02eee"    # mov dx, 0x3f8; mov al, '.'; out dx, al
    "ebea"              # jmp loop
)


def image(churn=False):
    setup = mktiny.setup_header(mktiny.PM_BYTES)
    real = FILL_16 + com1_string_16(MARKER) + HALT
    setup[mktiny.REAL_MODE_CODE:mktiny.REAL_MODE_CODE + len(real)] = real
    version = b"kestrel vga text test\0"
    setup[mktiny.VERSION_STRING:mktiny.VERSION_STRING + len(version)] = version
    pm = bytearray(mktiny.PM_BYTES)
    code = FILL_32_64 + com1_string_32_64(MARKER) + (CHURN_32_64 if churn else HALT)
    for off in (0, mktiny.ENTRY_64):
        pm[off:off + len(code)] = code
    info = mktiny.kernel_info()
    pm[mktiny.KERNEL_INFO:mktiny.KERNEL_INFO + len(info)] = info
    return bytes(setup + pm)


def write_image(folder, churn=False):
    """The image as FOLDER/vga-text[-churn].bzImage; returns its path."""
    path = os.path.join(folder, "vga-text%s.bzImage" % ("-churn" if churn else ""))
    with open(path, "wb") as f:
        f.write(image(churn))
    return path


def main(argv):
    if len(argv) != 1:
        raise SystemExit(__doc__)
    with open(argv[0], "wb") as f:
        f.write(image())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

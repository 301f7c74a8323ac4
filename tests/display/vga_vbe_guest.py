#!/usr/bin/env python3
"""Write a tiny bzImage that shows Bochs VBE graphics modes one after the
other (kestrel's 32- and 64-bit entries; no firmware needed):

for each (width, height) of MODES: sets that mode at 32 bits a pixel
through the VBE registers (ports 0x1ce/0x1cf), reads the std VGA's
framebuffer BAR (00:02.0, BAR0) from PCI configuration space, fills the
screen with pattern(width, height) (pixel i = i * STEP, top byte clear),
writes "VBE-<width>x<height>" to COM1, then waits for a key press (a make
code from the i8042, as `send-key` gives) before the next mode. After the
last mode the first comes again, for ever.

A test can so change the mode while a VNC client is connected, at moments
it chooses, and knows every pixel each mode must show.

usage: vga_vbe_guest.py OUT.bzImage
"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
import mktiny  # noqa: E402

MODES = [(640, 480), (1280, 800), (800, 600)]
FB_BASE = 0xFD000000  # where the program puts the framebuffer BAR (no firmware runs)
STEP = 0x00010307  # pixel i is (i * STEP) & 0xffffff: every row differs


def marker(mode):
    return b"VBE-%dx%d\n" % mode


def pattern(width, height):
    """The screen as B, G, R bytes (an RfbClient snapshot's order is R, G,
    B: see rgb())."""
    return [(i * STEP) & 0xFFFFFF for i in range(width * height)]


def rgb(width, height):
    """The mode's picture as R, G, B bytes, as images.Image holds it."""
    out = bytearray(width * height * 3)
    for i, p in enumerate(pattern(width, height)):
        out[3 * i:3 * i + 3] = bytes(((p >> 16) & 0xFF, (p >> 8) & 0xFF, p & 0xFF))
    return bytes(out)


# The same bytes mean the same in 32- and 64-bit mode (no REX prefixes).
def vbe_write(index, value):
    return (bytes.fromhex("66bace01") + b"\x66\xb8" + struct.pack("<H", index) + b"\x66\xef"    # out 0x1ce, index
            + bytes.fromhex("66bacf01") + b"\x66\xb8" + struct.pack("<H", value) + b"\x66\xef")  # out 0x1cf, value


def com1_string(text):
    code = bytes.fromhex("66baf803")                      # mov dx, 0x3f8
    for ch in text:
        code += bytes([0xB0, ch, 0xEE])                    # mov al, ch; out dx, al
    return code


def show_mode(width, height):
    code = vbe_write(4, 0) + vbe_write(1, width) + vbe_write(2, height) + vbe_write(3, 32)
    code += vbe_write(4, 0x41)                             # enabled, linear framebuffer
    code += bytes.fromhex(
        # As firmware would: BAR0 at FB_BASE, memory decoding on.
        "b810100080"      # mov eax, 0x80001010 (00:02.0 BAR0)
        "66baf80c"        # mov dx, 0xcf8
        "ef"              # out dx, eax
        "66bafc0c"        # mov dx, 0xcfc
    ) + b"\xb8" + struct.pack("<I", FB_BASE) + bytes.fromhex(  # mov eax, FB_BASE
        "ef"              # out dx, eax
        "b804100080"      # mov eax, 0x80001004 (command register)
        "66baf80c"        # mov dx, 0xcf8
        "ef"              # out dx, eax
        "66bafc0c"        # mov dx, 0xcfc
        "66b80300"        # mov ax, 3 (I/O and memory space)
        "66ef"            # out dx, ax
    ) + b"\xbf" + struct.pack("<I", FB_BASE) + bytes.fromhex(  # mov edi, FB_BASE
        "31c0"            # xor eax, eax
    ) + b"\xb9" + struct.pack("<I", width * height) + bytes.fromhex(  # mov ecx, pixels
        # loop:
        "89c2"            # mov edx, eax
        "81e2ffffff00"    # and edx, 0xffffff
        "8917"            # mov [edi], edx
        "83c704"          # add edi, 4
    ) + b"\x05" + struct.pack("<I", STEP) + bytes.fromhex(  # add eax, STEP
        "ffc9"            # dec ecx
        "75ea"            # jnz loop
    )
    return code + com1_string(marker((width, height)))


WAIT_KEY = bytes.fromhex(
    # wait: until the output buffer holds a byte, then read it; again
    # unless it is a make code (bit 7 clear). A set 2 break (0xf0, code;
    # the i8042 translates nothing without firmware) skips its code.
    "e464"    # wait: in al, 0x64
    "a801"    # test al, 1
    "74fa"    # jz wait
    "e460"    # in al, 0x60
    "3cf0"    # cmp al, 0xf0
    "7406"    # je skip
    "a880"    # test al, 0x80
    "75f0"    # jnz wait
    "eb0a"    # jmp done
    "e464"    # skip: in al, 0x64
    "a801"    # test al, 1
    "74fa"    # jz skip
    "e460"    # in al, 0x60
    "ebe4"    # jmp wait
)           # done:
CODE_AT = 0x600  # in the protected-mode part, after kernel_info; both entries jump here


def program():
    code = b""
    for mode in MODES:
        code += show_mode(*mode) + WAIT_KEY
    return code + b"\xe9" + struct.pack("<i", -(len(code) + 5))  # jmp back to the first mode


def image():
    setup = mktiny.setup_header(mktiny.PM_BYTES)
    version = b"kestrel vga vbe test\0"
    setup[mktiny.VERSION_STRING:mktiny.VERSION_STRING + len(version)] = version
    pm = bytearray(mktiny.PM_BYTES)
    code = program()
    if CODE_AT + len(code) > mktiny.PM_BYTES:
        raise SystemExit("vga_vbe_guest: program of %d bytes does not fit" % len(code))
    pm[CODE_AT:CODE_AT + len(code)] = code
    for off in (0, mktiny.ENTRY_64):  # jmp rel32 to the program
        pm[off:off + 5] = b"\xe9" + struct.pack("<i", CODE_AT - (off + 5))
    info = mktiny.kernel_info()
    pm[mktiny.KERNEL_INFO:mktiny.KERNEL_INFO + len(info)] = info
    return bytes(setup + pm)


def save(path):
    with open(path, "wb") as f:
        f.write(image())
    return path


def write_image(folder):
    return save(os.path.join(folder, "vga-vbe.bzImage"))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    save(sys.argv[1])

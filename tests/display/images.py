"""Reading the pictures the display tests compare: binary PPM (P6), PNG
(8-bit RGB, as screendump writes it) and JPEG (through Debian's djpeg)."""
import struct
import subprocess
import zlib


class Image:
    def __init__(self, width, height, rgb):
        self.width, self.height, self.rgb = width, height, bytes(rgb)

    def pixel(self, x, y):
        i = (y * self.width + x) * 3
        return tuple(self.rgb[i:i + 3])

    def distinct_colours(self):
        return {self.rgb[i:i + 3] for i in range(0, len(self.rgb), 3)}


def read_ppm_bytes(data):
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    if fields[0] != b"P6" or fields[3] != b"255":
        raise ValueError("not a binary 8-bit PPM")
    width, height = int(fields[1]), int(fields[2])
    pos += 1
    return Image(width, height, data[pos:pos + width * height * 3])


def read_ppm(path):
    with open(path, "rb") as f:
        return read_ppm_bytes(f.read())


def _unfilter(kind, line, prev, bpp):
    out = bytearray(line)
    for i in range(len(out)):
        a = out[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if kind == 1:
            out[i] = (out[i] + a) & 0xFF
        elif kind == 2:
            out[i] = (out[i] + b) & 0xFF
        elif kind == 3:
            out[i] = (out[i] + (a + b) // 2) & 0xFF
        elif kind == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            out[i] = (out[i] + pred) & 0xFF
    return out


def read_png(path):
    with open(path, "rb") as f:
        return read_png_bytes(f.read())


def read_png_bytes(data):
    """8-bit RGB or RGBA (alpha dropped), non-interlaced."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, width = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or colour not in (2, 6) or interlace != 0:
                raise ValueError("not an 8-bit RGB(A) non-interlaced PNG")
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride, rgb, prev = width * bpp, bytearray(), bytearray(width * bpp)
    for y in range(height):
        row = raw[y * (stride + 1):(y + 1) * (stride + 1)]
        prev = _unfilter(row[0], row[1:], prev, bpp)
        rgb += prev if bpp == 3 else bytes(b for i, b in enumerate(prev) if i % 4 != 3)
    return Image(width, height, rgb)


def read_jpeg(path):
    ppm = subprocess.run(["djpeg", "-pnm", path], check=True, stdout=subprocess.PIPE).stdout
    return read_ppm_bytes(ppm)


def mean_abs_difference(a, b):
    """Mean |a - b| over every channel of two same-sized images."""
    if (a.width, a.height) != (b.width, b.height):
        raise ValueError("sizes differ: %dx%d and %dx%d" % (a.width, a.height, b.width, b.height))
    return sum(abs(x - y) for x, y in zip(a.rgb, b.rgb)) / len(a.rgb)

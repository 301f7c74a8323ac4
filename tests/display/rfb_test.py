#!/usr/bin/env python3
"""The tests' own RFB client (rfb.py) against a scripted server, for what
a real server may do that a tiny guest does not show reliably: after a
desktop resize, libvncserver sends the new size alone, then the rest of
a request made before the resize (only the old size's area), and only
then the answer to the client's request for the new size. A snapshot must
be the whole new picture, not the old area on black.

usage: rfb_test.py [build/kestrel]   (no VMM needed) Ends with "N passed, N failed".
"""
import os
import socket
import struct
import tempfile
import threading

from rfb import DESKTOP_SIZE, RAW, RfbClient, RfbError
from vmm import Failure, Results

OLD, NEW = (4, 2), (6, 3)


def picture(size):
    """B, G, R, X pixels none of which is black."""
    w, h = size
    return b"".join(bytes((1 + i % 200, 2 + i // 7 % 200, 3, 0)) for i in range(w * h))


def update(*rects):
    return struct.pack(">BxH", 0, len(rects)) + b"".join(rects)


def rect(x, y, w, h, encoding, data=b""):
    return struct.pack(">HHHHi", x, y, w, h, encoding) + data


def raw_rect(x, y, w, h, full, full_width):
    rows = [full[((y + r) * full_width + x) * 4:((y + r) * full_width + x + w) * 4] for r in range(h)]
    return rect(x, y, w, h, RAW, b"".join(rows))


def recv_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise Failure("the client closed after %d of %d bytes" % (len(data), n))
        data += chunk
    return data


def handshake(conn):
    conn.sendall(b"RFB 003.008\n")
    recv_exact(conn, 12)
    conn.sendall(b"\x01\x01")  # security: None
    recv_exact(conn, 1)
    conn.sendall(struct.pack(">I", 0))
    recv_exact(conn, 1)  # shared flag
    fmt = struct.pack(">BBBBHHHBBB3x", 32, 24, 0, 1, 255, 255, 255, 16, 8, 0)
    conn.sendall(struct.pack(">HH", *OLD) + fmt + struct.pack(">I", 4) + b"test")
    recv_exact(conn, 20)  # SetPixelFormat
    count = struct.unpack(">xxH", recv_exact(conn, 4))[0]
    recv_exact(conn, 4 * count)  # SetEncodings


def requested(conn):
    kind, incremental, x, y, w, h = struct.unpack(">BBHHHH", recv_exact(conn, 10))
    if kind != 3:
        raise Failure("message %d where an update request was due" % kind)
    return (x, y, w, h)


def resize_served_in_parts(conn, errors):
    try:
        handshake(conn)
        full = picture(NEW)
        first = requested(conn)
        conn.sendall(update(rect(0, 0, NEW[0], NEW[1], DESKTOP_SIZE)))
        conn.sendall(update(raw_rect(0, 0, first[2], first[3], full, NEW[0])))  # the rest of the old request
        second = requested(conn)
        if second != (0, 0) + NEW:
            raise Failure("after the resize the client asked for %s" % (second,))
        conn.sendall(update(raw_rect(0, 0, NEW[0], NEW[1], full, NEW[0])))
    except (Failure, OSError) as e:
        errors.append(e)


def snapshot_after_resize():
    with tempfile.TemporaryDirectory(prefix="kestrel-rfb-") as work:
        path = os.path.join(work, "rfb.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        listener.listen(1)
        errors = []
        server = threading.Thread(target=lambda: resize_served_in_parts(listener.accept()[0], errors))
        server.start()
        try:
            client = RfbClient(path, timeout=30)
            shot = client.snapshot()
        except RfbError as e:
            raise Failure(str(e))
        finally:
            server.join(30)
            listener.close()
        if errors:
            raise errors[0]
        full = picture(NEW)
        want = b"".join(bytes((full[i + 2], full[i + 1], full[i])) for i in range(0, len(full), 4))
        if (shot.width, shot.height) != NEW or shot.rgb != want:
            black = sum(1 for i in range(0, len(shot.rgb), 3) if shot.rgb[i:i + 3] == b"\0\0\0")
            raise Failure("snapshot %dx%d with %d black pixels, not the %dx%d picture"
                          % (shot.width, shot.height, black, NEW[0], NEW[1]))
        client.close()


def main():
    results = Results()
    results.run("rfb.py: a snapshot after a resize served in parts is the whole picture", snapshot_after_resize)
    return results.finish()


if __name__ == "__main__":
    raise SystemExit(main())

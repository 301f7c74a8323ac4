"""A small RFB 3.8 client for the display tests (standard library, plus
Debian's openssl for the DES of VNC authentication): handshake with
security "None" or "VNC", raw frames at 32 bits a pixel, desktop-size
changes, key and pointer events. Also over a WebSocket (binary frames),
the way noVNC talks to websocket= ports."""
import socket
import struct
import subprocess
import time

import images
from websocket import WebSocket

RAW, DESKTOP_SIZE = 0, -223


class RfbError(Exception):
    pass


def vnc_des(key8, data16):
    """VNC's DES: the password's bits mirrored in each byte, ECB."""
    key = bytes(int("{:08b}".format(b)[::-1], 2) for b in key8.ljust(8, b"\0")[:8])
    out = subprocess.run(["openssl", "enc", "-des-ecb", "-K", key.hex(), "-nopad", "-provider", "legacy",
                          "-provider", "default"], input=data16, stdout=subprocess.PIPE, check=True).stdout
    return out[:16]


class RfbClient:
    def __init__(self, address, password=None, websocket=False, timeout=60, shared=True, red_low=False):
        """`address`: (host, port) or a unix socket path. `red_low` asks
        for R, G, B, X pixels instead of B, G, R, X (another format than
        the server's, which it must then translate)."""
        self.red_low = red_low
        if isinstance(address, str):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            sock.connect(address)
        else:
            sock = socket.create_connection(address, timeout=timeout)
        self.sock = WebSocket(sock, address[0], address[1]) if websocket else sock
        self._handshake(password, shared)

    def _recv(self, n):
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise RfbError("connection closed after %d of %d bytes" % (len(out), n))
            out += chunk
        return out

    def _handshake(self, password, shared):
        version = self._recv(12)
        if not version.startswith(b"RFB 003."):
            raise RfbError("not an RFB server: %r" % version)
        self.sock.sendall(b"RFB 003.008\n")
        count = self._recv(1)[0]
        if count == 0:
            length = struct.unpack(">I", self._recv(4))[0]
            raise RfbError("server refused: " + self._recv(length).decode(errors="replace"))
        types = self._recv(count)
        if 2 in types and password is not None:
            self.sock.sendall(b"\x02")
            challenge = self._recv(16)
            self.sock.sendall(vnc_des(password.encode(), challenge))
        elif 1 in types:
            self.sock.sendall(b"\x01")
        else:
            raise RfbError("no usable security type in %r" % list(types))
        result = struct.unpack(">I", self._recv(4))[0]
        if result != 0:
            length = struct.unpack(">I", self._recv(4))[0]
            raise RfbError("authentication failed: " + self._recv(length).decode(errors="replace"))
        self.sock.sendall(b"\x01" if shared else b"\x00")
        self.width, self.height = struct.unpack(">HH", self._recv(4))
        self._recv(16)  # the server's pixel format
        name_length = struct.unpack(">I", self._recv(4))[0]
        self.name = self._recv(name_length).decode(errors="replace")
        # 32 bits a pixel, little-endian, red at bits 16-23: B, G, R, X in
        # memory (or red at bits 0-7: R, G, B, X).
        shifts = (0, 8, 16) if self.red_low else (16, 8, 0)
        fmt = struct.pack(">BBBBHHHBBB3x", 32, 24, 0, 1, 255, 255, 255, *shifts)
        self.sock.sendall(b"\x00\x00\x00\x00" + fmt)
        self.sock.sendall(struct.pack(">BxHii", 2, 2, RAW, DESKTOP_SIZE))
        self.fb = bytearray(self.width * self.height * 4)
        self.covered = bytearray(self.width * self.height)

    def request(self, incremental=False):
        self.sock.sendall(struct.pack(">BBHHHH", 3, 1 if incremental else 0, 0, 0, self.width, self.height))

    def read_update(self):
        """Reads one FramebufferUpdate (skipping other messages); marks
        the pixels it brought in self.covered (cleared by a resize)."""
        while True:
            kind = self._recv(1)[0]
            if kind == 0:
                break
            if kind == 2:  # bell
                continue
            if kind == 3:  # cut text
                self._recv(3)
                self._recv(struct.unpack(">I", self._recv(4))[0])
                continue
            if kind == 1:  # colour map
                _, _, n = struct.unpack(">BHH", self._recv(5))
                self._recv(6 * n)
                continue
            raise RfbError("unexpected server message %d" % kind)
        self._recv(1)
        count = struct.unpack(">H", self._recv(2))[0]
        for _ in range(count):
            x, y, w, h, enc = struct.unpack(">HHHHi", self._recv(12))
            if enc == DESKTOP_SIZE:
                self.width, self.height = w, h
                self.resized = True
                self.fb = bytearray(w * h * 4)
                self.covered = bytearray(w * h)
            elif enc == RAW:
                data = self._recv(w * h * 4)
                if x + w > self.width or y + h > self.height:
                    raise RfbError("rectangle %dx%d at (%d, %d) outside the %dx%d desktop"
                                   % (w, h, x, y, self.width, self.height))
                for row in range(h):
                    start = (y + row) * self.width + x
                    self.fb[start * 4:(start + w) * 4] = data[row * w * 4:(row + 1) * w * 4]
                    self.covered[start:start + w] = b"\1" * w
            else:
                raise RfbError("unexpected encoding %d" % enc)
        return count

    def snapshot(self):
        """The whole screen, as an Image: asks for all of it and reads
        updates until each pixel came in one read here. Updates need not
        answer requests one to one: after a desktop resize, libvncserver
        sends the new size alone, then what is left of an earlier
        request (which may be only the old size's area), then the rest."""
        self.covered = bytearray(self.width * self.height)
        self.request(False)
        while self.covered.find(0) >= 0:
            self.resized = False
            self.read_update()
            if self.resized:  # the request before it was for the old size
                self.request(False)
        rgb = bytearray(self.width * self.height * 3)
        r, b = (0, 2) if self.red_low else (2, 0)
        rgb[0::3], rgb[1::3], rgb[2::3] = self.fb[r::4], self.fb[1::4], self.fb[b::4]
        return images.Image(self.width, self.height, rgb)

    def snapshot_until(self, want, timeout):
        """Snapshots until one is the Image `want` or `timeout` seconds
        passed; returns the last. A server shows the guest's screen some
        time after screendump does (its display refresh backs off to 3 s
        while the guest draws nothing, as QEMU's)."""
        deadline = time.monotonic() + timeout
        while True:
            shot = self.snapshot()
            same = (shot.width, shot.height, shot.rgb) == (want.width, want.height, want.rgb)
            if same or time.monotonic() > deadline:
                return shot
            time.sleep(0.2)

    def key(self, keysym, down):
        self.sock.sendall(struct.pack(">BBxxI", 4, 1 if down else 0, keysym))

    def tap(self, keysym, delay=0.02):
        self.key(keysym, True)
        time.sleep(delay)
        self.key(keysym, False)
        time.sleep(delay)

    def type_text(self, text):
        for ch in text:
            keysym = 0xFF0D if ch == "\n" else ord(ch)
            shift = ch.isupper() or ch in '~!@#$%^&*()_+{}|:"<>?'
            if shift:
                self.key(0xFFE1, True)
            self.tap(keysym)
            if shift:
                self.key(0xFFE1, False)

    def pointer(self, x, y, buttons=0):
        self.sock.sendall(struct.pack(">BBHH", 5, buttons, x, y))

    def close(self):
        self.sock.close()

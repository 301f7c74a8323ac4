"""A client WebSocket (RFC 6455) for the display tests: binary frames for
RFB over websocket= ports, text frames for Chromium's DevTools protocol."""
import base64
import os
import socket
import struct
from urllib.parse import urlparse


class WebSocketError(Exception):
    pass


class WebSocket:
    def __init__(self, sock, host, port, path="/", protocol="binary"):
        self.sock = sock
        key = base64.b64encode(os.urandom(16)).decode()
        req = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nOrigin: http://%s:%d\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
               % (path, host, port, host, port, key))
        if protocol:
            req += "Sec-WebSocket-Protocol: %s\r\n" % protocol
        sock.sendall((req + "\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(1)
            if not chunk:
                raise WebSocketError("websocket handshake: connection closed")
            head += chunk
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise WebSocketError("websocket handshake refused: %r" % head[:80])
        self.pending = b""

    @classmethod
    def connect(cls, url, timeout=60):
        u = urlparse(url)
        sock = socket.create_connection((u.hostname, u.port), timeout=timeout)
        return cls(sock, u.hostname, u.port, u.path or "/", protocol=None)

    def send_frame(self, data, opcode=0x2):
        mask = os.urandom(4)
        n = len(data)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def sendall(self, data):
        self.send_frame(data, 0x2)

    def _exact(self, n):
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise WebSocketError("connection closed")
            out += chunk
        return out

    def recv_message(self):
        """One whole message (continuation frames joined); b"" when closed."""
        message = b""
        while True:
            b0, b1 = self._exact(2)
            length = b1 & 0x7F
            if length == 126:
                length = struct.unpack(">H", self._exact(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", self._exact(8))[0]
            payload = self._exact(length)
            opcode = b0 & 0x0F
            if opcode == 8:
                return b""
            if opcode in (0, 1, 2):
                message += payload
                if b0 & 0x80:
                    return message

    def recv(self, n):
        while not self.pending:
            message = self.recv_message()
            if not message:
                return b""
            self.pending += message
        out, self.pending = self.pending[:n], self.pending[n:]
        return out

    def settimeout(self, t):
        self.sock.settimeout(t)

    def close(self):
        self.sock.close()

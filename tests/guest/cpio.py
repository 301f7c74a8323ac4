"""Write gzip-compressed cpio archives in the kernel's "newc" format.

Written here (instead of calling cpio(1)) so that archives can hold device
nodes and root-owned entries without running as root, and so the bytes are
reproducible (fixed mtime and inode numbers) for the asset stamps.
"""

import gzip
import os
import stat

TRAILER = "TRAILER!!!"


class CpioWriter:
    """Collects entries in memory; `gzip_bytes()` returns the archive."""

    def __init__(self):
        self._chunks = []
        self._next_ino = 1
        self._dirs = set()

    def _entry(self, name, mode, data=b"", rdev=(0, 0)):
        name = name.lstrip("/")
        ino = self._next_ino
        self._next_ino += 1
        fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1],
                  len(name) + 1, 0]
        header = "070701" + "".join("%08x" % f for f in fields)
        raw = header.encode() + name.encode() + b"\0"
        raw += b"\0" * (-len(raw) % 4)
        raw += data + b"\0" * (-len(data) % 4)
        self._chunks.append(raw)

    def add_dir(self, name, mode=0o755):
        name = name.strip("/")
        if not name or name in self._dirs:
            return
        parent = os.path.dirname(name)
        if parent:
            self.add_dir(parent)
        self._dirs.add(name)
        self._entry(name, stat.S_IFDIR | mode)

    def add_file(self, name, data, mode=0o644):
        self.add_dir(os.path.dirname(name.strip("/")))
        self._entry(name, stat.S_IFREG | mode, data)

    def add_host_file(self, name, host_path, mode=None):
        with open(host_path, "rb") as f:
            data = f.read()
        if mode is None:
            mode = stat.S_IMODE(os.stat(host_path).st_mode)
        self.add_file(name, data, mode)

    def add_symlink(self, name, target):
        self.add_dir(os.path.dirname(name.strip("/")))
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def add_char_device(self, name, major, minor, mode=0o600):
        self.add_dir(os.path.dirname(name.strip("/")))
        self._entry(name, stat.S_IFCHR | mode, rdev=(major, minor))

    def raw_bytes(self):
        trailer = CpioWriter()
        trailer._entry(TRAILER, 0)
        body = b"".join(self._chunks) + trailer._chunks[0]
        return body + b"\0" * (-len(body) % 512)

    def gzip_bytes(self, level=6):
        return gzip.compress(self.raw_bytes(), compresslevel=level, mtime=0)


def read_newc_names(raw):
    """Names in an uncompressed newc archive (used by the self-checks)."""
    names, pos = [], 0
    while pos + 110 <= len(raw):
        if raw[pos:pos + 6] != b"070701":
            raise ValueError("bad cpio magic at %d" % pos)
        fields = [int(raw[pos + 6 + 8 * i:pos + 14 + 8 * i], 16) for i in range(13)]
        filesize, namesize = fields[6], fields[11]
        name_start = pos + 110
        name = raw[name_start:name_start + namesize - 1].decode()
        if name == TRAILER:
            break
        names.append(name)
        pos = name_start + namesize
        pos += -pos % 4
        pos += filesize + (-filesize % 4)
    return names

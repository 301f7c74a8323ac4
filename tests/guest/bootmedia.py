"""Bootable Linux media for the firmware-boot scenarios (fwboot-*) and
bench/fwboot.py: Debian's kernel and the l2 initramfs on a disk and a CD
that SeaBIOS boots through Debian's SYSLINUX and ISOLINUX (no -kernel).

  boot/linux-disk.img    raw, DISK_SIZE (sparse): an MBR (syslinux's
                         mbr.bin) with one active Linux partition at 1 MiB:
                         an ext4 root (4 KiB blocks) holding vmlinuz,
                         initrd.gz, extlinux.conf and MD5SUMS, with Debian's
                         EXTLINUX installed into it; files are copied and
                         `extlinux --install` run on a loop mount, so
                         building it needs root, as the nested test host
                         does anyway
  boot/linux-disk.qcow2  the same disk, converted by qemu-img
  boot/linux.iso         ISO 9660 + Rock Ridge + Joliet with ISOLINUX (El
                         Torito, no emulation, an isohybrid MBR as Debian's
                         own ISOs have), built by xorriso

initrd.gz is l2.cpio.gz plus /scenario.sh = boot-media-check.sh: it mounts
the medium the loader names (ktest.medium=disk|cd) with Linux's drivers and
checks its files against MD5SUMS. Rebuilt when an input changes (stamp).

Scenarios use them as disks `fs = "linux-boot-disk"` (format raw or qcow2)
and `fs = "linux-boot-iso"`: each run gets its own copy (copy_for_run).
"""

import hashlib
import os
import shutil
import struct
import subprocess
import tempfile

from scenario import DEFAULT_APPEND

HERE = os.path.dirname(os.path.abspath(__file__))
CHECK_SCRIPT = os.path.join(HERE, "boot-media-check.sh")
PACKAGES = ["syslinux-common", "extlinux", "isolinux", "e2fsprogs", "xorriso"]
MBR_CODE = "/usr/lib/syslinux/mbr/mbr.bin"
ISOLINUX_BIN = "/usr/lib/ISOLINUX/isolinux.bin"
ISOHYBRID_MBR = "/usr/lib/ISOLINUX/isohdpfx.bin"
LDLINUX_C32 = "/usr/lib/syslinux/modules/bios/ldlinux.c32"

SECTOR = 512
DISK_SIZE = 10 << 30        # a real-size disk: past the 8.4 GB of int 13h CHS
PART_START = 2048           # sectors (1 MiB)
PART_SIZE = 64 << 20
DATA_BYTES = PART_START * SECTOR + PART_SIZE   # all zeros after this
APPEND = DEFAULT_APPEND + " ktest.medium=%s"
KINDS = ("linux-boot-disk", "linux-boot-iso")


def loader_config(medium):
    """extlinux.conf / isolinux.cfg: boot at once, talk on COM1 too."""
    return ("SERIAL 0 115200\nDEFAULT linux\nPROMPT 0\nTIMEOUT 0\n"
            "LABEL linux\n  KERNEL /vmlinuz\n  INITRD /initrd.gz\n  APPEND %s\n"
            % (APPEND % medium)).encode()


def chs(lba):
    """The 3 CHS bytes of a partition entry for a 255-head, 63-sector
    geometry (1023/254/63 past its end, as partitioning tools write)."""
    c, h, s = lba // (255 * 63), (lba // 63) % 255, lba % 63 + 1
    if c > 1023:
        c, h, s = 1023, 254, 63
    return bytes([h, s | (c >> 8) << 6, c & 0xff])


def master_boot_record():
    with open(MBR_CODE, "rb") as f:
        code = f.read()[:440]
    mbr = bytearray(SECTOR)
    mbr[:len(code)] = code
    mbr[440:444] = b"TSEK"   # disk signature
    last = PART_START + PART_SIZE // SECTOR - 1
    entry = bytes([0x80]) + chs(PART_START) + bytes([0x83]) + chs(last) + \
        struct.pack("<II", PART_START, PART_SIZE // SECTOR)
    mbr[446:462] = entry
    mbr[510:512] = b"\x55\xaa"
    return bytes(mbr)


def md5sums(files):
    lines = []
    for name, path in files:
        with open(path, "rb") as f:
            lines.append("%s  %s\n" % (hashlib.md5(f.read()).hexdigest(), name))
    return "".join(lines).encode()


def ext4_partition(out, kernel, initrd, work):
    """An ext4 file system image with the boot files and EXTLINUX."""
    conf, sums = os.path.join(work, "extlinux.conf"), os.path.join(work, "MD5SUMS")
    with open(conf, "wb") as f:
        f.write(loader_config("disk"))
    with open(sums, "wb") as f:
        f.write(md5sums([("vmlinuz", kernel), ("initrd.gz", initrd)]))
    # 4 KiB blocks as a real root has; EXTLINUX 6.04 reads ext4 without the
    # 64bit feature (not needed at 64 MiB).
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext4", "-b", "4096", "-O", "^64bit", "-L", "KESTRELBOOT",
                    "-U", "4b455354-0000-4000-8000-000000000001", out, "%dk" % (PART_SIZE // 1024)],
                   check=True, capture_output=True)
    mnt = os.path.join(work, "mnt")
    os.makedirs(mnt)
    mounted = subprocess.run(["mount", "-o", "loop", out, mnt], capture_output=True, text=True)
    if mounted.returncode != 0:
        raise RuntimeError("bootmedia: mounting the ext4 image to install EXTLINUX failed "
                           "(root and a loop device are needed): " + mounted.stderr.strip())
    try:
        # Files written whole (mke2fs -d leaves holes where a file has zero
        # blocks, and EXTLINUX fails to load a kernel with holes: I/O error).
        for name, path in (("vmlinuz", kernel), ("initrd.gz", initrd), ("extlinux.conf", conf),
                           ("MD5SUMS", sums)):
            subprocess.run(["cp", "--sparse=never", path, os.path.join(mnt, name)], check=True)
        subprocess.run(["extlinux", "--install", mnt], check=True, capture_output=True)
    finally:
        subprocess.run(["umount", mnt], check=True)


def build_disk(out, kernel, initrd, work):
    part = os.path.join(work, "part.img")
    ext4_partition(part, kernel, initrd, work)
    with open(out, "wb") as f, open(part, "rb") as p:
        f.write(master_boot_record())
        f.seek(PART_START * SECTOR)
        shutil.copyfileobj(p, f)
        f.truncate(DISK_SIZE)


def build_iso(out, kernel, initrd, work):
    tree = os.path.join(work, "iso")
    os.makedirs(os.path.join(tree, "isolinux"))
    shutil.copyfile(ISOLINUX_BIN, os.path.join(tree, "isolinux", "isolinux.bin"))
    shutil.copyfile(LDLINUX_C32, os.path.join(tree, "isolinux", "ldlinux.c32"))
    with open(os.path.join(tree, "isolinux", "isolinux.cfg"), "wb") as f:
        f.write(loader_config("cd"))
    shutil.copyfile(kernel, os.path.join(tree, "vmlinuz"))
    shutil.copyfile(initrd, os.path.join(tree, "initrd.gz"))
    with open(os.path.join(tree, "MD5SUMS"), "wb") as f:
        f.write(md5sums([("vmlinuz", kernel), ("initrd.gz", initrd)]))
    subprocess.run(["xorriso", "-as", "mkisofs", "-quiet", "-o", out, "-R", "-J",
                    "-V", "KESTREL_BOOT", "-isohybrid-mbr", ISOHYBRID_MBR,
                    "-b", "isolinux/isolinux.bin", "-c", "isolinux/boot.cat",
                    "-no-emul-boot", "-boot-load-size", "4", "-boot-info-table", tree],
                   check=True, capture_output=True)


def edd_module(kernel):
    """edd.ko of the kernel's package (no dependencies): the BIOS's int 13h
    view of the disks, which Linux's setup code asked for, in sysfs."""
    root = os.path.dirname(os.path.dirname(kernel))
    found = [os.path.join(d, "edd.ko") for d, _, files in os.walk(os.path.join(root, "lib", "modules"))
             if "edd.ko" in files]
    return found[0] if found else None


def media_initrd(out, base_initrd, kernel, cpio_module, script=CHECK_SCRIPT):
    """l2.cpio.gz plus an archive with /scenario.sh (by default the medium
    check) and /lib/edd.ko."""
    overlay = cpio_module.CpioWriter()
    with open(script, "rb") as f:
        overlay.add_file("scenario.sh", f.read(), 0o755)
    if edd_module(kernel):
        overlay.add_host_file("lib/edd.ko", edd_module(kernel), 0o644)
    with open(out, "wb") as f, open(base_initrd, "rb") as base:
        shutil.copyfileobj(base, f)
        f.write(b"\0" * (-f.tell() % 512))
        f.write(overlay.gzip_bytes())


def inputs_digest(kernel, base_initrd, script=CHECK_SCRIPT):
    h = hashlib.sha256()
    for path in (kernel, base_initrd, script, os.path.abspath(__file__),
                 MBR_CODE, ISOLINUX_BIN, LDLINUX_C32):
        with open(path, "rb") as f:
            h.update(hashlib.sha256(f.read()).digest())
    return h.hexdigest()


def up_to_date(stamp, digest, paths):
    """Whether the media in `paths` were built from the inputs `digest` names."""
    try:
        with open(stamp) as f:
            return f.read().strip() == digest and all(map(os.path.exists, paths))
    except OSError:
        return False


def build(cache, kernel, base_initrd, cpio_module):
    """Builds the media under CACHE/boot when their inputs changed; returns
    the entries for assets.json."""
    folder = os.path.join(cache, "boot")
    paths = {"boot_disk": os.path.join(folder, "linux-disk.img"),
             "boot_disk_qcow2": os.path.join(folder, "linux-disk.qcow2"),
             "boot_iso": os.path.join(folder, "linux.iso")}
    result = dict(paths, boot_disk_data_bytes=DATA_BYTES)
    stamp = os.path.join(folder, "stamp")
    digest = inputs_digest(kernel, base_initrd)
    if up_to_date(stamp, digest, paths.values()):
        return result
    os.makedirs(folder, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bootmedia-", dir=cache) as work:
        initrd = os.path.join(work, "initrd.gz")
        media_initrd(initrd, base_initrd, kernel, cpio_module)
        disk, iso = os.path.join(work, "disk.img"), os.path.join(work, "linux.iso")
        build_disk(disk, kernel, initrd, work)
        build_iso(iso, kernel, initrd, work)
        qcow2 = os.path.join(work, "disk.qcow2")
        subprocess.run(["qemu-img", "convert", "-O", "qcow2", disk, qcow2], check=True)
        for src, key in ((disk, "boot_disk"), (qcow2, "boot_disk_qcow2"), (iso, "boot_iso")):
            os.rename(src, paths[key])
    with open(stamp, "w") as f:
        f.write(digest + "\n")
    return result


def build_script_disk(cache, name, kernel, base_initrd, script, cpio_module):
    """A raw boot disk as linux-disk.img whose initramfs runs `script` as its
    /scenario.sh (e.g. a test's command loop instead of the medium check):
    CACHE/boot/NAME.img, rebuilt when an input changes. Copy it with
    copy_raw_disk(path, out, DATA_BYTES)."""
    folder = os.path.join(cache, "boot")
    path, stamp = os.path.join(folder, name + ".img"), os.path.join(folder, name + ".stamp")
    digest = inputs_digest(kernel, base_initrd, script)
    if up_to_date(stamp, digest, [path]):
        return path
    os.makedirs(folder, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bootmedia-", dir=cache) as work:
        initrd = os.path.join(work, "initrd.gz")
        media_initrd(initrd, base_initrd, kernel, cpio_module, script)
        disk = os.path.join(work, "disk.img")
        build_disk(disk, kernel, initrd, work)
        os.rename(disk, path)
    with open(stamp, "w") as f:
        f.write(digest + "\n")
    return path


def copy_raw_disk(src, out, data_bytes):
    """The raw disk's data (everything past data_bytes is zeros) into a
    sparse file of the same size: no reading gigabytes of zeros over 9p."""
    size = os.path.getsize(src)
    with open(src, "rb") as s, open(out, "wb") as d:
        left = data_bytes
        while left > 0:
            block = s.read(min(left, 1 << 20))
            if not block:
                break
            if block.count(0) == len(block):
                d.seek(len(block), os.SEEK_CUR)
            else:
                d.write(block)
            left -= len(block)
        d.truncate(size)


def copy_for_run(assets, kind, fmt, out_base):
    """A scenario's own copy of a medium; returns its path."""
    if "boot_disk" not in assets:
        raise RuntimeError("assets.json has no boot media: rebuild the assets")
    if kind == "linux-boot-iso":
        out = out_base + ".iso"
        shutil.copyfile(assets["boot_iso"], out)
    elif fmt == "qcow2":
        out = out_base + ".qcow2"
        shutil.copyfile(assets["boot_disk_qcow2"], out)
    else:
        out = out_base + ".img"
        copy_raw_disk(assets["boot_disk"], out, assets["boot_disk_data_bytes"])
    return out

#!/usr/bin/env python3
"""Builds the guest-test assets from Debian packages into a cache folder.

Assets (default cache: ${KESTREL_CACHE:-$HOME/.cache/kestrel}):
  kernel/<ver>/            linux-image-<ver> unpacked with dpkg -x, depmod'ed
  initramfs/l1.cpio.gz     nested test host (L1): kvm_amd, 9p, virtio, ext4
  initramfs/l2.cpio.gz     L2 guest base: busybox + device driver modules
  initramfs/l2-tools.cpio  network tools for guests (scenarios with
                           guest_tools = true or ["net"]): iperf3, ip,
                           ethtool, tcpdump of this machine with their
                           libraries, and tools/tcp_pingpong.c, under /opt/net
  initramfs/l2-fio.cpio    fio of this machine with its libraries, under
                           /opt/fio (scenarios with guest_tools = ["fio"])
  boot/                    bootable disk and CD images of the kernel and the
                           l2 initramfs (SYSLINUX/ISOLINUX; bootmedia.py)
  assets.json              paths of the above

Each initramfs is rebuilt only when the hash of its inputs (kernel version,
busybox binary, init script, module list, this builder's source; for the
tool archives their programs and libraries) changes.

  assets.py build                      build if needed, print assets.json
  assets.py mkimage OUT --size 64M [--fs ext4|raw] [--from DIR] [--label L]
"""

import argparse
import fcntl
import glob
import hashlib
import json
import lzma
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bootmedia  # noqa: E402
import cpio  # noqa: E402

TESTS_DIR = os.path.dirname(HERE)
L1_INIT = os.path.join(TESTS_DIR, "kvmhost", "l1-init.sh")
L2_INIT = os.path.join(HERE, "l2-init.sh")
BUSYBOX = "/bin/busybox"
HOST_PACKAGES = ["busybox-static", "kmod", "cpio", "qemu-system-x86", "e2fsprogs",
                 "iperf3", "iproute2", "ethtool", "tcpdump", "gcc", "libc6-dev", "fio"] + \
    bootmedia.PACKAGES
# Network tools for guests: Debian's binaries with every library ldd lists.
GUEST_TOOLS = ["/usr/bin/iperf3", "/usr/sbin/ip", "/usr/sbin/ethtool", "/usr/bin/tcpdump"]
FIO = "/usr/bin/fio"
PINGPONG_SOURCE = os.path.join(HERE, "tools", "tcp_pingpong.c")
NET_CHECK = os.path.join(HERE, "tools", "net_check.sh")

# Modules the L1 test host loads at boot; all must exist.
L1_MODULES = ["crc32c_generic", "kvm_amd", "9pnet_virtio", "9p", "virtio_pci",
              "virtio_blk", "ext4"]
# Loaded by L1 too when the kernel has them (networking and disk tests).
L1_OPTIONAL = ["tun", "vhost_net", "vhost_vsock", "loop", "bridge", "veth",
               # libvirt's NAT network (its iptables rules, iptables-nft)
               "nf_tables", "nft_compat", "nft_chain_nat", "nft_nat", "nft_masq", "nft_ct",
               "nft_reject_inet", "nft_reject_ipv4", "nft_reject_ipv6", "xt_tcpudp", "xt_conntrack",
               "xt_state", "xt_MASQUERADE", "xt_nat", "xt_CHECKSUM", "xt_addrtype", "xt_comment",
               "ipt_REJECT", "ip6t_REJECT"]
# Shipped in the L2 base initramfs when present; scenarios modprobe them.
L2_MODULES = [
    "virtio_pci", "virtio_mmio", "virtio_blk", "virtio_net", "virtio_scsi",
    "virtio_console", "virtio_rng", "virtio_balloon", "virtio_input",
    "e1000", "e1000e", "ne2k_pci", "8139cp", "8139too", "pcnet32",
    "ata_piix", "ata_generic", "pata_acpi", "ahci", "sd_mod", "sr_mod",
    "floppy", "ext4", "crc32c_generic", "isofs", "vfat", "nls_cp437",
    "nls_iso8859_1", "loop", "uhci_hcd", "ehci_pci", "ohci_pci", "xhci_pci",
    "usb_storage", "usbhid", "hid_generic", "evdev", "psmouse", "serio_raw",
    "i2c_piix4", "parport_pc", "pvpanic_pci", "pvpanic_mmio", "qemu_fw_cfg", "bochs",
    "cirrus", "cirrusfb", "snd_hda_intel", "snd_hda_codec_generic", "snd_ens1370",
    "af_packet", "button", "8021q", "bridge",
]


def log(msg):
    print("assets: " + msg, file=sys.stderr, flush=True)


def cache_dir():
    return os.environ.get("KESTREL_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "kestrel")


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def ensure_host_packages(packages=HOST_PACKAGES):
    missing = []
    for pkg in packages:
        res = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg],
                             capture_output=True, text=True)
        if "install ok installed" not in res.stdout:
            missing.append(pkg)
    if not missing:
        return
    log("installing " + " ".join(missing))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "install", "-y", "-q", "--no-install-recommends"] + missing,
        env=env, stdin=subprocess.DEVNULL)


def kernel_package_name():
    """linux-image-<ver>-amd64 that linux-image-amd64 currently points to."""
    if os.environ.get("KESTREL_KERNEL_PKG"):
        return os.environ["KESTREL_KERNEL_PKG"]
    res = subprocess.run(["apt-cache", "depends", "linux-image-amd64"],
                         capture_output=True, text=True)
    for line in res.stdout.splitlines():
        words = line.split()
        if len(words) == 2 and words[0] == "Depends:" and \
                words[1].startswith("linux-image-"):
            return words[1]
    return None


def fetch_kernel(cache):
    """Download and unpack the kernel package; returns (version, root dir)."""
    pkg = kernel_package_name()
    kernels = os.path.join(cache, "kernel")
    if pkg is None:
        have = sorted(glob.glob(os.path.join(kernels, "*", ".complete")))
        if not have:
            raise SystemExit("assets: apt-cache knows no linux-image-amd64 "
                             "(run apt-get update) and no kernel is cached")
        root = os.path.dirname(have[-1])
        log("apt-cache failed; using cached kernel " + root)
        return os.path.basename(root), root
    version = pkg[len("linux-image-"):]
    root = os.path.join(kernels, version)
    if os.path.exists(os.path.join(root, ".complete")):
        return version, root
    debs = os.path.join(cache, "debs")
    os.makedirs(debs, exist_ok=True)
    found = glob.glob(os.path.join(debs, pkg + "_*.deb"))
    if not found:
        log("downloading " + pkg)
        run(["apt-get", "download", "-q", "-o", "APT::Sandbox::User=root", pkg],
            cwd=debs, stdin=subprocess.DEVNULL)
        found = glob.glob(os.path.join(debs, pkg + "_*.deb"))
    staging = tempfile.mkdtemp(prefix="kernel-", dir=cache)
    log("unpacking " + os.path.basename(found[0]))
    run(["dpkg", "-x", found[0], staging])
    run(["depmod", "-b", staging, version])
    with open(os.path.join(staging, ".complete"), "w") as f:
        f.write(os.path.basename(found[0]) + "\n")
    if os.path.exists(root):
        shutil.rmtree(root)
    os.makedirs(kernels, exist_ok=True)
    os.rename(staging, root)
    return version, root


def modules_dir(kroot, version):
    for base in ("lib", "usr/lib"):
        path = os.path.join(kroot, base, "modules", version)
        if os.path.isdir(path):
            return path
    raise SystemExit("assets: no modules folder for " + version)


def module_name(path):
    name = os.path.basename(path)
    for suffix in (".ko", ".ko.xz", ".ko.zst", ".ko.gz"):
        if name.endswith(suffix):
            name = name[:-len(suffix)]
    return name.replace("-", "_")


def read_modules_dep(mdir):
    """{module name: (relative path, [dependency paths])}"""
    table = {}
    with open(os.path.join(mdir, "modules.dep")) as f:
        for line in f:
            path, _, deps = line.partition(":")
            table[module_name(path)] = (path, deps.split())
    return table


def resolve_modules(mdir, required, optional=()):
    """Relative paths of the wanted modules and all their dependencies,
    dependencies first, plus the list of names loaded at boot."""
    table = read_modules_dep(mdir)
    wanted = []
    for name in required:
        if name.replace("-", "_") not in table:
            raise SystemExit("assets: kernel has no module " + name)
        wanted.append(name.replace("-", "_"))
    wanted += [n.replace("-", "_") for n in optional
               if n.replace("-", "_") in table]
    ordered = []
    for name in wanted:
        path, deps = table[name]
        for p in deps[::-1] + [path]:
            if p not in ordered:
                ordered.append(p)
    return ordered, wanted


def filtered_module_files(mdir, paths):
    """modules.dep / modules.alias restricted to the shipped modules."""
    keep = set(paths)
    names = {module_name(p) for p in paths}
    dep_lines, alias_lines = [], []
    with open(os.path.join(mdir, "modules.dep")) as f:
        dep_lines = [line for line in f if line.split(":")[0] in keep]
    with open(os.path.join(mdir, "modules.alias")) as f:
        alias_lines = [line for line in f
                       if line.startswith("alias ") and
                       line.split()[-1].replace("-", "_") in names]
    return "".join(dep_lines), "".join(alias_lines)


def add_busybox(archive):
    archive.add_host_file("bin/busybox", BUSYBOX, 0o755)
    applets = subprocess.run([BUSYBOX, "--list-full"], capture_output=True,
                             text=True, check=True).stdout.split()
    for applet in applets:
        if applet == "bin/busybox":
            continue
        depth = applet.count("/")
        archive.add_symlink(applet, "../" * depth + "bin/busybox")


def add_modules(archive, kroot, version, paths):
    mdir = modules_dir(kroot, version)
    prefix = "lib/modules/%s/" % version
    for rel in paths:
        archive.add_host_file(prefix + rel, os.path.join(mdir, rel), 0o644)
    deps, aliases = filtered_module_files(mdir, paths)
    archive.add_file(prefix + "modules.dep", deps.encode())
    archive.add_file(prefix + "modules.alias", aliases.encode())
    for extra in ("modules.builtin", "modules.order"):
        src = os.path.join(mdir, extra)
        if os.path.exists(src):
            archive.add_host_file(prefix + extra, src, 0o644)


def build_archive(kroot, version, init_path, paths, boot_modules):
    archive = cpio.CpioWriter()
    for d in ("dev", "proc", "sys", "tmp", "run", "mnt", "root", "etc"):
        archive.add_dir(d)
    archive.add_char_device("dev/console", 5, 1)
    archive.add_char_device("dev/null", 1, 3, 0o666)
    add_busybox(archive)
    archive.add_host_file("init", init_path, 0o755)
    archive.add_file("etc/boot-modules", ("\n".join(boot_modules) + "\n").encode())
    add_modules(archive, kroot, version, paths)
    data = archive.gzip_bytes()
    # The kernel takes an uncompressed archive appended to this one only at a
    # 4-byte aligned offset (it skips zeros between archives).
    return data + b"\0" * (-len(data) % 512)


def extract_vmlinux(kroot, version):
    """The uncompressed ELF kernel inside the package's bzImage (for PVH
    boot), unpacked once next to it: boot/vmlinux-VERSION."""
    out = os.path.join(kroot, "boot", "vmlinux-" + version)
    if os.path.exists(out):
        return out
    with open(os.path.join(kroot, "boot", "vmlinuz-" + version), "rb") as f:
        image = f.read()
    setup = ((image[0x1f1] or 4) + 1) * 512
    offset, length = struct.unpack_from("<II", image, 0x248)  # payload_offset/length (protocol 2.08+)
    payload = image[setup + offset:setup + offset + length]
    # One stream followed by the 4-byte size Linux's build appends.
    if payload.startswith(b"\xfd7zXZ\x00"):
        elf = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(payload)
    elif payload.startswith(b"\x1f\x8b"):
        elf = zlib.decompressobj(wbits=31).decompress(payload)
    else:
        raise SystemExit("assets: unknown compression of the kernel payload (%s)" % payload[:6].hex())
    if not elf.startswith(b"\x7fELF"):
        raise SystemExit("assets: the kernel payload is not an ELF image")
    log("extracted vmlinux-" + version)
    write_atomically(out, elf)
    return out


def file_hash(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def inputs_hash(version, init_path, required, optional):
    h = hashlib.sha256()
    for part in [version, " ".join(required), " ".join(optional),
                 file_hash(BUSYBOX), file_hash(init_path),
                 file_hash(os.path.abspath(__file__)),
                 file_hash(os.path.join(HERE, "cpio.py"))]:
        h.update(part.encode() + b"\0")
    return h.hexdigest()


def build_initramfs(cache, kroot, version, kind):
    """Build initramfs/<kind>.cpio.gz when its inputs changed."""
    if kind == "l1":
        init_path, required, optional = L1_INIT, L1_MODULES, L1_OPTIONAL
    else:
        init_path, required, optional = L2_INIT, [], L2_MODULES
    out = os.path.join(cache, "initramfs", kind + ".cpio.gz")
    stamp = out + ".stamp"
    digest = inputs_hash(version, init_path, required, optional)
    if os.path.exists(out) and os.path.exists(stamp):
        with open(stamp) as f:
            if f.read().strip() == digest:
                return out
    log("building %s initramfs" % kind)
    mdir = modules_dir(kroot, version)
    paths, boot_modules = resolve_modules(mdir, required, optional)
    data = build_archive(kroot, version, init_path, paths,
                         boot_modules if kind == "l1" else [])
    os.makedirs(os.path.dirname(out), exist_ok=True)
    write_atomically(out, data)
    write_atomically(stamp, (digest + "\n").encode())
    return out


def shared_libraries(binary):
    """Every library ldd resolves for `binary`, and the dynamic loader
    (paths as the binary asks for them). A library ldd cannot find stops
    the build."""
    out = subprocess.run(["ldd", binary], capture_output=True, text=True,
                         check=True).stdout
    libs = []
    for line in out.splitlines():
        words = line.split()
        if "=>" in words and "not found" in line:
            raise SystemExit("assets: %s: %s" % (binary, line.strip()))
        if "=>" in words and words[-1].startswith("("):
            path = words[words.index("=>") + 1]
            if path.startswith("/"):
                libs.append(path)
        elif words and words[0].startswith("/"):
            libs.append(words[0])
    return libs


def add_programs(archive, programs, bin_dir=None):
    """Puts each program into the cpio archive (in bin_dir, or at its own
    path without one) and every library it loads at the library's own path
    (symlinks followed); returns the libraries' folders (LD_LIBRARY_PATH)."""
    added = []
    for program in programs:
        name = os.path.join(bin_dir, os.path.basename(program)) if bin_dir else program
        archive.add_host_file(name.lstrip("/"), program, 0o755)
        for lib in shared_libraries(program):
            if lib not in added:
                added.append(lib)
                archive.add_host_file(lib.lstrip("/"), os.path.realpath(lib), 0o755)
    return sorted({os.path.dirname(lib) for lib in added})


def programs_and_libraries(programs):
    """The files an archive of `programs` is made of (for its stamp)."""
    libs = {lib for program in programs for lib in shared_libraries(program)}
    return list(programs) + sorted(libs)


def build_cached(out, inputs, make, also=()):
    """Writes `out` with the bytes make() returns, unless out.stamp holds
    the hash of the input files and this builder's source already and the
    files in `also` (which make() writes too) exist. Returns out."""
    h = hashlib.sha256()
    for path in list(inputs) + [os.path.abspath(__file__), os.path.join(HERE, "cpio.py")]:
        h.update(file_hash(path).encode())
    digest = h.hexdigest()
    stamp = out + ".stamp"
    if all(os.path.exists(p) for p in [out, stamp, *also]):
        with open(stamp) as f:
            if f.read().strip() == digest:
                return out
    data = make()
    os.makedirs(os.path.dirname(out), exist_ok=True)
    write_atomically(out, data)
    write_atomically(stamp, (digest + "\n").encode())
    return out


def tool_archive(name, programs, extra=()):
    """An uncompressed cpio archive (faster to unpack in the nested guest
    than gunzip) with `programs` in /opt/NAME/bin, their libraries at their
    own paths, the `extra` files ((path in the archive, host path, mode))
    and /opt/NAME/env.sh (PATH and LD_LIBRARY_PATH for scenario scripts)."""
    archive = cpio.CpioWriter()
    lib_dirs = add_programs(archive, programs, "/opt/%s/bin" % name)
    for path, host_path, mode in extra:
        archive.add_host_file(path, host_path, mode)
    env = "export PATH=/opt/%s/bin:$PATH\nexport LD_LIBRARY_PATH=%s\n" % (name, ":".join(lib_dirs))
    archive.add_file("opt/%s/env.sh" % name, env.encode(), 0o644)
    return archive.raw_bytes()


def build_tools(cache):
    """initramfs/l2-tools.cpio (tool_archive "net"): /opt/net/bin/{iperf3,
    ip,ethtool,tcpdump,tcp_pingpong} and /opt/net/net_check.sh (the guest
    side of the network scenarios)."""
    out = os.path.join(cache, "initramfs", "l2-tools.cpio")
    pingpong = os.path.join(cache, "tools", "tcp_pingpong")

    def make():
        log("building guest network tools")
        os.makedirs(os.path.dirname(pingpong), exist_ok=True)
        run(["gcc", "-O2", "-static", "-o", pingpong + ".tmp", PINGPONG_SOURCE])
        os.rename(pingpong + ".tmp", pingpong)
        return tool_archive("net", GUEST_TOOLS, [("opt/net/bin/tcp_pingpong", pingpong, 0o755),
                                                 ("opt/net/net_check.sh", NET_CHECK, 0o644)])
    inputs = programs_and_libraries(GUEST_TOOLS) + [PINGPONG_SOURCE, NET_CHECK]
    return build_cached(out, inputs, make, also=[pingpong]), pingpong


def build_fio(cache):
    """initramfs/l2-fio.cpio (tool_archive "fio"): /opt/fio/bin/fio."""
    def make():
        log("building guest fio")
        return tool_archive("fio", [FIO])
    return build_cached(os.path.join(cache, "initramfs", "l2-fio.cpio"),
                        programs_and_libraries([FIO]), make)


def write_atomically(path, data):
    tmp = path + ".tmp.%d" % os.getpid()
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


def build_all(cache=None):
    """Ensure every asset exists; returns the assets dict."""
    cache = cache or cache_dir()
    os.makedirs(cache, exist_ok=True)
    with open(os.path.join(cache, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ensure_host_packages()
        version, kroot = fetch_kernel(cache)
        assets = {
            "cache": cache,
            "kernel_version": version,
            "kernel": os.path.join(kroot, "boot", "vmlinuz-" + version),
            "vmlinux": extract_vmlinux(kroot, version),
            "l1_initrd": build_initramfs(cache, kroot, version, "l1"),
            "l2_initrd": build_initramfs(cache, kroot, version, "l2"),
        }
        assets["l2_tools"], assets["tcp_pingpong"] = build_tools(cache)
        assets["l2_fio"] = build_fio(cache)
        assets.update(bootmedia.build(cache, assets["kernel"], assets["l2_initrd"], cpio))
        write_atomically(os.path.join(cache, "assets.json"),
                         (json.dumps(assets, indent=1) + "\n").encode())
        return assets


def load_assets(path):
    """The dict build_all() returned, from its assets.json."""
    with open(path) as f:
        return json.load(f)


def parse_size(text):
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = str(text).strip().upper()
    if text and text[-1] in units:
        return int(text[:-1]) * units[text[-1]]
    return int(text)


def make_disk_image(out, size, fs="ext4", source=None, label=None):
    """Sparse disk image of `size` bytes: ext4 (optionally filled from the
    folder `source` with mke2fs -d) or raw (zeros, or `source` file's bytes
    at the start); or an ISO 9660 CD image of the folder's files."""
    if os.path.exists(out):
        os.unlink(out)
    if fs == "iso9660":  # the files' own size; `size` does not apply
        import iso9660
        return iso9660.make_iso_from_folder(out, source, label or "KESTREL")
    if fs == "raw" and source:
        shutil.copyfile(source, out)
    with open(out, "ab") as f:
        f.truncate(max(size, f.tell()))
    if fs == "ext4":
        cmd = ["mke2fs", "-q", "-F", "-t", "ext4", "-E",
               "root_owner=0:0,assume_storage_prezeroed=1"]
        if source:
            cmd += ["-d", source]
        if label:
            cmd += ["-L", label]
        run(cmd + [out], stdin=subprocess.DEVNULL)
    elif fs != "raw":
        raise ValueError("unknown image type " + fs)
    return out


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawTextHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="build assets if needed, print paths")
    b.add_argument("--cache", default=None)
    m = sub.add_parser("mkimage", help="make a disk image")
    m.add_argument("out")
    m.add_argument("--size", required=True, help="bytes, or with K/M/G")
    m.add_argument("--fs", choices=["ext4", "raw"], default="ext4")
    m.add_argument("--from", dest="source", help="folder (ext4) or file (raw)")
    m.add_argument("--label")
    args = parser.parse_args(argv)
    if args.cmd == "build":
        print(json.dumps(build_all(args.cache), indent=1))
    else:
        make_disk_image(args.out, parse_size(args.size), args.fs, args.source,
                        args.label)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Fails when a file in src/ includes a header of a layer above its own.

kestrel's layers, lowest first; each may include only the layers it lists
(and itself). src/meson.build builds one static library per layer with the
same dependencies. Run by the build (every ninja run) and by hand:
    python3 scripts/check_layers.py [--stamp FILE]
Prints one line per upward include and exits 1 if there is any.
"""
import pathlib
import re
import sys

ALLOWED = {
    "base": [],
    "kvm": ["base"],
    "chardev": ["base"],
    "block": ["base"],
    "net": ["chardev", "kvm", "base"],
    "model": ["kvm", "base"],
    "ui": ["model", "kvm", "base"],
    "vcpu": ["model", "kvm", "base"],
    "virtio": ["model", "block", "net", "kvm", "base"],
    "devices": ["ui", "virtio", "model", "chardev", "block", "net", "kvm", "base"],
    "config": ["devices", "ui", "virtio", "model", "vcpu", "chardev", "block", "net", "kvm", "base"],
    "monitor": ["config", "devices", "ui", "virtio", "model", "vcpu", "chardev", "block", "net", "kvm", "base"],
    "machine": ["monitor", "config", "devices", "ui", "virtio", "model", "vcpu", "chardev", "block", "net", "kvm",
                "base"],
    "img": ["block", "base"],  # kestrel-img, a program of its own
    "main": ["machine", "monitor", "config", "devices", "ui", "virtio", "model", "vcpu", "chardev", "block", "net",
             "kvm", "base"],
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def layer_of(path):
    """The layer of a path below src/ ("devices/pci/msix.h"), or None."""
    parts = path.split("/")
    top = parts[0]
    if path == "main.cpp":
        return "main"
    if top == "devices":
        # The device model: the root files and the PCI core. The type
        # table lists every device folder, so it sits with them.
        if path in ("devices/device_types.cpp", "devices/device_types.h"):
            return "devices"
        if len(parts) == 2 or parts[1] == "pci":
            return "model"
        return "devices"
    return top if top in ALLOWED else None


def violations(src):
    found = []
    for file in sorted(src.rglob("*")):
        if file.suffix not in (".h", ".cpp"):
            continue
        rel = file.relative_to(src).as_posix()
        mine = layer_of(rel)
        text = file.read_text(errors="replace")
        for m in INCLUDE.finditer(text):
            target = layer_of(m.group(1))
            if target is None or target == mine or target in ALLOWED[mine]:
                continue
            line = text.count("\n", 0, m.start()) + 1
            found.append(f"src/{rel}:{line}: includes {m.group(1)}: layer {mine} may not use layer {target}")
    return found


def main():
    src = pathlib.Path(__file__).resolve().parent.parent / "src"
    found = violations(src)
    for v in found:
        print(v, file=sys.stderr)
    if found:
        print(f"{len(found)} upward include(s); the layers are in scripts/check_layers.py", file=sys.stderr)
        return 1
    if len(sys.argv) == 3 and sys.argv[1] == "--stamp":
        pathlib.Path(sys.argv[2]).write_text("ok\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

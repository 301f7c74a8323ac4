#!/usr/bin/env bash
# Builds the tiny test kernels into DIR with Debian's gcc and binutils:
#   tiny-mb.elf     multiboot, ELF32
#   tiny-mb.bin     multiboot, flat binary (a.out kludge header)
#   tiny-pvh.elf    PVH note only, ELF32
#   tiny-pvh64.elf  the same as ELF64 (as Linux's vmlinux is)
set -euo pipefail
out=${1:?usage: build.sh OUTDIR}
src=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
cflags=(-m32 -march=i686 -O2 -ffreestanding -fno-pic -fno-pie -fno-stack-protector -mgeneral-regs-only
        -fno-asynchronous-unwind-tables -nostdlib -Wall -Wextra -Werror -I"$src")
build() {  # NAME DEFINES...
  local name=$1; shift
  local objs=()
  for f in start.S main.c lib.c virtio_legacy.c fwcfg.c testdev.c pit.c netbench.c blkcrash.c smp.c pciscan.c ide_taskfile.c nmi.c atapi.c dumppat.c; do
    gcc "${cflags[@]}" "$@" -c "$src/$f" -o "$out/$name-${f%.*}.o"
    objs+=("$out/$name-${f%.*}.o")
  done
  ld -m elf_i386 --no-warn-rwx-segments -nostdlib -T "$src/tiny.ld" -o "$out/$name.elf" "${objs[@]}"
  rm -f "${objs[@]}"
}
build tiny-mb -DMULTIBOOT
build tiny-mb-aout -DMULTIBOOT -DAOUT
objcopy -O binary "$out/tiny-mb-aout.elf" "$out/tiny-mb.bin"
rm -f "$out/tiny-mb-aout.elf"
build tiny-pvh
objcopy -O elf64-x86-64 "$out/tiny-pvh.elf" "$out/tiny-pvh64.elf"

#!/usr/bin/env bash
# Installs, with apt, the Debian 12 packages kestrel needs to build, test and
# run its demo. Installs only what is missing, so a second run is instant.
set -euo pipefail

packages=(
  # build
  g++ meson ninja-build pkg-config
  # compiler cache: CI's fresh clones compile only what changed (scripts/ccache-env.sh)
  ccache
  # lld orders kestrel's start-up code (scripts/text_order.py: smaller RSS);
  # lld-16 packs its relocations as RELR (lld 14 cannot with glibc 2.36)
  lld lld-16
  libboost-program-options-dev libfmt-dev libspdlog-dev liburing-dev catch2
  acpica-tools nlohmann-json3-dev libseccomp-dev
  # fuzzing and sanitizer builds (tests/fuzz, scripts/sanitize.sh): clang, libFuzzer
  clang libclang-rt-14-dev
  # the kernel cache: every compression a bzImage may use, xxHash for keys and checksums
  zlib1g-dev libbz2-dev liblzma-dev liblzo2-dev liblz4-dev libzstd-dev libxxhash-dev
  # dump-guest-memory's kdump-snappy pages (zlib and lzo2 above serve kdump-zlib/-lzo)
  libsnappy-dev
  # qemu-img and qemu-io: the referee for kestrel-img and the qcow2 driver
  qemu-utils
  # the tiny test kernels (tests/tiny); strace counts kestrel's returns from KVM_RUN
  gcc binutils strace
  # display: the VNC server (RFB, encodings, WebSocket), the VGA BIOS ROMs
  # whose font text mode shows
  libvncserver-dev seabios
  # -netdev user: QEMU's own user-mode network stack (loaded with dlopen on use)
  libslirp-dev
  # the NICs' default option ROMs (efi-e1000.rom, efi-virtio.rom: iPXE)
  ipxe-qemu
  # display tests: real VNC clients (vncsnapshot; noVNC in headless
  # Chromium), djpeg for vncsnapshot's JPEG, openssl for VNC's DES
  vncsnapshot chromium libjpeg-turbo-progs openssl
  # guest assets and the nested test host
  qemu-system-x86 busybox-static kmod cpio e2fsprogs python3
  # bootable disk and CD images of the firmware-boot scenarios (tests/guest/bootmedia.py)
  syslinux syslinux-common extlinux isolinux mtools dosfstools xorriso
  # libvirt's capability probe against kestrel (tests/libvirt); dnsmasq for
  # the NAT network the Linux guest test defines (libvirt runs it for DHCP)
  libvirt-daemon-system libvirt-clients dnsmasq-base
  # -object secret,keyid=: AES-256-CBC (nettle, as QEMU's crypto uses)
  nettle-dev
)

# npm fetches noVNC once for the display tests; Debian's npm only where no
# npm (e.g. one that came with another nodejs) is there already
command -v npm >/dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

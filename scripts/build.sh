#!/usr/bin/env bash
# Configures (once) and builds kestrel in build/: the programs and what the
# tests run from build/, and the layer check. Not the unit tests (meson's
# default target would build them, as every test's prerequisite): CI runs
# them in the ASan+UBSan build only; `ninja -C build` builds everything.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ccache-env.sh
[ -f build/build.ninja ] || CXX="$CCACHE c++" meson setup build --buildtype=release >/dev/null
ninja -C build src/layers.ok kestrel qemu-system-x86_64 qemu-kvm kestrel-img qemu-img \
  tests/crash/qcow2_crash_writer >/dev/null
echo "built $(pwd)/build/kestrel"

#!/usr/bin/env bash
# Benchmarks kestrel against qemu-system-x86_64 -enable-kvm; see bench/README.md.
# Options go to bench/run.py (--help lists them).
exec python3 "$(dirname "$0")/run.py" "$@"

#!/usr/bin/env bash
# Tests under sanitizers (tests/README.md, "Sanitizers"):
#
#   scripts/sanitize.sh asan   unit tests and command-line tests with
#                              AddressSanitizer + UndefinedBehaviorSanitizer
#                              (build-fuzz: clang, shared with the fuzzers)
#   scripts/sanitize.sh tsan   the unit tests that start threads (event loop,
#                              iothreads, chardevs, virtio workers, block,
#                              serial, MSI-X) with ThreadSanitizer (build-tsan)
#
# A sanitizer report fails the run. Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

# What starts threads or is touched from several (Catch2 tag expression).
TSAN_TAGS='[threads],[chardev],[virtio],[virtio-pci],[serial],[block],[msix]'

count_catch() {  # Catch2's summary of $1 as "N passed, N failed"
  python3 - "$1" <<'PY'
import re, sys
text = open(sys.argv[1], errors="replace").read()
m = re.search(r"test cases:\s*(\d+)\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed", text)
if m:
    print(f"{m.group(2)} passed, {m.group(3)} failed")
else:
    m = re.search(r"All tests passed \(\d+ assertions? in (\d+) test cases?\)", text)
    print(f"{m.group(1)} passed, 0 failed" if m else "0 passed, 1 failed")
PY
}

case "${1:-}" in
  asan)
    if [ ! -f build-fuzz/build.ninja ]; then
      CXX=clang++ meson setup build-fuzz -Dfuzzing=true -Db_sanitize=address,undefined -Db_lundef=false \
        -Doptimization=1 -Ddebug=false -Dcpp_args=-gline-tables-only >/dev/null || exit 1
    fi
    ninja -C build-fuzz >/dev/null || { ninja -C build-fuzz | tail -20; exit 1; }
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
    log=$(mktemp /tmp/kestrel-asan-unit.XXXXXX)
    build-fuzz/tests/unit/unit_tests --reporter compact '~[sandbox]' >"$log" 2>&1
    unit=$(count_catch "$log")
    grep -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$log" | head -5
    grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$log" && unit="0 passed, 1 failed"
    echo "unit tests (ASan+UBSan): $unit"
    cli=$(python3 tests/cli/run_cli_tests.py build-fuzz/kestrel 2>&1 | tee "$log.cli" | tail -n 1)
    grep -A3 "^FAIL" "$log.cli" | head -20
    echo "command-line tests (ASan+UBSan): $cli"
    python3 - "$unit" "$cli" <<'PY'
import sys
p = f = 0
for s in sys.argv[1:]:
    a, _, b, _ = s.split()[:4]
    p += int(a); f += int(b)
print(f"{p} passed, {f} failed")
sys.exit(1 if f else 0)
PY
    ;;
  tsan)
    if [ ! -f build-tsan/build.ninja ]; then
      meson setup build-tsan -Db_sanitize=thread -Doptimization=1 -Ddebug=false -Dcpp_args=-g1 >/dev/null || exit 1
    fi
    ninja -C build-tsan tests/unit/unit_tests >/dev/null || { ninja -C build-tsan tests/unit/unit_tests | tail -20; exit 1; }
    log=$(mktemp /tmp/kestrel-tsan-unit.XXXXXX)
    TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 build-tsan/tests/unit/unit_tests --reporter compact \
      "$TSAN_TAGS" >"$log" 2>&1
    result=$(count_catch "$log")
    if grep -q "ThreadSanitizer" "$log"; then
      grep -A30 "WARNING: ThreadSanitizer" "$log" | head -40
      result="0 passed, 1 failed"
    fi
    echo "threaded unit tests (TSan): $result"
    echo "$result"
    [ "${result#* passed, }" = "0 failed" ];;
  *)
    sed -n '2,12p' "$0"; exit 2;;
esac

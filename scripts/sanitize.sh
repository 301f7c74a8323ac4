#!/usr/bin/env bash
# Tests under sanitizers (tests/README.md, "Sanitizers"):
#
#   scripts/sanitize.sh ci     the CI stage of scripts/test.sh: builds
#                              build-fuzz (clang, ASan+UBSan, the fuzz
#                              targets too), then runs the unit tests, the
#                              command-line tests, the guest scenarios in
#                              GUEST_SUBSET (nested test host) and the fuzz
#                              smoke (scripts/fuzz.sh smoke)
#   scripts/sanitize.sh asan   the same without the guest scenarios and the
#                              fuzz smoke (nothing boots a test host)
#   scripts/sanitize.sh tsan   the unit tests (the event loop, iothreads,
#                              chardev sockets, virtio workers, io_uring,
#                              balloon, slirp threads among them) with
#                              ThreadSanitizer (build-tsan)
#   scripts/sanitize.sh build [TARGET...]   sets up and builds build-fuzz
#                              ("fuzz": every fuzz target; default: kestrel,
#                              the unit tests and every fuzz target)
#
# Any sanitizer report fails the run. Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/ccache-env.sh

build=build-fuzz
# Guest scenarios run by `ci`, two at a time in one test host:
# virtio-blk with two queues on an iothread, O_DIRECT through the block
# layer; e1000 and virtio-net on user networking with QMP hostfwd_add and
# set_link; QMP from -S with 50 clients and system_powerdown; IDE with the
# guest's ata_piix.
GUEST_SUBSET="blk-multi net-e1000-user qmp-lifecycle ide-ata-piix"
REPORT='ERROR: (Address|Leak)Sanitizer|runtime error:|WARNING: ThreadSanitizer'

# One build serves the sanitized tests and the fuzz targets (-Dfuzzing=true
# instruments the libraries for coverage; kestrel and unit_tests still link
# without libFuzzer). -O1 and line tables only: tests/fuzz/RESULTS.md has
# the measured cost of each choice.
setup_asan() {
  [ -f $build/build.ninja ] && return 0
  CXX="$CCACHE clang++" meson setup $build -Dfuzzing=true -Db_sanitize=address,undefined -Db_lundef=false \
    -Doptimization=1 -Ddebug=false -Dcpp_args=-gline-tables-only >/dev/null
}

fuzz_targets() { ninja -C $build -t targets all | grep -oE '^tests/fuzz/fuzz-[^:.]+' | sort -u; }

build_asan() {  # build_asan [TARGET...]
  setup_asan || return 1
  local targets=() t
  [ $# -gt 0 ] || set -- kestrel qemu-system-x86_64 tests/unit/unit_tests fuzz
  for t in "$@"; do
    if [ "$t" = fuzz ]; then targets+=($(fuzz_targets)); else targets+=("$t"); fi
  done
  nice -n 10 ninja -C $build "${targets[@]}" >/dev/null ||
    { ninja -C $build "${targets[@]}" | grep -v '^\[' | tail -20; return 1; }
}

count_catch() {  # Catch2's summary of $1 as "N passed, N failed"
  python3 - "$1" <<'PY'
import re, sys
text = open(sys.argv[1], errors="replace").read()
m = re.search(r"test cases:\s*(\d+)\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed", text)
if m:
    print(f"{m.group(2)} passed, {m.group(3)} failed")
else:
    m = re.search(r"(?:Passed all (\d+) test cases?|All tests passed \(\d+ assertions? in (\d+) test cases?\))", text)
    print(f"{m.group(1) or m.group(2)} passed, 0 failed" if m else "0 passed, 1 failed")
PY
}

passed=0
failed=0
add() {  # add "N passed, N failed"
  passed=$((passed + $(echo "$1" | awk '{print $1}')))
  failed=$((failed + $(echo "$1" | awk '{print $3}')))
}

# reports_in DIR...: prints the sanitizer reports found there; true if any.
reports_in() {
  local files
  files=$(grep -rlE "$REPORT" "$@" 2>/dev/null)
  [ -n "$files" ] || return 1
  for f in $files; do echo "   sanitizer report in $f:"; grep -E -m3 -A12 "$REPORT" "$f" | sed 's/^/     /'; done
  return 0
}

# part NAME LOG COMMAND...: runs a test command that ends with "N passed,
# N failed" under ASan+UBSan (its output in $work/LOG.log) and writes its
# failures and result line to $work/LOG.result. Its sanitizer reports go
# to a folder of its own, $work/reports/LOG (also those of daemons and of
# processes whose stderr a test swallows), and any report fails it.
part() {
  local name=$1 log=$2 t0=$SECONDS r
  shift 2
  mkdir -p "$work/reports/$log"
  ASAN_OPTIONS="detect_leaks=1:log_path=$work/reports/$log/asan" \
  UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$work/reports/$log/ubsan" \
    "$@" >"$work/$log.log" 2>&1
  {
    grep -E -A3 '^FAIL|: failed: ' "$work/$log.log" | head -20
    r=$(tail -n 1 "$work/$log.log")
    echo "$r" | grep -qE '^[0-9]+ passed, [0-9]+ failed$' || r="0 passed, 1 failed"
    if reports_in "$work/reports/$log"; then
      r="${r%% *} passed, $(( $(echo "$r" | awk '{print $3}') + 1 )) failed"
    fi
    echo "$name (ASan+UBSan, $((SECONDS - t0)) s): $r"
  } >"$work/$log.result"
}

# shows a part's result and counts it
count_part() {
  cat "$work/$1.result"
  add "$(tail -n 1 "$work/$1.result" | sed 's/.*): //')"
}

unit_tests() {
  $build/tests/unit/unit_tests --reporter compact >"$work/unit-catch.log" 2>&1
  cat "$work/unit-catch.log"
  count_catch "$work/unit-catch.log"
}

display_tests() {
  local t
  for t in rfb_test text_screendump vnc_test vnc_resize_test novnc_test; do
    part "display $t" "display-$t" python3 tests/display/$t.py $build/kestrel
  done
}

# Two lanes, one per core: the unit tests (one process) and the display
# tests (mostly waiting for clients) beside the command-line tests.
run_asan_tests() {
  mkdir -p "$work/reports"
  ( part "unit tests" unit unit_tests; display_tests ) &
  local lane=$!
  part "command-line tests" cli python3 tests/cli/run_cli_tests.py $build/kestrel
  part "device introspection against QEMU" compare python3 tests/cli/compare_with_qemu.py $build/kestrel
  part "teardown with every kind of device" teardown python3 tests/cli/teardown_test.py $build/kestrel
  part "tiny test kernels on this machine's KVM" tiny python3 tests/tiny/run_tiny_tests.py $build/kestrel
  wait $lane
  local l
  for l in unit cli compare teardown tiny display-rfb_test display-text_screendump \
      display-vnc_test display-vnc_resize_test display-novnc_test; do
    count_part $l
  done
}

# The scenarios' kestrel runs in the nested test host, where this
# environment does not reach: its reports go to its stderr, which the
# runner keeps in each scenario's serial.log (src/sanitizer_defaults.cpp
# makes UBSan stop there too).
run_guest_subset() {
  local args=() s t0=$SECONDS
  for s in $GUEST_SUBSET; do args+=(--only "$s"); done
  tests/run-guest-tests --kestrel $build/kestrel --results "$work/guest" "${args[@]}" \
    >"$work/guest.log" 2>&1
  grep -E '^(PASS|FAIL) ' "$work/guest.log"
  local result
  result=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$work/guest.log" | tail -n 1)
  [ -n "$result" ] || result="0 passed, 1 failed"
  if reports_in "$work/guest"; then
    result="${result%% *} passed, $(( $(echo "$result" | awk '{print $3}') + 1 )) failed"
  fi
  echo "guest scenarios (ASan+UBSan kestrel, $((SECONDS - t0)) s): $result"
  add "$result"
}

run_fuzz_smoke() {
  local secs=${FUZZ_SMOKE_SECONDS:-2} result t0=$SECONDS
  bash scripts/fuzz.sh smoke "$secs" >"$work/fuzz.log" 2>&1
  grep -E '^FAIL' "$work/fuzz.log"
  result=$(tail -n 1 "$work/fuzz.log")
  echo "$result" | grep -qE '^[0-9]+ passed, [0-9]+ failed$' || result="0 passed, 1 failed"
  echo "fuzz smoke (${secs} s per target, $((SECONDS - t0)) s): $result"
  add "$result"
}

finish() {
  echo "$passed passed, $failed failed"
  [ $failed -eq 0 ] && rm -rf "$work"
  [ $failed -eq 0 ]
}

case "${1:-}" in
  build)
    shift
    build_asan "$@";;
  asan|ci)
    work=$(mktemp -d /tmp/kestrel-sanitize.XXXXXX)
    echo "logs in $work"
    t0=$SECONDS
    if ! build_asan; then echo "0 passed, 1 failed"; exit 1; fi
    echo "build-fuzz built ($((SECONDS - t0)) s)"
    run_asan_tests
    if [ "$1" = ci ]; then
      run_guest_subset
      run_fuzz_smoke
    fi
    finish;;
  tsan)
    if [ ! -f build-tsan/build.ninja ]; then
      CXX="$CCACHE clang++" meson setup build-tsan -Db_sanitize=thread -Db_lundef=false -Doptimization=1 \
        -Ddebug=false -Dcpp_args=-gline-tables-only >/dev/null || exit 1
    fi
    ninja -C build-tsan tests/unit/unit_tests >/dev/null ||
      { ninja -C build-tsan tests/unit/unit_tests | tail -20; exit 1; }
    log=$(mktemp /tmp/kestrel-tsan-unit.XXXXXX)
    # setarch -R: clang 14's TSan cannot map its shadow under the widest
    # address randomization (vm.mmap_rnd_bits=32) some kernels default to.
    TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1" setarch "$(uname -m)" -R \
      build-tsan/tests/unit/unit_tests --reporter compact >"$log" 2>&1
    result=$(count_catch "$log")
    if grep -q "WARNING: ThreadSanitizer" "$log"; then
      grep -A30 "WARNING: ThreadSanitizer" "$log" | head -40
      result="${result%% *} passed, $(( $(echo "$result" | awk '{print $3}') + 1 )) failed"
    fi
    echo "threaded unit tests (TSan, log $log): $result"
    echo "$result"
    [ "${result#* passed, }" = "0 failed" ];;
  *)
    sed -n '2,19p' "$0"; exit 2;;
esac

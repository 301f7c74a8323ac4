#!/bin/bash
# Self-test of the guest test runner: runs the scenarios in
# tests/guest/selftest/ (under QEMU, in the test host) and checks that the
# runner reports exactly the expected passes and failures, with reasons, log
# tails and the summary line. Exit status 0 when the runner behaved.
set -u
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# One retry: in a nested test host a guest that resets before printing
# anything (tests/README.md) gets a second attempt here too. Of the five
# scenarios that must fail, host-check-fail (no guest: cheap) shows the
# retry and its report; the others say `retries = 0` (another attempt
# would boot a guest, or wait out a timeout, to fail again).
"$here/run.py" --vmm qemu --scenarios "$here/selftest" --kill-wait 5 --retries 1 "$@" >"$out" 2>&1
status=$?
cat "$out"

failures=0
fail() { echo "selftest: $*"; failures=$((failures + 1)); }
want() {  # want REGEX DESCRIPTION: a line of the output matches
    grep -Eq -- "$1" "$out" || fail "missing: $2"
}
block() {  # block NAME: the FAIL block of scenario NAME (until the next result)
    awk -v n="$1" '/^(PASS|FAIL) /{on = ($2 == n)} on' "$out"
}

[ "$status" -ne 0 ] || fail "run.py exited 0 although scenarios must fail"
last=$(tail -n 1 "$out")
[ "$last" = "2 passed, 5 failed" ] || fail "last line is '$last'"
[ "$(grep -Ec '^[0-9]+ passed, [0-9]+ failed$' "$out")" -eq 1 ] ||
    fail "summary line not printed exactly once"

retried=" \\(attempt [0-9]+; the first failed: .*\\)"
for name in host-pass guest-disk; do
    want "^PASS $name [0-9.]+s($retried)?$" "PASS $name"
done
for name in broken-marker hang held-output host-forbidden; do
    want "^FAIL $name [0-9.]+s$" "FAIL $name, not retried (retries = 0)"
done
want "^FAIL host-check-fail [0-9.]+s$retried$" "FAIL host-check-fail after its retry"
[ "$(grep -Ec '^(PASS|FAIL) ' "$out")" -eq 7 ] || fail "not 7 result lines"

block broken-marker | grep -q "marker 2/2 never seen" ||
    fail "broken-marker: reason not shown"
block broken-marker | grep -q "| KTEST-SELFTEST-BROKEN-RAN" ||
    fail "broken-marker: log tail not shown"
# The scenario's timeout, times the scale the runner announces on a slow
# machine (announced to 2 decimals, so the timeout it used may be 1 s off).
scale=$(sed -n 's/^guest tests: timeouts x\([0-9.]*\) .*/\1/p' "$out" | head -n 1)
timeout=$(sed -n 's/^timeout = \([0-9]*\)$/\1/p' "$here/selftest/hang.toml")
hang_s=$(awk -v s="${scale:-1}" -v t="$timeout" 'BEGIN { printf "%.0f", t * s }')
killed_s=$(block hang | sed -n 's/.*timed out after \([0-9]*\) s.*/\1/p' | head -n 1)
[ -n "$killed_s" ] && [ $((killed_s - hang_s)) -le 1 ] && [ $((hang_s - killed_s)) -le 1 ] ||
    fail "hang: not killed at its timeout ($hang_s s; killed at ${killed_s:-never} s)"
block hang | grep -q "| KTEST-SELFTEST-HANGING" || fail "hang: guest never ran"
block held-output | grep -q "output stayed open 5 s after it ended" ||
    fail "held-output: the held output not reported"
block host-check-fail | grep -q "expected exit status 0" ||
    fail "host-check-fail: exit status not judged"
block host-check-fail | grep -q "99 is above 50" ||
    fail "host-check-fail: range check not judged"
block host-forbidden | grep -q "forbidden 'Kernel panic' seen" ||
    fail "host-forbidden: forbidden text not reported"
secs=$(grep -E '^FAIL host-forbidden ' "$out" | sed -E 's/^FAIL host-forbidden ([0-9]+)\.[0-9]s.*/\1/')
[ "${secs:-999}" -lt 20 ] || fail "host-forbidden: not killed at once (${secs}s)"

# A test host that dies below the VMM (an L1 kernel panic): only the
# unreported scenario runs again, in a fresh host. Nested test hosts only.
if [ "$(python3 "$here/../kvmhost/kvmhost.py" --mode)" = nested ]; then
    "$here/run.py" --vmm qemu --retries 0 --scenarios "$here/selftest-host-fault" \
        --only beside-panic --only l1-panic "$@" >"$out" 2>&1
    status=$?
    cat "$out"
    [ "$status" -eq 0 ] || fail "host fault: run.py exited $status"
    # Only the unreported scenario runs again. A first host that hangs
    # before either scenario reports (an L1 boot hang: given up for its
    # silence) leaves both unreported, and both run again.
    if grep -q "showed no life" "$out" && ! grep -q "^PASS beside-panic" <(sed '/fresh one:/q' "$out"); then
        echo "selftest: the first test host hung before any result; the L1 panic was not reached this time"
        want "running the 2 unreported scenario\(s\) in a fresh one: beside-panic l1-panic$" \
            "host fault: both unreported scenarios rerun in a fresh host"
    else
        want "running the 1 unreported scenario\(s\) in a fresh one: l1-panic$" \
            "host fault: l1-panic alone rerun in a fresh host"
    fi
    [ "$(tail -n 1 "$out")" = "2 passed, 0 failed" ] ||
        fail "host fault: last line is '$(tail -n 1 "$out")'"

    # A test host that hangs in silence (no output, no heartbeat) is given up.
    # The silence counts from L1's start, so a fresh host's boot must fit in
    # it: 40 s on an idle machine, longer as the runner's scale says (a host
    # short of CPU boots that much slower; on 2026-12-07 five fresh hosts in
    # a row stayed silent 40 s at 49 % steal).
    silence=$(awk -v s="${scale:-1}" 'BEGIN { printf "%.0f", 40 * (s > 1 ? s : 1) }')
    "$here/run.py" --vmm qemu --retries 0 --scenarios "$here/selftest-host-fault" \
        --only l1-silent --host-silence "$silence" "$@" >"$out" 2>&1
    status=$?
    cat "$out"
    [ "$status" -eq 0 ] || fail "silent host: run.py exited $status"
    want "showed no life \\(output or heartbeat\\) for $silence s" "silent host: hang detected"
    want "running the 1 unreported scenario\(s\) in a fresh one: l1-silent$" \
        "silent host: l1-silent rerun in a fresh host"
    [ "$(tail -n 1 "$out")" = "1 passed, 0 failed" ] ||
        fail "silent host: last line is '$(tail -n 1 "$out")'"
fi

if [ "$failures" -ne 0 ]; then
    echo "selftest: FAILED ($failures problem(s))"
    exit 1
fi
echo "selftest: OK"

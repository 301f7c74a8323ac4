#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what is
# missing, builds, then runs command-line tests, the guest scenarios (real
# Linux guests on KVM; in a nested test host where this machine has no
# hardware KVM), and last the sanitizer stage (scripts/sanitize.sh ci: the
# unit tests, command-line and a few guest tests with an ASan+UBSan kestrel,
# and the fuzz smoke) with the guest runner's self-test beside it. The unit
# tests run there only: CI is CPU-bound, and a second, unsanitized build
# of them costs ~440 CPU seconds.
# Ends with one line "N passed, N failed" over all of them.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh || exit 1
bash scripts/build.sh || exit 1

# CPU seconds used by the waited-for children of shell PID (utime+stime of
# the processes it has reaped: the stages that ended, not the background
# build; daemons such as libvirtd's guests are not counted).
child_cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{sub(/^.*\) /, ""); print int(($14 + $15) / hz)}' /proc/$1/stat; }
echo "== installed and built in $SECONDS s, $(child_cpu_s $$) CPU s"

# The sanitizer stage's build (clang ASan+UBSan, ~8.5 min of both cores) runs
# at the lowest priority beside the stages below and takes the CPU they
# leave idle; the stage itself (the last) waits for it.
mkdir -p build/test-logs
( t0=$(date +%s) pid=$BASHPID
  nice -n 19 bash scripts/sanitize.sh build > build/test-logs/sanitize-build.log 2>&1
  status=$?
  echo "sanitizer build ended $(( $(date +%s) - t0 )) s after it began, $(child_cpu_s $pid) CPU s" >> build/test-logs/sanitize-build.log
  exit $status ) &
sanitize_build=$!

passed=0
failed=0
logs=build/test-logs
mkdir -p "$logs"

# Adds the counts of a stage's closing "N passed, N failed" line; a stage
# that printed none counts as one failure.
# Also prints the stage's wall time (the time since the previous stage ended).
# The machine's idle share during a stage (from /proc/stat): where CI is
# CPU-bound, only less CPU work makes it faster.
# The steal share too: time the hypervisor gave this VM's CPUs to others (a
# CI machine that is itself a VM can lose half its CPU that way).
cpu_ticks() { awk '/^cpu /{print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6, $9}' /proc/stat; }
stage_t0=$SECONDS
# And the CPU seconds the stage's own processes used: where the two cores
# are busy, those say which stage to make cheaper.
stage_cpu=$(cpu_ticks)
stage_own_cpu=$(child_cpu_s $$)
# Bash reaps the background build when it ends, and its CPU then counts
# among the children's: taken off once, in the stage during which it ended.
build_cpu_taken=
build_cpu_reaped_now() {  # sets build_cpu_now: the build's CPU s the first time it is seen reaped, else 0
  build_cpu_now=0
  if [ -n "$build_cpu_taken" ] || kill -0 "$sanitize_build" 2>/dev/null; then return; fi
  build_cpu_taken=yes
  build_cpu_now=$(sed -n 's/.*after it began, \([0-9]*\) CPU s$/\1/p' build/test-logs/sanitize-build.log)
  build_cpu_now=${build_cpu_now:-0}
}
stage_time() {  # prints "   (NAME: N s, N % idle, N % steal, N CPU s)"; the next stage starts now
  local now total idle steal own used
  now=$(cpu_ticks)
  own=$(child_cpu_s $$)
  build_cpu_reaped_now
  used=$((own - stage_own_cpu - build_cpu_now))
  read -r t1 i1 s1 <<< "$stage_cpu"
  read -r t2 i2 s2 <<< "$now"
  total=$((t2 - t1)) idle=$((i2 - i1)) steal=$((s2 - s1))
  echo "   ($1: $((SECONDS - stage_t0)) s, $(( total > 0 ? 100 * idle / total : 0 )) % idle," \
       "$(( total > 0 ? 100 * steal / total : 0 )) % steal, $used CPU s)"
  stage_t0=$SECONDS
  stage_cpu=$now
  stage_own_cpu=$own
}
count_stage() {
  local name=$1 log=$2
  local line
  stage_time "$name"
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
  if [ -z "$line" ]; then
    echo "== $name: no result line (see $log)"
    failed=$((failed + 1))
    return
  fi
  passed=$((passed + $(echo "$line" | awk '{print $1}')))
  failed=$((failed + $(echo "$line" | awk '{print $3}')))
}

echo "== command-line tests"
python3 tests/cli/run_cli_tests.py build/kestrel 2>&1 | tee "$logs/cli.log" | tail -n 3
count_stage cli "$logs/cli.log"

echo "== device introspection against QEMU 7.2"
python3 tests/cli/compare_with_qemu.py build/kestrel 2>&1 | tee "$logs/compare.log" | grep -v '^PASS'
count_stage compare "$logs/compare.log"

echo "== -sandbox, -runas, -chroot on a started machine (beside QEMU 7.2)"
python3 tests/cli/sandbox_test.py build/kestrel 2>&1 | tee "$logs/sandbox.log" | grep -v '^PASS'
count_stage sandbox "$logs/sandbox.log"

echo "== resource bounds under monitor abuse"
python3 tests/cli/resource_bounds.py build/kestrel 2>&1 | tee "$logs/bounds.log" | grep -v '^PASS'
count_stage bounds "$logs/bounds.log"
echo "== quit with every kind of device (teardown order)"
python3 tests/cli/teardown_test.py build/kestrel 2>&1 | tee "$logs/teardown.log" | grep -v '^PASS'
count_stage teardown "$logs/teardown.log"

echo "== netdev_add/netdev_del, -netdev tap,fd=, tap scripts (beside QEMU 7.2)"
python3 tests/cli/netdev_test.py build/kestrel 2>&1 | tee "$logs/netdev.log" | grep -v '^PASS'
count_stage netdev "$logs/netdev.log"
echo "== -netdev user guestfwd= to a chardev (beside QEMU 7.2)"
python3 tests/cli/guestfwd_test.py build/kestrel 2>&1 | tee "$logs/guestfwd.log" | grep -v '^PASS'
count_stage guestfwd "$logs/guestfwd.log"
echo "== libvirt's capability probe (virsh domcapabilities; QMP replay beside QEMU 7.2)"
python3 tests/libvirt/probe_qmp_test.py build/kestrel 2>&1 | tee "$logs/libvirt-qmp.log" | grep -v '^PASS'
count_stage libvirt-qmp "$logs/libvirt-qmp.log"
python3 tests/libvirt/domcapabilities_test.py build/kestrel 2>&1 | tee "$logs/libvirt.log" | grep -v '^PASS'
count_stage libvirt "$logs/libvirt.log"
echo "== QMP fd passing (SCM_RIGHTS), object-add/object-del, query-memdev (beside QEMU 7.2)"
python3 tests/cli/qmp_fds_test.py build/kestrel 2>&1 | tee "$logs/qmp-fds.log" | grep -v '^PASS'
count_stage qmp-fds "$logs/qmp-fds.log"
echo "== device_add/device_del of every hot-pluggable type (beside QEMU 7.2)"
python3 tests/cli/hotplug_types_test.py build/kestrel 2>&1 | tee "$logs/hotplug-types.log" | grep -v '^PASS'
count_stage hotplug-types "$logs/hotplug-types.log"
echo "== libvirt starts a domain (virsh start, console, suspend/resume, domblkstat, destroy; beside QEMU 7.2)"
python3 tests/libvirt/domain_start_test.py build/kestrel 2>&1 | tee "$logs/libvirt-domain.log" | grep -v '^PASS'
count_stage libvirt-domain "$logs/libvirt-domain.log"
echo "== libvirt drives a Linux guest in the nested test host (console, NIC, balloon, hotplug, restart, reboot, shutdown; libvirtd errors judged by QEMU 7.2's recorded ones)"
python3 tests/libvirt/linux_guest_test.py build/kestrel 2>&1 | tee "$logs/libvirt-linux.log" | grep -v '^PASS'
count_stage libvirt-linux "$logs/libvirt-linux.log"
echo "== removable media: eject, change, trays (beside QEMU 7.2)"
python3 tests/cli/medium_test.py build/kestrel 2>&1 | tee "$logs/medium.log" | grep -v '^PASS'
count_stage medium "$logs/medium.log"
echo "== dump-guest-memory of a tiny guest (ELF core, QMP/HMP, detached to a getfd pipe; beside QEMU 7.2)"
python3 tests/cli/dump_test.py build/kestrel 2>&1 | tee "$logs/dump.log" | grep -v '^PASS'
count_stage dump "$logs/dump.log"
echo "== kestrel-img against qemu-img"
python3 tests/img/run_img_tests.py build/kestrel-img 2>&1 | tee "$logs/img.log" | grep -v '^PASS'
count_stage img "$logs/img.log"

echo "== qcow2 crash safety (SIGKILL of a writer, and of kestrel with a guest writing; judged by qemu-img check)"
python3 tests/crash/run_crash_tests.py build/tests/crash/qcow2_crash_writer --kestrel build/kestrel 2>&1 | tee "$logs/crash.log"
count_stage crash "$logs/crash.log"
echo "== tiny test kernels (multiboot, PVH, fw_cfg, test devices) on this machine's KVM"
python3 tests/tiny/run_tiny_tests.py build/kestrel 2>&1 | tee "$logs/tiny.log" | grep -v '^PASS'
count_stage tiny "$logs/tiny.log"
echo "== firmware boot (SeaBIOS beside QEMU 7.2) on this machine's KVM"
python3 tests/firmware/run_firmware_tests.py build/kestrel 2>&1 | tee "$logs/firmware.log" | grep -v '^PASS'
count_stage firmware "$logs/firmware.log"
echo "== display tests (tiny guests on this machine's KVM, QEMU 7.2 as referee)"
for t in rfb_test text_screendump vnc_test vnc_resize_test novnc_test; do
  python3 tests/display/$t.py build/kestrel > "$logs/display-$t.log" 2>&1
  grep -E '^(PASS|FAIL)' "$logs/display-$t.log"
  count_stage "display $t" "$logs/display-$t.log"
done

echo "== guest tests"
tests/run-guest-tests --kestrel build/kestrel 2>&1 | tee "$logs/guest.log"
count_stage guest "$logs/guest.log"

# The runner's self-test mostly waits on its test hosts (64 % idle alone):
# it runs beside the sanitizer stage, and reports after it.
t_selftest=$(date +%s)
( bash tests/guest/selftest.sh > "$logs/selftest.log" 2>&1; status=$?
  echo "$(( $(date +%s) - t_selftest ))" > "$logs/selftest.seconds"; exit $status ) &
selftest=$!

echo "== sanitizers: unit, command-line, guest scenarios and fuzz smoke under ASan+UBSan (the runner's self-test beside them)"
if wait $sanitize_build; then
  tail -n 1 build/test-logs/sanitize-build.log
  bash scripts/sanitize.sh ci 2>&1 | tee "$logs/sanitize.log" | grep -vE '^(PASS|logs in)'
else
  tail -n 20 build/test-logs/sanitize-build.log
  echo "0 passed, 1 failed" > "$logs/sanitize.log"
fi
count_stage sanitizers "$logs/sanitize.log"

echo "== guest runner self-test (began with the sanitizer stage)"
if wait $selftest; then
  passed=$((passed + 1)); echo "PASS runner self-test"
else
  failed=$((failed + 1)); echo "FAIL runner self-test (see $logs/selftest.log)"
  grep -E '^(PASS|FAIL) |^selftest: ' "$logs/selftest.log"; tail -n 20 "$logs/selftest.log"
fi
echo "   (the self-test took $(cat "$logs/selftest.seconds" 2>/dev/null || echo '?') s in all)"
stage_time "selftest, after the sanitizers"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

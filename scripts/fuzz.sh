#!/usr/bin/env bash
# The libFuzzer targets of tests/fuzz, built in build-fuzz (clang,
# ASan+UBSan, -Dfuzzing=true).
#
#   scripts/fuzz.sh smoke [SECONDS]        every target for SECONDS (default 5)
#                                          from its seed corpus; CI
#   scripts/fuzz.sh run TARGET SECONDS     a long run by hand: corpus and crash
#                                          inputs in $KESTREL_CACHE/fuzz/TARGET,
#                                          one result line appended to
#                                          $KESTREL_CACHE/fuzz/runs.log
#   scripts/fuzz.sh list                   the targets
#   scripts/fuzz.sh campaign [--skip TARGET]... [--chunk SECONDS] [TARGET...]
#                                          starts (or resumes), in the
#                                          background under SCHED_IDLE, the
#                                          campaign that runs every target
#                                          (or those named, in that order)
#                                          to 10 million executions or one
#                                          CPU-hour, two at a time; state in
#                                          $KESTREL_CACHE/fuzz/campaign
#   scripts/fuzz.sh status [TARGET...]     the campaign's table
#   scripts/fuzz.sh campaign-stop          stops it (resume: campaign again)
#   scripts/fuzz.sh campaign-reset TARGET...  starts targets over from zero
#
# Prints "PASS/FAIL target: executions, coverage" per target, then
# "N passed, N failed". A crash input is kept in the artifacts folder; make
# it a regression test (tests/fuzz/regressions/TARGET/) before fixing it.
set -uo pipefail
cd "$(dirname "$0")/.."
build=build-fuzz
cache=${KESTREL_CACHE:-$HOME/.cache/kestrel}/fuzz

# The build is shared with the sanitized tests (scripts/sanitize.sh).
setup() {
  bash scripts/sanitize.sh build fuzz || exit 1
}

targets() { ls $build/tests/fuzz | sed -n 's/^fuzz-\(.*\)$/\1/p' | grep -v '\.p$'; }

# run TARGET SECONDS WORKDIR: prints the result line, returns 0 when clean.
run_target() {
  local t=$1 secs=$2 work=$3
  mkdir -p "$work/corpus" "$work/artifacts"
  local regressions=()
  [ -d tests/fuzz/regressions/$t ] && regressions=(tests/fuzz/regressions/$t)
  # Regression inputs first (-runs=0 runs each once), then the timed run.
  if [ ${#regressions[@]} -gt 0 ] && ! (cd "$work" && "$OLDPWD/$build/tests/fuzz/fuzz-$t" -runs=0 \
      "$OLDPWD/${regressions[0]}" >"$work/regressions.log" 2>&1); then
    echo "FAIL $t: a regression input fails again (see $work/regressions.log)"
    return 1
  fi
  # The words its parser looks for (make_seeds.py writes them), if any.
  local dict=()
  [ -f tests/fuzz/dict/$t.dict ] && dict=(-dict="$PWD/tests/fuzz/dict/$t.dict")
  (cd "$work" && UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$OLDPWD/$build/tests/fuzz/fuzz-$t" -max_total_time="$secs" -timeout=30 -rss_limit_mb=2048 \
    -artifact_prefix="$work/artifacts/" -print_final_stats=1 "${dict[@]}" corpus \
    "$OLDPWD/tests/fuzz/corpus/$t" >"$work/fuzz.log" 2>&1)
  local status=$?
  local execs cov ft
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log")
  read -r cov ft < <(grep -E '^#[0-9]+' "$work/fuzz.log" | tail -1 | sed -n 's/.*cov: \([0-9]*\) ft: \([0-9]*\).*/\1 \2/p')
  local line="$t: ${execs:-?} executions in ${secs} s, cov ${cov:-?}, ft ${ft:-?}"
  if [ $status -ne 0 ]; then
    echo "FAIL $line (see $work/fuzz.log; crash input in $work/artifacts)"
    return 1
  fi
  echo "PASS $line"
}

case "${1:-}" in
  smoke)
    secs=${2:-5}
    setup
    work=$(mktemp -d /tmp/kestrel-fuzz-smoke.XXXXXX)
    passed=0 failed=0
    # Two targets at a time (the machine's two cores); lines in target order.
    for t in $(targets); do
      [ "$(jobs -rp | wc -l)" -ge 2 ] && wait -n
      run_target "$t" "$secs" "$work/$t" > "$work/$t.result" &
    done
    wait
    for t in $(targets); do
      cat "$work/$t.result"
      if grep -q '^PASS ' "$work/$t.result"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    done
    [ $failed -eq 0 ] && rm -rf "$work"
    echo "$passed passed, $failed failed"
    [ $failed -eq 0 ];;
  run)
    [ $# -eq 3 ] || { sed -n '2,26p' "$0"; exit 2; }
    setup
    mkdir -p "$cache"
    out=$(run_target "$2" "$3" "$cache/$2")
    status=$?
    echo "$out"
    echo "$(date -u +%Y-%m-%dT%H:%MZ) $(git rev-parse --short HEAD) $out" >> "$cache/runs.log"
    exit $status;;
  list)
    setup
    targets;;
  campaign)
    shift
    # The build too at idle priority; a campaign already running refuses
    # to start a second (scripts/fuzz_campaign.py holds a lock).
    chrt -i 0 bash scripts/sanitize.sh build fuzz || exit 1
    mkdir -p "$cache/campaign"
    log=$cache/campaign/campaign.log
    nohup setsid chrt -i 0 python3 scripts/fuzz_campaign.py run "$@" >>"$log" 2>&1 </dev/null &
    sleep 2
    if ! kill -0 $! 2>/dev/null; then tail -n 3 "$log"; exit 1; fi
    echo "campaign running (pid $!, log $log); scripts/fuzz.sh status";;
  status)
    shift
    python3 scripts/fuzz_campaign.py status "$@";;
  campaign-stop)
    python3 scripts/fuzz_campaign.py stop;;
  campaign-reset)
    shift
    python3 scripts/fuzz_campaign.py reset "$@";;
  *)
    sed -n '2,26p' "$0"; exit 2;;
esac

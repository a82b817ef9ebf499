# Sourced by scripts/dev. Runs every test file in its own Node process (a file that hangs or leaks
# cannot take the others down; each file's cleanup runs at its own exit), then prints one line
# "N passed, N failed" that CI reads.
strip_ansi() { sed -e 's/\x1b\[[0-9;]*m//g'; }

run_test_files() { # $1: label, rest: files
  local label=$1; shift
  local file out rc total passed skipped start
  for file in "$@"; do
    start=$(date +%s.%N)
    # (an assignment from a failing command would end the run under set -e: keep going, count it)
    out=$(timeout --kill-after=10 "${STATION_TEST_FILE_TIMEOUT:-900}" node "$file" 2>&1) && rc=0 || rc=$?
    out=$(printf '%s\n' "$out" | strip_ansi)
    total=$(printf '%s\n' "$out" | awk '/^ *Total:/ {s+=$2} END {print s+0}')
    passed=$(printf '%s\n' "$out" | awk '/^ *Passed:/ {s+=$2} END {print s+0}')
    skipped=$(printf '%s\n' "$out" | awk '/^ *Skipped:/ {s+=$2} END {print s+0}')
    local failed=$((total - passed))   # uvu's Total leaves skipped tests out
    if [ $rc -ne 0 ] && [ $failed -eq 0 ]; then failed=1; fi   # crashed or timed out before reporting
    TESTS_PASSED=$((TESTS_PASSED + passed)); TESTS_FAILED=$((TESTS_FAILED + failed)); TESTS_SKIPPED=$((TESTS_SKIPPED + skipped))
    printf '%-11s %-60s %3d passed %3d failed %6.1fs\n' "$label" "$file" "$passed" "$failed" "$(echo "$(date +%s.%N) - $start" | bc)"
    # a skipped test says why in a line of its own ("  skipped: ..."): shown where the count is
    if [ "$skipped" -gt 0 ]; then printf '%s\n' "$out" | grep -E '^ *skipped: ' | sed 's/^ */    /' || true; fi
    if [ $failed -ne 0 ]; then
      # Under load a failure must still say where it came from: the exit status (124/137: the file's
      # time limit), the machine's load then, and the file's own last lines (assertion, engine output).
      printf '    exit status %d; load average %s; %s\n' "$rc" "$(cut -d' ' -f1-3 /proc/loadavg)" \
        "$([ "$rc" = 124 ] || [ "$rc" = 137 ] && echo "killed at the ${STATION_TEST_FILE_TIMEOUT:-900} s limit" || echo "last lines:")"
      printf '%s\n' "$out" | sed 's/^/    | /' | tail -n 80
      FAILED_FILES+=("$file")
    fi
  done
}

#!/usr/bin/env bash
# Runs each Criterion test binary, then prints one total line.
# Exits non-zero if any binary fails or if no test ran at all.
set -uo pipefail
pass=0; fail=0; bad_bins=()
for t in "$@"; do
  echo "== ${t##*/}"
  out=$("$t" --jobs="${TEST_JOBS:-2}" 2>&1); rc=$?
  printf '%s\n' "$out" | grep -v '^\[----\]' | tail -n 40
  # Criterion records a test's result before its process exits, so a leak
  # that LeakSanitizer reports at exit (and any other sanitizer report that
  # did not crash the test) would pass unseen: look for the reports.
  san=$(printf '%s\n' "$out" | grep -E -A12 'ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:|SUMMARY: [A-Za-z]+Sanitizer')
  if [ -n "$san" ]; then
    printf 'sanitizer report:\n%s\n' "$(printf '%s\n' "$san" | head -n 60)"
    rc=1
  fi
  line=$(printf '%s\n' "$out" | grep 'Synthesis:' | tail -n 1)
  p=$(printf '%s' "$line" | sed -n 's/.*Passing: *\([0-9]*\).*/\1/p')
  f=$(printf '%s' "$line" | sed -n 's/.*Failing: *\([0-9]*\).*Crashing: *\([0-9]*\).*/\1+\2/p')
  pass=$((pass + ${p:-0})); fail=$((fail + ${f:-1}))
  [ $rc -eq 0 ] || bad_bins+=("${t##*/}")
done
echo
[ ${#bad_bins[@]} -eq 0 ] || echo "failing test binaries: ${bad_bins[*]}"
echo "tests: $pass passed, $fail failed"
[ ${#bad_bins[@]} -eq 0 ] && [ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]

#!/usr/bin/env bash
# make fuzz: runs each libFuzzer target for a bounded time, one after the
# other (one core). Usage: scripts/fuzz.sh BUILD_DIR SECONDS TARGET...
#   corpus    BUILD_DIR/corpus/<target>  (grows between runs; starts from
#             tests/fuzz/<target>/seeds and .../regressions)
#   findings  BUILD_DIR/artifacts/<target>/crash-*, leak-*, timeout-*, oom-*
# A finding fails the run: reproduce it with BUILD_DIR/fuzz_<target> FILE,
# fix it, and keep the file in tests/fuzz/<target>/regressions/ (replayed by
# tests/test_fuzz_replay in every make test).
#   FUZZ_ARGS  extra libFuzzer options (e.g. -jobs=2, -max_len=65536)
set -uo pipefail
cd "$(dirname "$0")/.."
dir=$1 secs=$2
shift 2
failed=()
for t in "$@"; do
  bin=$dir/fuzz_$t
  corpus=$dir/corpus/$t art=$dir/artifacts/$t
  mkdir -p "$corpus" "$art"
  dirs=("$corpus" "tests/fuzz/$t/seeds")
  [ -d "tests/fuzz/$t/regressions" ] && dirs+=("tests/fuzz/$t/regressions")
  dict=()
  [ -f "tests/fuzz/$t/dict" ] && dict=(-dict="tests/fuzz/$t/dict")
  # Per-target sanitizer settings, for targets that drive a library of
  # others (tests/fuzz/keras_h5: libhdf5); each file says why.
  asan=${ASAN_OPTIONS:-} lsan=${LSAN_OPTIONS:-}
  [ -f "tests/fuzz/$t/asan_options" ] && asan="$asan:$(grep -v '^#' "tests/fuzz/$t/asan_options" | tr -d '\n')"
  [ -f "tests/fuzz/$t/lsan.supp" ] && lsan="$lsan:suppressions=tests/fuzz/$t/lsan.supp"
  echo "== fuzz_$t: ${secs}s"
  # -rss_limit_mb: a parser must not need gigabytes for a few kilobytes of
  # input; -timeout: nor seconds (both are reported as findings).
  ASAN_OPTIONS=$asan LSAN_OPTIONS=$lsan \
  "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$art/" "${dict[@]}" ${FUZZ_ARGS:-} "${dirs[@]}" >"$dir/fuzz_$t.log" 2>&1
  rc=$?
  grep -E '^(stat::number_of_executed_units|stat::new_units_added|stat::peak_rss_mb)|^#[0-9]+[[:space:]]+DONE' \
    "$dir/fuzz_$t.log" | tr '\n' ' '
  echo
  if [ $rc -ne 0 ]; then
    failed+=("$t")
    echo "fuzz_$t FAILED (exit $rc); log $dir/fuzz_$t.log:"
    grep -E 'ERROR|SUMMARY|contract broken|Test unit written' "$dir/fuzz_$t.log" | head -n 8
  fi
done
echo
if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz: findings in: ${failed[*]}"
  exit 1
fi
echo "fuzz: $# targets, no findings"

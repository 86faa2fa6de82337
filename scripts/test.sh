#!/bin/sh
# The README's second command: the whole test suite (CI runs it through
# .ci/run; about 10 minutes on 2 quiet cores).
#  0. the C/C++ sources follow .clang-format (scripts/format.sh --check);
#  1. a warning-free (-Werror) release build and its tests labelled
#     `release`: unit tests, fuzz-corpus replays, and the integration tests
#     whose checks only optimized, unsanitized code can show (the reference
#     comparison, RSS and latency bounds, the package: tests/CMakeLists.txt
#     says which and why);
#  2. every test but the package's under AddressSanitizer +
#     UndefinedBehaviorSanitizer (LeakSanitizer included): the whole
#     integration suite runs here, once;
#  3. the daemon's tests (worker pool, answers on the loop, HTTP) under
#     ThreadSanitizer;
#  4. each libFuzzer target for SIFT_FUZZ_SECONDS (default 5) under clang:
#     a short pass from the seeds (scripts/fuzz.sh; the long run before a
#     release is `scripts/fuzz.sh --hours N`); steps 3 and 4 side by side.
# Each step ends with its wall and CPU (user+sys) time.  SIFT_QUICK=1 stops
# after step 1.
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
JOBS=$(nproc)
FUZZ_SECONDS=${SIFT_FUZZ_SECONDS:-5}
TIMES=$(mktemp)
TSAN_LOG=$(mktemp)
trap 'rm -f "$TIMES" "$TSAN_LOG"' EXIT

# CPU seconds used so far by the commands this script ran, in $CPU (`times`
# must run in this shell: in a pipe or $(...) it counts a subshell's).
cpu() {
  times >"$TIMES"
  CPU=$(awk 'NR == 2 { print $1 * 60 + substr($1, index($1, "m") + 1) + $2 * 60 + substr($2, index($2, "m") + 1) }' "$TIMES")
}
T_START=$(date +%s)
T_STEP=$T_START
cpu
C_STEP=$CPU
step_done() {
  t=$(date +%s)
  cpu
  echo "== $1: $((t - T_STEP)) s wall, $(awk -v a="$CPU" -v b="$C_STEP" 'BEGIN { printf "%.0f", a - b }') s CPU"
  T_STEP=$t
  C_STEP=$CPU
}

echo "== format"
./scripts/format.sh --check
step_done "format"

echo "== release build, warnings are errors"
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=Release -DSIFT_WERROR=ON >/dev/null
cmake --build build-test -j"$JOBS"
step_done "release build"
(cd build-test && ctest --output-on-failure -j"$JOBS" -L release)
step_done "release tests"

[ "${SIFT_QUICK:-0}" = 1 ] && exit 0

echo "== ASan + UBSan build"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSIFT_SANITIZE=ON -DSIFT_WERROR=ON >/dev/null
cmake --build build-asan -j"$JOBS"
step_done "ASan build"
# Fixture indexes (read by a test that does not test their building) come
# from the release indexer: tests/integration/sift.py, fixture_index().
FIXTURE_BIN=$PWD/build-test/bin
# Leaks inside libxapian on its own error paths: tests/lsan.supp says which.
LSAN_SUPP=$PWD/tests/lsan.supp
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  LSAN_OPTIONS=suppressions=$LSAN_SUPP:print_suppressions=0 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 SIFT_SANITIZED=1 SIFT_TEST_SLOW=4 \
  SIFT_FIXTURE_BIN=$FIXTURE_BIN ctest --output-on-failure -j"$JOBS" -LE release-only)
step_done "ASan tests"

# Steps 3 and 4 run side by side: the TSan tests mostly wait (21 CPU-s in
# 41 s), and their time bounds are relaxed 4x; the fuzz pass keeps the
# cores busy meanwhile (about 30 s off the whole run).  The TSan step's
# output follows the fuzz pass's.
echo "== ThreadSanitizer build and tests: the daemon's threads, and matches on threads (test_xw, test_xw_par); beside the fuzz pass"
(
  cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIFT_TSAN=ON -DSIFT_WERROR=ON >/dev/null &&
    cmake --build build-tsan -j"$JOBS" --target sift-searchd sift-indexer sift-query sift-gen test_xw test_xw_par &&
    cd build-tsan && TSAN_OPTIONS=halt_on_error=1 SIFT_SANITIZED=1 SIFT_TEST_SLOW=4 \
    SIFT_FIXTURE_BIN=$FIXTURE_BIN ctest --output-on-failure -j"$JOBS" -R 'integration\.test_(searchd|http|auth)$|unit\.test_xw(_par)?$'
) >"$TSAN_LOG" 2>&1 &
TSAN_PID=$!

./scripts/fuzz.sh --seconds "$FUZZ_SECONDS" --jobs "$JOBS"
TSAN_RC=0
wait "$TSAN_PID" || TSAN_RC=$?
echo "== ThreadSanitizer output"
cat "$TSAN_LOG"
[ "$TSAN_RC" = 0 ] || { echo "== TSan build or tests failed ($TSAN_RC)"; exit 1; }
step_done "fuzz, and TSan beside it"
echo "== all tests passed in $(($(date +%s) - T_START)) s"

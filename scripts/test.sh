#!/bin/sh
# The README's second command: the whole test suite.
#  1. a warning-free (-Werror) release build and every test (unit, integration
#     against the independent reference, fuzz-corpus replay);
#  2. the same suite under AddressSanitizer + UndefinedBehaviorSanitizer
#     (LeakSanitizer included);
#  3. the daemon's tests (worker pool, answers on the loop, HTTP) under
#     ThreadSanitizer;
#  4. each libFuzzer target for SIFT_FUZZ_SECONDS (default 30) under clang
#     (scripts/fuzz.sh; `scripts/fuzz.sh --hours N` is the long run).
# Set SIFT_QUICK=1 to skip steps 2 to 4.
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
JOBS=$(nproc)
FUZZ_SECONDS=${SIFT_FUZZ_SECONDS:-30}

echo "== release build, warnings are errors"
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=Release -DSIFT_WERROR=ON >/dev/null
cmake --build build-test -j"$JOBS"
(cd build-test && ctest --output-on-failure -j"$JOBS")

[ "${SIFT_QUICK:-0}" = 1 ] && exit 0

echo "== ASan + UBSan build"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSIFT_SANITIZE=ON -DSIFT_WERROR=ON >/dev/null
cmake --build build-asan -j"$JOBS"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 SIFT_SANITIZED=1 SIFT_TEST_SLOW=4 \
  ctest --output-on-failure -j"$JOBS")

echo "== ThreadSanitizer build: the daemon's threads"
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIFT_TSAN=ON -DSIFT_WERROR=ON >/dev/null
cmake --build build-tsan -j"$JOBS" --target sift-searchd sift-indexer sift-query sift-gen
(cd build-tsan && TSAN_OPTIONS=halt_on_error=1 SIFT_SANITIZED=1 SIFT_TEST_SLOW=4 \
  ctest --output-on-failure -j"$JOBS" -R 'integration\.test_(searchd|http|auth)$')

./scripts/fuzz.sh --seconds "$FUZZ_SECONDS"
echo "== all tests passed"

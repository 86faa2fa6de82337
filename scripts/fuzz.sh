#!/bin/sh
# Run every libFuzzer target (tests/fuzz/fuzz_*.c) for a while.
#
#   scripts/fuzz.sh [--seconds N | --hours H] [TARGET...]
#
# Builds them under clang with ASan and UBSan (build-fuzz/), starts each
# target from its seeds in tests/fuzz/corpus/NAME, keeps what it learns in
# build-fuzz/corpus-NAME, and stops at the first failure with the input
# saved as build-fuzz/corpus-NAME-crash-* (add it to tests/fuzz/corpus/NAME
# once fixed: fuzz-replay tests run every seed in CI).  The targets share the
# time given: --seconds N each (default 30, what scripts/test.sh runs), or
# --hours H split among them, for the long run before a release.  TARGET
# names (qp, proto, ...) limit the run to those.
set -eu
cd "$(dirname "$0")/.."
SECONDS_EACH=30
HOURS=
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) SECONDS_EACH=$2; shift 2 ;;
    --hours) HOURS=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -eu/p' "$0" | sed 's/^# \{0,1\}//' | grep -v '^set -eu'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DSIFT_FUZZ=ON >/dev/null
cmake --build build-fuzz -j"$(nproc)"
if [ $# -gt 0 ]; then
  targets=$(for t in "$@"; do echo "build-fuzz/fuzz/fuzz_$t"; done)
else
  targets=$(ls build-fuzz/fuzz/fuzz_*)
fi
n=$(echo "$targets" | wc -w)
if [ -n "$HOURS" ]; then
  SECONDS_EACH=$(awk -v h="$HOURS" -v n="$n" 'BEGIN { s = int(h * 3600 / n); print s < 1 ? 1 : s }')
fi
echo "== libFuzzer: $n targets, ${SECONDS_EACH}s each"
for f in $targets; do
  [ -x "$f" ] || { echo "fuzz.sh: no target $f" >&2; exit 2; }
  name=$(basename "$f" | sed 's/^fuzz_//')
  work=build-fuzz/corpus-$name
  mkdir -p "$work"
  cp -n tests/fuzz/corpus/"$name"/* "$work"/ 2>/dev/null || true
  echo "-- $name"
  if ! "$f" -max_total_time="$SECONDS_EACH" -print_final_stats=1 -artifact_prefix="$work-" \
      "$work" >"$work.log" 2>&1; then
    tail -n 40 "$work.log"
    echo "fuzz target $name found a failure (input saved as $work-*)"
    exit 1
  fi
  grep -E "stat::number_of_executed_units" "$work.log" || true
done

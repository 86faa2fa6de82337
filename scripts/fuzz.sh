#!/bin/sh
# Run every libFuzzer target (tests/fuzz/fuzz_*.c) for a while.
#
#   scripts/fuzz.sh [--seconds N | --hours H] [--jobs J] [TARGET...]
#
# Builds them under clang with ASan and UBSan (build-fuzz/, the fuzz targets
# only), starts each target from its seeds in tests/fuzz/corpus/NAME, keeps
# what it learns in build-fuzz/corpus-NAME, and stops after the round of
# targets where one failed, with the input saved as
# build-fuzz/corpus-NAME-crash-* (add it to tests/fuzz/corpus/NAME once
# fixed: fuzz-replay tests run every seed in CI).  The targets share the
# time given: --seconds N each (default 30; scripts/test.sh runs a short
# pass of 5), or --hours H split among them, the long run before a release
# (`scripts/fuzz.sh --hours 8` overnight).  --jobs J runs J targets at once
# (default 1; one core each).  TARGET names (qp, proto, ...) limit the run
# to those.
set -eu
cd "$(dirname "$0")/.."
SECONDS_EACH=30
HOURS=
JOBS=1
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) SECONDS_EACH=$2; shift 2 ;;
    --hours) HOURS=$2; shift 2 ;;
    --jobs) JOBS=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -eu/p' "$0" | sed 's/^# \{0,1\}//' | grep -v '^set -eu'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
if [ $# -gt 0 ]; then
  names=$*
else
  names=$(ls tests/fuzz/fuzz_*.c | sed 's|.*/fuzz_||; s|\.c$||')
fi
for t in $names; do
  [ -f "tests/fuzz/fuzz_$t.c" ] || { echo "fuzz.sh: no target $t (tests/fuzz/fuzz_$t.c)" >&2; exit 2; }
done
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DSIFT_FUZZ=ON >/dev/null
# shellcheck disable=SC2046
cmake --build build-fuzz -j"$(nproc)" --target $(for t in $names; do echo "fuzz_$t"; done)
n=$(echo "$names" | wc -w)
if [ -n "$HOURS" ]; then
  SECONDS_EACH=$(awk -v h="$HOURS" -v n="$n" -v j="$JOBS" 'BEGIN { s = int(h * 3600 * j / n); print s < 1 ? 1 : s }')
fi
echo "== libFuzzer: $n targets, ${SECONDS_EACH}s each, $JOBS at a time"

# One target from its seeds; its status goes to build-fuzz/corpus-NAME.rc.
fuzz_one() {
  work=build-fuzz/corpus-$1
  mkdir -p "$work"
  cp -n tests/fuzz/corpus/"$1"/* "$work"/ 2>/dev/null || true
  rc=0
  build-fuzz/fuzz/fuzz_"$1" -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
    -artifact_prefix="$work-" "$work" >"$work.log" 2>&1 || rc=$?
  echo "$rc" >"$work.rc"
}

failed=
set -- $names
while [ $# -gt 0 ]; do
  round=
  while [ $# -gt 0 ] && [ "$(echo "$round" | wc -w)" -lt "$JOBS" ]; do
    round="$round $1"
    fuzz_one "$1" &
    shift
  done
  wait
  for t in $round; do
    work=build-fuzz/corpus-$t
    if [ "$(cat "$work.rc")" != 0 ]; then
      tail -n 40 "$work.log"
      echo "fuzz target $t found a failure (input saved as $work-*)"
      failed="$failed $t"
    else
      echo "-- $t: $(grep -h "stat::number_of_executed_units" "$work.log" | tr -s ' ')"
    fi
  done
  [ -z "$failed" ] || exit 1
done

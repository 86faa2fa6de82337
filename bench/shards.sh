#!/usr/bin/env bash
# shards.sh: the cost of reading an index as shards built apart.
#
#   bench/shards.sh [--work DIR] [--bin DIR] [--iterations N] [--reuse]
#
# The kit corpus (or 37,547 articles of sift-gen without it) is indexed
# once whole, and again split round-robin into 2 and into 4 parts, each part
# indexed on its own (as separate machines or days would) and listed in a
# Xapian stub file.  sift-bench-micro answers the peers harness's query set
# in process on each, and the table gives every class's p50 and p99 (µs) and
# the ratio of each stub's p50 to the one index's.  Answers are checked equal
# by tests/integration/test_shards.py, not here.
#
#   --work DIR       corpora, indexes, results [/var/tmp/sift-shards]
#   --bin DIR        Sift's binaries [./build/bin]
#   --iterations N   timed passes per class [5]
#   --reuse          keep the indexes of an earlier run
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
WORK=/var/tmp/sift-shards
BIN=$ROOT/build/bin
ITER=5
REUSE=0
while (($#)); do
  case $1 in
    --work) WORK=$2; shift 2 ;;
    --bin) BIN=$2; shift 2 ;;
    --iterations) ITER=$2; shift 2 ;;
    --reuse) REUSE=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed 's/^# \{0,1\}//' | grep -v '^set -euo'; exit 2 ;;
    *) echo "shards.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$WORK"
ALL=$WORK/all.jsonl
if [[ $REUSE == 0 || ! -f $ALL ]]; then
  KIT=$(ls "$ROOT"/../shared/corpus/news-part-*.jsonl.zst 2>/dev/null || true)
  if [[ -n $KIT ]]; then zstd -dcq $KIT >"$ALL"; else "$BIN/sift-gen" --docs 37547 >"$ALL"; fi
fi
build() { # build NAME FILE
  [[ $REUSE == 1 && -d $WORK/$1 ]] && return
  rm -rf "${WORK:?}/$1"
  "$BIN/sift-indexer" --quiet --jobs 2 --index "$WORK/$1" "$2"
}
build one "$ALL"
for n in 2 4; do
  stub=$WORK/stub$n
  : >"$stub"
  for ((k = 0; k < n; k++)); do
    part=$WORK/part$n-$k.jsonl
    awk -v n="$n" -v k="$k" 'NR % n == k' "$ALL" >"$part"
    build "s$n-$k" "$part"
    echo "auto s$n-$k" >>"$stub"
  done
done
for idx in one stub2 stub4; do
  "$BIN/sift-bench-micro" --index "$WORK/$idx" --iterations "$ITER" --no-stages \
    --json "$WORK/micro-$idx.json" >/dev/null
done
python3 - "$WORK" <<'EOF'
import json, sys
w = sys.argv[1]
cs = {k: json.load(open("%s/micro-%s.json" % (w, k)))["classes"] for k in ("one", "stub2", "stub4")}
print("| class | one p50 | 2 shards p50 | ratio | 4 shards p50 | ratio | one p99 | 2 p99 | 4 p99 |")
print("|---|---|---|---|---|---|---|---|---|")
for c in cs["one"]:
    o, a, b = cs["one"][c], cs["stub2"][c], cs["stub4"][c]
    print("| %s | %.0f | %.0f | %.2f | %.0f | %.2f | %.0f | %.0f | %.0f |" % (
        c, o["p50_us"], a["p50_us"], a["p50_us"] / o["p50_us"], b["p50_us"],
        b["p50_us"] / o["p50_us"], o["p99_us"], a["p99_us"], b["p99_us"]))
EOF

#!/usr/bin/env bash
# shards.sh: the cost of reading an index as shards built apart.
#
#   bench/shards.sh [--work DIR] [--bin DIR] [--iterations N] [--rounds R] [--reuse]
#
# The kit corpus (or 37,547 articles of sift-gen without it) is indexed
# once whole, and again split round-robin into 2 and into 4 parts, each part
# indexed on its own (as separate machines or days would) and listed in a
# Xapian stub file; and the one index is served by xapian-tcpsrv on loopback
# and read as a remote shard.  sift-bench-micro answers the peers harness's
# query set in process on each, and the table gives every class's p50 (µs)
# and the ratio of each to the one index's.  Answers are checked equal
# by tests/integration/test_shards.py, not here.
#
# The indexes are measured in --rounds rounds, in a rotating order, and each
# ratio is the median of the rounds' ratios: the machine's speed drifts by
# ±30% between runs a few seconds apart, and one pass per index in a fixed
# order showed 4 shards at 1.04-1.43x where six alternating rounds gave
# 1.07-1.87x (2026-12-04).
#
#   --work DIR       corpora, indexes, results [/var/tmp/sift-shards]
#   --bin DIR        Sift's binaries [./build/bin]
#   --iterations N   timed passes per class [5]
#   --rounds R       alternating rounds over the indexes [5]
#   --reuse          keep the indexes of an earlier run
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
WORK=/var/tmp/sift-shards
BIN=$ROOT/build/bin
ITER=5
ROUNDS=5
REUSE=0
while (($#)); do
  case $1 in
    --work) WORK=$2; shift 2 ;;
    --bin) BIN=$2; shift 2 ;;
    --iterations) ITER=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
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
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
xapian-tcpsrv --interface 127.0.0.1 --port "$PORT" --quiet "$WORK/one" &
TCPSRV=$!
trap 'kill $TCPSRV 2>/dev/null || true' EXIT
echo "remote 127.0.0.1:$PORT" >"$WORK/remote"
sleep 1
NAMES=(one stub2 stub4 remote)
for ((r = 0; r < ROUNDS; r++)); do
  for ((i = 0; i < 4; i++)); do
    idx=${NAMES[$(((i + r) % 4))]}
    "$BIN/sift-bench-micro" --index "$WORK/$idx" --iterations "$ITER" --no-stages \
      --json "$WORK/micro-$idx-$r.json" >/dev/null
  done
done
python3 - "$WORK" "$ROUNDS" <<'EOF'
import json, statistics, sys
w, rounds = sys.argv[1], int(sys.argv[2])
names = ("one", "stub2", "stub4", "remote")
cs = {k: [json.load(open("%s/micro-%s-%d.json" % (w, k, r)))["classes"] for r in range(rounds)]
      for k in names}
def p50(k, c):
    return statistics.median(x[c]["p50_us"] for x in cs[k])
def ratio(k, c):
    return statistics.median(cs[k][r][c]["p50_us"] / cs["one"][r][c]["p50_us"] for r in range(rounds))
print("p50 µs, medians of %d rounds; ratios: the median of the rounds' ratios" % rounds)
print("| class | one index p50 | 2 shards p50 (ratio) | 4 shards p50 (ratio) | remote shard p50 (ratio, overhead) |")
print("|---|---|---|---|---|")
for c in cs["one"][0]:
    o = p50("one", c)
    row = ["%.0f (%.2f)" % (p50(k, c), ratio(k, c)) for k in names[1:3]]
    r = p50("remote", c)
    print("| %s | %.0f | %s | %.0f (%.2f, +%.0f) |" % (c, o, " | ".join(row), r, ratio("remote", c), r - o))
EOF

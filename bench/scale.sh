#!/usr/bin/env bash
# scale.sh: how Sift's index and latency grow with the corpus.
#
#   bench/scale.sh [--factors 1,10] [--base N] [--work DIR] [--bin DIR] [--keep]
#                  [--layout month|year] [--spread] [--kit-copies]
#
# For each factor F, sift-gen writes F x --base articles (default 37,547, the
# kit's size) shaped like the kit corpus (--calibrate: its lengths, outlet
# sizes, dates and 20,000 most frequent words), sift-indexer indexes them
# (wall time and peak memory by /usr/bin/time), and sift-bench-micro answers
# one query set in process.  The query set is drawn once, from the smallest
# corpus, by the peers harness's own generator (tools/gen_queries.py), so
# every scale answers the same queries; an existing DIR/queries.jsonl is
# reused, so a later run at another factor (e.g. --factors 10 after
# --factors 0.25,1,4) adds points to the same table (delete it to draw
# anew).  Then bench/scale_report.py prints
# the table and writes the plot (DIR/scale.svg).
#
#   --factors LIST  corpus sizes as multiples of --base [1,10]
#   --base N        articles at factor 1 [37547]
#   --work DIR      corpora, indexes, results [/var/tmp/sift-scale]
#   --bin DIR       Sift's binaries [./build/bin]
#   --keep          keep the generated .jsonl files (2.4 GB at factor 10)
#   --layout U      index as an archive by time (sift-indexer --layout U)
#   --spread        an archive that grows in time: factor F spreads its dates
#                   over F times six years, ending 2017-12-31, so a month holds
#                   as many articles at every factor; and add date-bounded
#                   classes to the query set: last_month and last_year (the
#                   term_common words within 2017-12 and 2017), month_facets
#                   (the same within 2017-12, with outlet and day facets)
#   --kit-copies    the kit's own articles instead of sift-gen's: factor F
#                   (whole) is the kit F times, each copy older by ten years
#                   (bench/copies.py), so real news text at every size; the
#                   date-bounded classes as with --spread, in the month
#                   before the kit's newest article's and in its year
#
# Without the kit corpus (../shared/corpus) sift-gen's built-in shape is used.
# Factor 10 takes ~35 minutes on 2 cores; 100 takes hours.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
FACTORS=1,10
BASE=37547
WORK=/var/tmp/sift-scale
BIN=$ROOT/build/bin
KEEP=0
LAYOUT=()
SPREAD=0
COPIES=0
while (($#)); do
  case $1 in
    --factors) FACTORS=$2; shift 2 ;;
    --base) BASE=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --bin) BIN=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --layout) LAYOUT=(--layout "$2"); shift 2 ;;
    --spread) SPREAD=1; shift ;;
    --kit-copies) COPIES=1; SPREAD=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed 's/^# \{0,1\}//' | grep -v '^set -euo'; exit 2 ;;
    *) echo "scale.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
PEERS=$ROOT/../shared/peers
KIT=$(ls "$ROOT"/../shared/corpus/news-part-*.jsonl.zst 2>/dev/null | head -1 || true)
CAL=()
[[ -n $KIT ]] && CAL=(--calibrate "$KIT")
mkdir -p "$WORK"
MONTH=2017-12 # the date-bounded classes' month (--spread)
if ((COPIES)); then
  [[ -n $KIT ]] || { echo "scale.sh: --kit-copies needs ../shared/corpus" >&2; exit 2; }
  KITALL=$(ls "$ROOT"/../shared/corpus/news-part-*.jsonl.zst)
  newest=$(zstd -dcq $KITALL | /usr/bin/python3 "$ROOT/bench/copies.py" --newest)
  KITN=$(zstd -dcq $KITALL | wc -l)
  MONTH=$(date -u -d "${newest:0:7}-01 - 1 month" +%Y-%m)
fi
QUERIES=$WORK/queries.jsonl
first=1
for f in $(tr ',' ' ' <<<"$FACTORS"); do
  n=$(awk -v f="$f" -v b="$BASE" 'BEGIN { printf "%d", f * b }')
  corpus=$WORK/gen-$f.jsonl
  idx=$WORK/index-$f
  echo "== factor $f: $n articles" >&2
  SPAN=()
  if ((COPIES)); then
    [[ $f =~ ^[1-9][0-9]*$ ]] || { echo "scale.sh: --kit-copies takes whole factors" >&2; exit 2; }
    n=$((f * KITN))
    echo "   (the kit $f times: $n lines)" >&2
    zstd -dcq $KITALL | /usr/bin/python3 "$ROOT/bench/copies.py" "$f" >"$corpus"
  elif ((SPREAD)); then
    days=$(awk -v f="$f" 'BEGIN { printf "%d", f * 2191 }')
    SPAN=(--start "$(date -u -d "2018-01-01 - $days days" +%F)" --days "$days")
  fi
  ((COPIES)) || "$BIN/sift-gen" "${CAL[@]}" "${SPAN[@]}" --docs "$n" --seed 1 >"$corpus"
  rm -rf "$idx"
  /usr/bin/time -f '{"wall_s": %e, "peak_kb": %M}' -o "$WORK/build-$f.json" \
    "$BIN/sift-indexer" --quiet "${LAYOUT[@]}" --index "$idx" "$corpus"
  printf '{"factor": %s, "docs": %s, "jsonl_bytes": %s, "index_bytes": %s}\n' "$f" "$n" \
    "$(stat -c %s "$corpus")" "$(du -sb "$idx" | cut -f1)" >"$WORK/size-$f.json"
  if ((first)) && [[ ! -s $QUERIES ]]; then
    if [[ -x $PEERS/tools/gen_queries.py ]] || [[ -f $PEERS/tools/gen_queries.py ]]; then
      /usr/bin/python3 "$PEERS/tools/prep_corpus.py" "$WORK/prep" "$corpus" >/dev/null
      /usr/bin/python3 "$PEERS/tools/gen_queries.py" "$WORK/prep/corpus.tsv" "$QUERIES" >/dev/null
      rm -rf "$WORK/prep"
      if ((SPREAD)); then # date-bounded classes, from term_common's words
        /usr/bin/python3 - "$QUERIES" "$MONTH" <<'EOF'
import calendar, json, sys
path, month = sys.argv[1], sys.argv[2]
y, m = int(month[:4]), int(month[5:7])
lo, hi = "%s-01" % month, "%s-%02d" % (month, calendar.monthrange(y, m)[1])
rows = [json.loads(line) for line in open(path)]
common = [r for r in rows if r["class"] == "term_common"]
with open(path, "a") as out:
    for cls, a, b in (("last_month", lo, hi), ("last_year", "%d-01-01" % y, "%d-12-31" % y)):
        for r in common:
            out.write(json.dumps(dict(r, **{"class": cls, "from": a, "to": b})) + "\n")
    for r in common[:100]:
        out.write(json.dumps(dict(r, **{"class": "month_facets", "from": lo,
                                        "to": hi, "facets": ["outlet", "day"]})) + "\n")
EOF
      fi
    else
      echo "scale.sh: no peers harness beside the repository: nothing to draw queries with" >&2
      exit 1
    fi
    first=0
  fi
  ((KEEP)) || rm -f "$corpus"
  "$BIN/sift-bench-micro" --index "$idx" --queries "$QUERIES" --iterations 3 --no-stages \
    --json "$WORK/micro-$f.json" >&2
done
/usr/bin/python3 "$ROOT/bench/scale_report.py" "$WORK"

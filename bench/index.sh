#!/usr/bin/env bash
# index.sh: the indexing benchmark.  Times sift-indexer building a fresh index
# of the kit corpus (or the files given) and reports wall time, articles/s,
# index size against the raw JSON Lines size, and the indexer's peak RSS,
# next to the peers' build figures from the harness's results.csv.
#
#   bench/index.sh [--bin DIR] [--index DIR] [--keep] [--repeat N]
#                  [--drop-caches] [FILE...]
#
#   --bin DIR       where sift-indexer is [./build/bin]
#   --index DIR     build here; must not exist yet; kept afterwards [a temp
#                   dir under /tmp, removed at the end]
#   --keep          keep the temp index too (its path is printed)
#   --repeat N      builds from scratch, median wall time reported [1]
#   --drop-caches   drop the page cache before each build (needs root)
#   FILE...         corpus files [../shared/corpus/news-part-0*.jsonl.zst]
#
# Run from the repository's root.  Peak RSS is the kernel's maximum resident
# set of the indexer process (GNU time's "Maximum resident set size", i.e.
# getrusage), the same figure the peers harness reports as "indexer peak MB".
# The raw size is the bytes of uncompressed JSON Lines (239,074,556 for the
# kit), which is what the harness's "× raw JSONL" divides by.
set -euo pipefail

BIN=$PWD/build/bin
INDEX=""
KEEP=0
REPEAT=1
DROP=0
FILES=()
PEERS_CSV=${PEERS_CSV:-$PWD/../shared/peers/results/results.csv}

usage() { sed -n '2,/^set -euo/p' "$0" | sed 's/^# \{0,1\}//' | grep -v '^set -euo'; exit 2; }
while (($#)); do
  case $1 in
    --bin) BIN=$(realpath "$2"); shift 2 ;;
    --index) INDEX=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --repeat) REPEAT=$2; shift 2 ;;
    --drop-caches) DROP=1; shift ;;
    -h|--help) usage ;;
    -*) echo "index.sh: unknown option $1" >&2; usage ;;
    *) FILES+=("$1"); shift ;;
  esac
done
((${#FILES[@]})) || FILES=(../shared/corpus/news-part-0*.jsonl.zst)
for f in "${FILES[@]}"; do [[ -e $f ]] || { echo "index.sh: no such file: $f" >&2; exit 2; }; done
[[ -x $BIN/sift-indexer ]] || { echo "index.sh: $BIN/sift-indexer not found (build first, or --bin DIR)" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "index.sh: needs GNU time (/usr/bin/time; apt-get install time)" >&2; exit 2; }
[[ $REPEAT =~ ^[1-9][0-9]*$ ]] || { echo "index.sh: --repeat needs a positive integer" >&2; exit 2; }

if [[ -n $INDEX ]]; then
  [[ ! -e $INDEX ]] || { echo "index.sh: $INDEX exists; give a new path" >&2; exit 2; }
  KEEP=1
else
  INDEX=$(mktemp -u /tmp/sift-bench-index.XXXXXX)
fi
TMP=$(mktemp -d /tmp/sift-index-bench.XXXXXX)
cleanup() {
  ((KEEP)) || rm -rf "$INDEX"
  rm -rf "$TMP"
}
trap cleanup EXIT

# raw bytes of JSON Lines (uncompressed)
RAW=0
for f in "${FILES[@]}"; do
  case $f in
    *.zst) n=$(zstd -dc -- "$f" | wc -c) ;;
    *) n=$(stat -c %s -- "$f") ;;
  esac
  RAW=$((RAW + n))
done

walls=()
for ((i = 1; i <= REPEAT; i++)); do
  rm -rf "$INDEX"
  if ((DROP)); then sync; echo 1 > /proc/sys/vm/drop_caches 2>/dev/null || echo "index.sh: cannot drop caches (not root?)" >&2; fi
  echo "build $i/$REPEAT: $BIN/sift-indexer --index $INDEX ${FILES[*]}" >&2
  t0=$(date +%s.%N)
  if ! /usr/bin/time -v -o "$TMP/time.$i" "$BIN/sift-indexer" --index "$INDEX" "${FILES[@]}" \
      >"$TMP/out.$i" 2>"$TMP/log.$i"; then
    echo "index.sh: sift-indexer failed; its last lines:" >&2
    tail -5 "$TMP/log.$i" >&2
    exit 1
  fi
  t1=$(date +%s.%N)
  walls+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')")
  rss_kb[i]=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$TMP/time.$i")
  echo "  wall ${walls[-1]} s, peak RSS $((rss_kb[i] / 1024)) MB" >&2
done

# the indexer's own summary (last build): "added N ..." style line
SUMMARY=$(grep -iE 'added|articles' "$TMP/log.$REPEAT" "$TMP/out.$REPEAT" 2>/dev/null | tail -1 | sed 's/^[^:]*://')
ADDED=$(printf '%s\n' "$SUMMARY" | grep -oiE '([0-9][0-9,]*) added|added[ :=]*([0-9][0-9,]*)' | grep -oE '[0-9][0-9,]*' | head -1 | tr -d ,)
if [[ -z $ADDED ]]; then  # fall back to counting the input lines
  ADDED=0
  for f in "${FILES[@]}"; do
    case $f in *.zst) n=$(zstd -dc -- "$f" | grep -c .) ;; *) n=$(grep -c . -- "$f") ;; esac
    ADDED=$((ADDED + n))
  done
  ADDED_NOTE=" (input lines; the indexer's summary did not say)"
fi
SIZE=$(du -sb "$INDEX" | cut -f1)
WALL=$(printf '%s\n' "${walls[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
WMIN=$(printf '%s\n' "${walls[@]}" | sort -n | head -1)
WMAX=$(printf '%s\n' "${walls[@]}" | sort -n | tail -1)
RSS=$(printf '%s\n' "${rss_kb[@]}" | sort -n | tail -1)

printf '# machine: cpu="%s" cores=%s kernel="%s" date=%s\n' \
  "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" "$(nproc)" "$(uname -sr)" \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
printf '# input: %s (%s bytes of JSON Lines)\n' "${FILES[*]}" "$RAW"
printf '# indexer summary: %s\n' "${SUMMARY:-none}"
printf '\n%-14s %s\n' "builds" "$REPEAT"
printf '%-14s %s s (min %s, max %s)\n' "wall" "$WALL" "$WMIN" "$WMAX"
printf '%-14s %s%s\n' "articles" "$ADDED" "${ADDED_NOTE:-}"
printf '%-14s %s\n' "articles/s" "$(awk -v n="$ADDED" -v w="$WALL" 'BEGIN { printf "%.0f", n / w }')"
printf '%-14s %s bytes (%.1f MB)\n' "index size" "$SIZE" "$(awk -v s="$SIZE" 'BEGIN { print s / 1e6 }')"
printf '%-14s %s\n' "x raw JSONL" "$(awk -v s="$SIZE" -v r="$RAW" 'BEGIN { printf "%.3f", s / r }')"
printf '%-14s %s MB\n' "peak RSS" "$(awk -v k="$RSS" 'BEGIN { printf "%.0f", k / 1024 }')"
if ((KEEP)); then printf '%-14s %s\n' "index kept" "$INDEX"; fi

# the peers' builds of the same corpus, for comparison
if [[ -f $PEERS_CSV ]]; then
  printf '\npeers (from %s; their build reads pre-normalized TSV/JSONL):\n' "$PEERS_CSV"
  awk -F, '
    /^#/ || $1 == "engine" { next }
    $2 == "build_wall_s" { w[$1] = $5; order[++n] = $1 }
    $2 == "build_docs_per_s" { d[$1] = $5 }
    $2 == "disk_over_raw" { r[$1] = $5 }
    $2 == "indexer_peak_mb" { m[$1] = $5 }
    END {
      printf "%-14s %10s %10s %10s %10s\n", "engine", "wall s", "docs/s", "x raw", "peak MB"
      for (i = 1; i <= n; i++) { e = order[i]; printf "%-14s %10.1f %10.0f %10.2f %10.0f\n", e, w[e], d[e], r[e], m[e] }
    }' "$PEERS_CSV"
fi

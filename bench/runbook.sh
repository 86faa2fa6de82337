#!/usr/bin/env bash
# runbook.sh: docs/scale-out.md's commands, run on one machine.
#
#   bench/runbook.sh [--work DIR] [--bin DIR] [--docs N]
#
# Three directories stand for three machines: indexer/, searcher1/ and
# searcher2/, talking over 127.0.0.1 only.  The indexer keeps an archive by
# month; xapian-replicate-server serves its shards; searcher1 keeps a full
# replica (xapian-replicate, one per shard) and serves it with sift-searchd
# and, to searcher2, with xapian-tcpsrv; searcher2 keeps the newest months
# itself and reads the older ones from searcher1 as remote shards.  While a
# client queries both searchers without pause, the indexer adds a new month
# and updates old ones; the replicas follow; the script checks that both
# searchers then answer like the indexer's own archive and that no request
# failed, and prints each step's command and figures.  Everything it starts
# stops at the end.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=/var/tmp/sift-runbook
BIN=$ROOT/build/bin
DOCS=6000
while (($#)); do
  case $1 in
    --work) WORK=$2; shift 2 ;;
    --bin) BIN=$2; shift 2 ;;
    --docs) DOCS=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed 's/^# \{0,1\}//' | grep -v '^set -euo'; exit 2 ;;
    *) echo "runbook.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
say() { printf '\n$ %s\n' "$*"; }
run() { say "$@"; "$@"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
ask() { printf '%s\n' "$2" | socat -t5 - TCP:127.0.0.1:"$1"; }

rm -rf "$WORK"
mkdir -p "$WORK"/{indexer,searcher1/archive,searcher2/archive}
I=$WORK/indexer S1=$WORK/searcher1 S2=$WORK/searcher2
# The news: articles over three years, then a fourth year's first month and
# new copies of earlier articles.
"$BIN/sift-gen" --docs "$DOCS" --start 2020-01-01 --days 1095 --seed 7 >"$I/news-1.jsonl"
"$BIN/sift-gen" --docs $((DOCS / 10)) --start 2023-01-01 --days 30 --seed 8 >"$I/news-2.jsonl"
head -n $((DOCS / 20)) "$I/news-1.jsonl" | sed 's/"title":"/"title":"Updated: /' >>"$I/news-2.jsonl"

echo "== indexer: an archive by month, with changesets kept for the replicas"
say XAPIAN_MAX_CHANGESETS=10 sift-indexer --index "$I/archive" --layout month "$I/news-1.jsonl"
XAPIAN_MAX_CHANGESETS=10 "$BIN/sift-indexer" --index "$I/archive" --layout month "$I/news-1.jsonl"
RPORT=$(free_port)
say xapian-replicate-server --interface 127.0.0.1 --port "$RPORT" "$I/archive"
xapian-replicate-server --interface 127.0.0.1 --port "$RPORT" "$I/archive" >"$WORK/replicate-server.log" 2>&1 &
PIDS+=($!)
wait_port "$RPORT"

replicate() { # replicate SEARCHER SHARD...: one pass of every shard, then the list
  local s=$1; shift
  for shard in "$@"; do
    xapian-replicate -h 127.0.0.1 -p "$RPORT" -m "$shard" -o -q -r 0 "$s/archive/$shard"
  done
}
shards() { awk '{print $2}' "$I/archive/XAPIANDB"; }

echo "== searcher1: a full replica (one xapian-replicate per shard), then the shard list"
say "for shard in \$(awk '{print \$2}' indexer/archive/XAPIANDB); do xapian-replicate -h INDEXER -p $RPORT -m \$shard -o searcher1/archive/\$shard; done"
t0=$(date +%s.%N)
replicate "$S1" $(shards)
run cp "$I/archive/XAPIANDB" "$S1/archive/XAPIANDB.new"
run mv "$S1/archive/XAPIANDB.new" "$S1/archive/XAPIANDB"
echo "replicated $(shards | wc -l) shards in $(python3 -c "import time; print('%.1f' % (time.time() - $t0))") s"
serve() { # serve NAME PORT: sift-searchd on NAME/archive
  say sift-searchd --index "$1/archive" --listen 127.0.0.1:"$2" --reload-interval 1
  "$BIN/sift-searchd" --index "$WORK/$1/archive" --listen 127.0.0.1:"$2" --reload-interval 1 \
    --log-level warn 2>"$WORK/$1.log" &
  PIDS+=($!)
  wait_port "$2"
}
P1=$(free_port)
serve searcher1 "$P1"

echo "== searcher1 also serves its replicas of 2020 to searcher2 (xapian-tcpsrv)"
TPORT=$(free_port)
OLD=$(shards | grep '^2020-' | sed "s|^|$S1/archive/|")
say xapian-tcpsrv --interface 127.0.0.1 --port "$TPORT" searcher1/archive/2020-*
# shellcheck disable=SC2086
xapian-tcpsrv --interface 127.0.0.1 --port "$TPORT" --quiet $OLD >"$WORK/tcpsrv.log" 2>&1 &
PIDS+=($!)
wait_port "$TPORT"

echo "== searcher2: its own replica of 2021 on, 2020 read from searcher1"
NEW=$(shards | grep -v '^2020-')
replicate "$S2" $NEW
{ echo "remote 127.0.0.1:$TPORT"; for s in $NEW; do echo "auto $s"; done; } >"$S2/archive/XAPIANDB"
say cat searcher2/archive/XAPIANDB
sed 's/^/  /' "$S2/archive/XAPIANDB" | head -4
echo "  ..."
P2=$(free_port)
serve searcher2 "$P2"

QUERIES=("COUNT date:2020" "COUNT date:2023-01" "SEARCH title:updated limit:0 facets:year"
         "SEARCH date:2021-06 sort:newest limit:3 facets:outlet")
answers() { # the answers of a searcher (or of the indexer's archive, in process), took_us
  # and cursors aside (a cursor names docids, which differ with the shard order)
  if [[ $1 == local ]]; then printf '%s\n' "${QUERIES[@]}" | "$BIN/sift-query" --index "$I/archive"
  else for q in "${QUERIES[@]}"; do ask "$1" "$q"; done; fi | sed 's/"took_us":[0-9]*,//; s/,"next":"[^"]*"//'
}
same() { # same NAME PORT: the searcher's answers are the archive's
  if diff <(answers "$2") <(answers local) >"$WORK/diff-$1.txt"; then echo "$1: same answers as the indexer"
  else echo "$1 differs:"; cat "$WORK/diff-$1.txt"; exit 1; fi
}
echo "== both searchers answer like the indexer's archive"
same searcher1 "$P1"
same searcher2 "$P2"

echo "== a client queries both searchers without pause while the news arrives"
python3 - "$P1" "$P2" "$WORK/load.json" <<'EOF' &
import json, socket, sys, time
ports, out = [int(p) for p in sys.argv[1:3]], sys.argv[3]
conns = [socket.create_connection(("127.0.0.1", p)) for p in ports]
files = [c.makefile("rwb") for c in conns]
n = fails = 0
worst = 0.0
end = time.time() + 25
while time.time() < end:
    for f in files:
        t = time.time()
        f.write(b"SEARCH date:2020..2023 limit:5 facets:month\n")
        f.flush()
        r = json.loads(f.readline())
        worst = max(worst, time.time() - t)
        n += 1
        fails += not r.get("ok")
json.dump({"requests": n, "failed": fails, "worst_ms": round(worst * 1000, 1)}, open(out, "w"))
EOF
LOAD=$!
sleep 2
echo "== indexer: the next month and updated copies"
say XAPIAN_MAX_CHANGESETS=10 sift-indexer --index indexer/archive news-2.jsonl
XAPIAN_MAX_CHANGESETS=10 "$BIN/sift-indexer" --index "$I/archive" "$I/news-2.jsonl"
echo "== replicas follow: shards first, then the list (so a listed shard always exists)"
t0=$(date +%s.%N)
replicate "$S1" $(shards)
cp "$I/archive/XAPIANDB" "$S1/archive/XAPIANDB.new" && mv "$S1/archive/XAPIANDB.new" "$S1/archive/XAPIANDB"
NEW=$(shards | grep -v '^2020-')
replicate "$S2" $NEW
{ echo "remote 127.0.0.1:$TPORT"; for s in $NEW; do echo "auto $s"; done; } >"$S2/archive/XAPIANDB.new"
mv "$S2/archive/XAPIANDB.new" "$S2/archive/XAPIANDB"
echo "replicas current in $(python3 -c "import time; print('%.1f' % (time.time() - $t0))") s"
sleep 3 # the searchers' reload interval
same searcher1 "$P1"
same searcher2 "$P2"
wait "$LOAD"
echo "load during the update: $(cat "$WORK/load.json")"
python3 -c "import json,sys; sys.exit(json.load(open('$WORK/load.json'))['failed'] != 0)" \
  && echo "runbook: every step done, no request failed"

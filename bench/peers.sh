#!/usr/bin/env bash
# peers.sh: one command for Sift beside its peers.  Runs the peers harness
# (../shared/peers/run) over the kit corpus with Sift and the chosen peers in
# the same run, Sift's daemon with its result cache off, then prints Sift's
# ratio tables (bench/ratios.py): p50/p99 per class against Sphinx and raw
# Xapian, QPS at 16 connections, hit agreement and build figures.
#
#   bench/peers.sh [--engines LIST] [--results DIR] [--work DIR] [--bin DIR]
#                  [--ratios-only] [other ../shared/peers/run options]
#
#   --engines LIST  harness engines [sift,sphinx,xapian_some,xapian]; keep
#                   xapian, the reference of the hit-agreement table
#   --results DIR   tables and raw data [/tmp/sift-peers]
#   --work DIR      harness scratch (normalized corpus, indexes; ~2-3 GB)
#                   [/var/tmp/sift-peers-work], kept apart from the peers'
#                   own /var/tmp/peers-bench
#   --bin DIR       Sift's binaries [./build/bin, or $SIFT_BIN]
#   --ratios-only   do not run anything; print the tables from --results
#   anything else   passed to ../shared/peers/run, e.g. --passes 1
#                   --seconds 1 --repeat 1 --build-repeat 1 for a smoke run,
#                   --reuse to repeat only the query phase, --skip-install
#
# The daemon runs with SIFT_SEARCHD_ARGS="--cache-mb 0" (plus whatever
# SIFT_SEARCHD_ARGS already holds), so repeated queries are answered, not
# replayed from the cache.  The full run takes ~40-60 minutes on 2 cores.
# Run from the repository's root (the script changes there itself).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

ENGINES=sift,sphinx,xapian_some,xapian
RESULTS=/tmp/sift-peers
WORK=/var/tmp/sift-peers-work
BIN=${SIFT_BIN:-$ROOT/build/bin}
RATIOS_ONLY=0
PASS=()
usage() { sed -n '2,/^set -euo/p' "$0" | sed 's/^# \{0,1\}//' | grep -v '^set -euo'; exit 2; }
while (($#)); do
  case $1 in
    --engines) ENGINES=$2; shift 2 ;;
    --results) RESULTS=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --bin) BIN=$2; shift 2 ;;
    --ratios-only) RATIOS_ONLY=1; shift ;;
    -h|--help) usage ;;
    *) PASS+=("$1"); shift ;;
  esac
done
RESULTS=$(realpath -m "$RESULTS")
BIN=$(realpath -m "$BIN")
PEERS_RUN=$ROOT/../shared/peers/run

# Sift's QPS is compared at its largest server concurrency (16 by default)
QCONC=16
for ((i = 0; i < ${#PASS[@]}; i++)); do
  if [[ ${PASS[i]} == --server-conc && $((i + 1)) -lt ${#PASS[@]} ]]; then
    QCONC=$(tr ',' '\n' <<<"${PASS[i + 1]}" | sort -n | tail -1)
  fi
done

# the peers to put beside Sift in the tables: the other engines of the run
PEER_LIST=$(tr ',' '\n' <<<"$ENGINES" | grep -vx sift | paste -sd, -)

if ((!RATIOS_ONLY)); then
  [[ -x $PEERS_RUN ]] || { echo "peers.sh: $PEERS_RUN not found (the team kit is expected beside the repo)" >&2; exit 2; }
  if [[ ,$ENGINES, == *,sift,* ]]; then
    for b in sift-indexer sift-searchd; do
      [[ -x $BIN/$b ]] || { echo "peers.sh: $BIN/$b not found (build the project, or --bin DIR)" >&2; exit 2; }
    done
  fi
  CORPUS=("$ROOT"/../shared/corpus/news-part-0*.jsonl.zst)
  [[ -e ${CORPUS[0]} ]] || { echo "peers.sh: kit corpus not found: ${CORPUS[0]}" >&2; exit 2; }
  # The harness builds its drivers in its own folder (make -C): a kit that
  # is read-only is run from a copy beside the scratch data.
  if [[ ! -w $(dirname "$PEERS_RUN") ]]; then
    mkdir -p "$WORK"
    rm -rf "$WORK/peers-kit"
    cp -r "$(dirname "$PEERS_RUN")" "$WORK/peers-kit"
    PEERS_RUN=$WORK/peers-kit/run
    echo "peers.sh: the kit's harness is read-only; running a copy: $PEERS_RUN" >&2
  fi
  export SIFT_BIN=$BIN
  export SIFT_SEARCHD_ARGS="--cache-mb 0${SIFT_SEARCHD_ARGS:+ $SIFT_SEARCHD_ARGS}"
  echo "peers.sh: SIFT_BIN=$SIFT_BIN SIFT_SEARCHD_ARGS=\"$SIFT_SEARCHD_ARGS\"" >&2
  set -x
  "$PEERS_RUN" "${CORPUS[@]}" --engines "$ENGINES" --results "$RESULTS" --work "$WORK" "${PASS[@]}"
  { set +x; } 2>/dev/null
  echo >&2
  echo "peers.sh: full report in $RESULTS/results.md" >&2
  echo >&2
fi

if [[ ,$ENGINES, != *,sift,* ]]; then
  echo "peers.sh: sift not among the engines; no ratio tables" >&2
  exit 0
fi
exec python3 "$ROOT/bench/ratios.py" "$RESULTS" --engine sift --peers "$PEER_LIST" --conc "$QCONC"

#!/bin/sh
# The C and C++ sources follow .clang-format, with clang-format 14 (another
# version formats some constructs differently).
#
#   scripts/format.sh [FILE...]          reformat them in place
#   scripts/format.sh --check [FILE...]  change nothing: show how each file
#                                        differs, exit 1 if one does
#
# Without FILEs: every tracked *.c, *.h and *.cc (git ls-files; a tree
# without git: every such file outside build*/).  scripts/test.sh runs
# --check first.
set -eu
cd "$(dirname "$0")/.."
CHECK=0
if [ "${1:-}" = --check ]; then
  CHECK=1
  shift
fi
case "${1:-}" in
  -h|--help) sed -n '2,/^set -eu/p' "$0" | sed 's/^# \{0,1\}//' | grep -v '^set -eu'; exit 0 ;;
  -*) echo "format.sh: unknown option $1" >&2; exit 2 ;;
esac
CF=
for c in clang-format-14 clang-format; do
  if command -v "$c" >/dev/null && "$c" --version | grep -q 'version 14\.'; then
    CF=$c
    break
  fi
done
[ -n "$CF" ] || { echo "format.sh: clang-format 14 is needed (Debian: clang-format-14)" >&2; exit 2; }

if [ $# -gt 0 ]; then
  files=$*
elif git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  files=$(git ls-files '*.c' '*.h' '*.cc')
else
  files=$(find . -path './build*' -prune -o \( -name '*.c' -o -name '*.h' -o -name '*.cc' \) -print | sed 's|^\./||' | sort)
fi

if [ "$CHECK" = 0 ]; then
  # shellcheck disable=SC2086
  "$CF" -i --style=file $files
  exit 0
fi
bad=0
lines=0
for f in $files; do
  if ! d=$("$CF" --style=file "$f" | diff -u "$f" -); then
    bad=$((bad + 1))
    lines=$((lines + $(printf '%s\n' "$d" | grep -c '^-') - 1)) # the --- header aside
    printf '%s\n' "$d" | head -n 30
  fi
done
if [ "$bad" -gt 0 ]; then
  echo "format.sh: $bad file(s) differ from .clang-format ($lines line(s) would change); scripts/format.sh reformats them" >&2
  exit 1
fi
echo "format.sh: $(echo "$files" | wc -w) files follow .clang-format"

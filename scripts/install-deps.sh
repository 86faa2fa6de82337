#!/bin/sh
# Installs every Debian package Sift needs to build, test, fuzz and script.
# Idempotent; run as root (or with sudo available).
set -eu
PKGS="build-essential cmake pkg-config g++ clang libclang-rt-14-dev clang-format-14
libxapian-dev xapian-tools libuv1-dev libstemmer-dev libzstd-dev zstd
libutf8proc-dev libjansson-dev libcmocka-dev libedit-dev libh2o-dev
python3 python3-snowballstemmer jq socat netcat-openbsd procps curl wrk
chromium chromium-driver python3-selenium groff-base"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
echo "installing:$missing" >&2
$SUDO apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null

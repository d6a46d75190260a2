#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (never a downloaded browser). Install it when missing.
set -euo pipefail
[ -x /usr/bin/chromium ] && fc-list :lang=zh 2>/dev/null | grep -q . && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian's chromium and a Chinese font for the browser tests"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
else
  echo "the browser tests need Debian's chromium: sudo apt-get install chromium" >&2
  exit 1
fi

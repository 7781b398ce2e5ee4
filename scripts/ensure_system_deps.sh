#!/usr/bin/env bash
# Install the system packages the app (ffmpeg) and the tests (chromium) need, when missing.
# As root with apt-get available they are installed; otherwise a clear message says what to install.
set -euo pipefail
need=()
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
if [ "${1:-}" = "--with-browser" ] && [ ! -x /usr/bin/chromium ]; then need+=(chromium); fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing system packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
else
  echo "Missing system packages: ${need[*]}" >&2
  echo "Install them first, e.g.:  sudo apt-get install ${need[*]}   (macOS: brew install ffmpeg)" >&2
  exit 1
fi

#!/usr/bin/env bash
# The programs the tests drive for real, installed from Debian when missing:
#   tmux     the TUI's smoke test runs hk in a real terminal
#   crontab  `hk cron install|show|remove` edits the user's crontab (package cron)
# Runs as root, or through sudo without a password; otherwise it says what to install.
set -euo pipefail

declare -A PACKAGE=([tmux]=tmux [crontab]=cron)
missing=()
for command in "${!PACKAGE[@]}"; do
    command -v "$command" >/dev/null 2>&1 || missing+=("${PACKAGE[$command]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    run=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    run=(sudo -n)
else
    echo "the tests need: ${missing[*]} (Debian packages); install them, e.g." >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
echo "installing ${missing[*]} ..." >&2
export DEBIAN_FRONTEND=noninteractive
"${run[@]}" apt-get update -qq >/dev/null
"${run[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

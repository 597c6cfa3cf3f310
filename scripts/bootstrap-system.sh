#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages Poise's demo and test suite need, and only those missing.
# Idempotent; safe to run as root or through sudo. Extra package names may be given as arguments.
set -euo pipefail
pkgs=(python3 python3-venv python3-dev build-essential portaudio19-dev libasound2-dev
      espeak-ng sox mosquitto chromium chromium-driver nodejs npm "$@")
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# pyenv or a distribution Python: either is fine as long as python3 >= 3.11 runs and has venv.
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "bootstrap: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"

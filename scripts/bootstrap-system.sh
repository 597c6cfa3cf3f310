#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages Poise's demo and test suite need, and only those missing.
# Idempotent; runs apt-get as root or through sudo. Tools that are already on PATH from elsewhere
# (a pyenv Python, a NodeSource node) count as present. Extra package names may be given as args.
set -euo pipefail
missing=()
need_pkg() {  # need_pkg PACKAGE: install unless dpkg says it is installed
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed" || missing+=("$1")
}
need_cmd() {  # need_cmd COMMAND PACKAGE: install PACKAGE unless COMMAND is on PATH
    command -v "$1" >/dev/null 2>&1 || missing+=("$2")
}
need_cmd python3 python3
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then missing+=(python3-venv); fi
if ! python3 -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_path("include"), "Python.h")))' 2>/dev/null; then
    missing+=(python3-dev)
fi
need_cmd gcc build-essential
need_cmd make make
need_pkg portaudio19-dev      # PyAudio builds against it
need_pkg libasound2-dev
need_pkg alsa-utils
need_cmd espeak-ng espeak-ng  # demo and test speech
need_cmd sox sox
need_cmd mosquitto mosquitto  # MQTT tests start a real broker on loopback
need_cmd chromium chromium    # dashboard tests drive headless Chromium
need_cmd chromedriver chromium-driver
need_pkg postgresql           # collector tests start a real PostgreSQL server on loopback
need_cmd node nodejs          # firmware tests run MicroPython's WebAssembly port under node
need_cmd npm npm
for p in "$@"; do need_pkg "$p"; done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "bootstrap: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"

#!/bin/bash
# Install Poise on a Raspberry Pi: Raspberry Pi OS Bookworm or Trixie, 64-bit (Python 3.11/3.13).
# See docs/install.md. Run from the unpacked install bundle (or a checkout) as root:
#
#   sudo hw/install/install.sh --wheel poise-0.1.0-py3-none-any.whl
#
# What it does (each step is idempotent; an existing /etc/poise/device.toml is kept):
#   1. refuses 32-bit Pi OS (armv7l/armv6l: no ai-edge-litert wheel) and Python < 3.11;
#   2. apt-installs python3-venv, python3-pyaudio (PortAudio), python3-lgpio (gpiozero's pin
#      driver), alsa-utils;
#   3. creates the `poise` system user (systemd-sysusers, groups audio, gpio, dialout);
#   4. creates the venv /opt/poise/venv (--system-site-packages, so Debian's PyAudio and lgpio
#      are used) and pip-installs the wheel with the `edge` extra;
#   5. writes /etc/poise/device.toml from the documented example (`python -m edge.settings.docs`);
#   6. installs the udev rules, the ALSA `poise` capture device and the systemd unit, reloads
#      udev and systemd, and enables + starts poise-edge.service.
#
# Options: --wheel FILE (required), --prefix DIR (/opt/poise), --root DIR (stage everything
# under DIR and touch nothing outside it: no apt, no users, no systemctl; used by the tests),
# --no-apt, --no-enable (install but do not enable/start), --find-links DIR and --no-index
# (pip from a local wheelhouse), --isolated-venv (no system site packages: the tests' clean
# room), --python PY (interpreter for the venv, default python3).
set -euo pipefail

die() { echo "install.sh: error: $*" >&2; exit 2; }
say() { echo "install.sh: $*"; }

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
HW="$(cd "$HERE/.." && pwd)"
WHEEL="" PREFIX="/opt/poise" ROOT="" APT=1 ENABLE=1 PYTHON="python3" SITE="--system-site-packages"
PIP_OPTS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --wheel) WHEEL="$2"; shift 2 ;;
        --prefix) PREFIX="$2"; shift 2 ;;
        --root) ROOT="$(realpath -m "$2")"; APT=0; ENABLE=0; shift 2 ;;
        --no-apt) APT=0; shift ;;
        --no-enable) ENABLE=0; shift ;;
        --find-links) PIP_OPTS+=(--find-links "$2"); shift 2 ;;
        --no-index) PIP_OPTS+=(--no-index); shift ;;
        --isolated-venv) SITE=""; shift ;;
        --python) PYTHON="$2"; shift 2 ;;
        -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
done
[ -n "$WHEEL" ] || die "--wheel FILE is required (build it with: make wheel)"
[ -f "$WHEEL" ] || die "wheel not found: $WHEEL"
WHEEL="$(realpath "$WHEEL")"

# 1. platform
ARCH="${POISE_ARCH:-$(uname -m)}"
case "$ARCH" in
    aarch64|x86_64) ;;
    armv7l|armv6l|armhf)
        die "32-bit Raspberry Pi OS ($ARCH) is not supported: the TFLite runtime ai-edge-litert" \
            "has no wheel for it (tflite-runtime would need numpy<2 and an old Python)." \
            "Install Raspberry Pi OS (64-bit) Bookworm or Trixie." ;;
    *) die "unsupported machine $ARCH (64-bit Raspberry Pi OS is aarch64)" ;;
esac
if [ -r "${ROOT}/etc/os-release" ] || [ -r /etc/os-release ]; then
    CODENAME="$(. /etc/os-release; echo "${VERSION_CODENAME:-unknown}")"
    case "$CODENAME" in
        bookworm|trixie) ;;
        *) say "warning: tested on Debian/Raspberry Pi OS bookworm and trixie, this is $CODENAME" ;;
    esac
fi
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "$PYTHON is $("$PYTHON" -V 2>&1); Poise needs Python 3.11 or newer"
if [ -z "$ROOT" ] && [ "$(id -u)" != 0 ]; then
    die "run as root (sudo), or stage into a directory with --root DIR"
fi

# 2. Debian packages
if [ "$APT" = 1 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends python3-venv python3-pyaudio alsa-utils
    if apt-cache show python3-lgpio >/dev/null 2>&1; then
        apt-get install -y -q --no-install-recommends python3-lgpio
    else
        say "warning: python3-lgpio is not packaged here: GPIO cues need it (cues.pin_factory);" \
            "the cue puck (serial) works without it"
    fi
fi

# 3. the service user
install -D -m 0644 "$HW/systemd/poise.sysusers.conf" "$ROOT/etc/sysusers.d/poise.conf"
if [ -z "$ROOT" ]; then
    systemd-sysusers /etc/sysusers.d/poise.conf
fi

# 4. the venv
VENV="$ROOT$PREFIX/venv"
if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV"
    # shellcheck disable=SC2086  # SITE is empty or one flag
    "$PYTHON" -m venv $SITE "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade "${PIP_OPTS[@]}" "$WHEEL[edge]"

# 5. the config, from the documented example (never overwritten)
install -d -m 0755 "$ROOT/etc/poise"
if [ ! -e "$ROOT/etc/poise/device.toml" ]; then
    "$VENV/bin/python" -m edge.settings.docs > "$ROOT/etc/poise/device.toml.new"
    mv "$ROOT/etc/poise/device.toml.new" "$ROOT/etc/poise/device.toml"
    chmod 0644 "$ROOT/etc/poise/device.toml"
    say "wrote /etc/poise/device.toml (every default; edit audio.source and cues.output)"
else
    say "kept the existing /etc/poise/device.toml"
fi

# 6. udev, ALSA, systemd
install -D -m 0644 "$HW/udev/90-poise-audio.rules" "$ROOT/etc/udev/rules.d/90-poise-audio.rules"
install -D -m 0644 "$HW/alsa/asound.conf" "$ROOT/etc/alsa/conf.d/50-poise.conf"
install -d -m 0755 "$ROOT/etc/systemd/system"
sed "s#/opt/poise/venv#$PREFIX/venv#g" "$HW/systemd/poise-edge.service" \
    > "$ROOT/etc/systemd/system/poise-edge.service.new"
mv "$ROOT/etc/systemd/system/poise-edge.service.new" "$ROOT/etc/systemd/system/poise-edge.service"
chmod 0644 "$ROOT/etc/systemd/system/poise-edge.service"
if [ -z "$ROOT" ]; then
    udevadm control --reload-rules && udevadm trigger --subsystem-match=sound || true
    systemctl daemon-reload
    if [ "$ENABLE" = 1 ]; then
        systemctl enable --now poise-edge.service
        say "poise-edge enabled and started (journalctl -u poise-edge -f)"
    fi
    "$VENV/bin/poise" edge check --config /etc/poise/device.toml \
        || say "edge check found problems: fix them, then systemctl restart poise-edge"
fi
say "done: $PREFIX/venv, /etc/poise/device.toml, poise-edge.service"

#!/bin/sh
# govnet offline installer (inside govnet-<version>-offline-<arch>.tar.gz). No network needed:
#   tar xzf govnet-*-offline-$(uname -m).tar.gz && cd govnet-*-offline-$(uname -m)
#   sudo ./install.sh                      # /opt/govnet/venv, /usr/local/bin, /etc/govnet
#   ./install.sh --prefix ~/govnet --bin-dir ~/bin --config-dir ~/.config/govnet \
#                --state-dir ~/.local/share/govnet --no-systemd      # without root
# Steps: check SHA256SUMS, check arch/Python/glibc, create PREFIX/venv, install the wheels with
# pip --no-index --require-hashes, link govnet and govnetd into BIN_DIR, install the systemd
# units and an example config + starter inventory. Existing config, inventory and unit files
# are never overwritten (the new one is written next to it as FILE.new).
# Exit codes: 0 installed; 1 a check failed (nothing installed); 2 bad arguments.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
PREFIX=/opt/govnet
BIN_DIR=/usr/local/bin
CONFIG_DIR=/etc/govnet
STATE_DIR=/var/lib/govnet
SYSTEMD_DIR=/etc/systemd/system
PYTHON=
SYSTEMD=1

usage() {
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
    echo "options: --prefix DIR --bin-dir DIR --config-dir DIR --state-dir DIR"
    echo "         --systemd-dir DIR | --no-systemd   --python PYTHON3.11"
}
die() { echo "install.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) PREFIX=$2; shift 2 ;;
        --bin-dir) BIN_DIR=$2; shift 2 ;;
        --config-dir) CONFIG_DIR=$2; shift 2 ;;
        --state-dir) STATE_DIR=$2; shift 2 ;;
        --systemd-dir) SYSTEMD_DIR=$2; shift 2 ;;
        --no-systemd) SYSTEMD=0; shift ;;
        --python) PYTHON=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "install.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done

info() { sed -n "s/^$1=//p" "$HERE/BUNDLE-INFO"; }
if [ ! -f "$HERE/BUNDLE-INFO" ] || [ ! -f "$HERE/SHA256SUMS" ]; then
    die "run me from the unpacked bundle"
fi
VERSION=$(info version); ARCH=$(info arch); PYVER=$(info python); GLIBC=$(info glibc)

# 1. integrity: every file as built
echo "checking SHA256SUMS ..."
(cd "$HERE" && sha256sum --quiet --strict -c SHA256SUMS) \
    || die "the bundle is damaged or was changed (SHA256SUMS mismatch above); copy it again"

# 2. this machine: arch, Python, glibc
[ "$(uname -m)" = "$ARCH" ] || die "this bundle is for $ARCH, this machine is $(uname -m)"
if [ -z "$PYTHON" ]; then
    for p in "python$PYVER" python3; do
        if command -v "$p" >/dev/null 2>&1 \
            && [ "$("$p" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" = "$PYVER" ]; then
            PYTHON=$p; break
        fi
    done
fi
[ -n "$PYTHON" ] || die "needs Python $PYVER (python$PYVER); pass --python PATH"
have=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])') \
    || die "$PYTHON does not run"
[ "$have" = "$PYVER" ] || die "$PYTHON is Python $have; the wheels are for $PYVER"
if [ "$GLIBC" != any ]; then
    libc=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}')
    [ -n "$libc" ] || die "not a glibc system (the wheels need glibc >= $GLIBC)"
    oldest=$(printf '%s\n%s\n' "$GLIBC" "$libc" | sort -V | head -n 1)
    [ "$oldest" = "$GLIBC" ] || die "glibc $libc is older than the $GLIBC the wheels need"
fi

# 3. the venv, from the bundle's wheels only
echo "installing govnet $VERSION into $PREFIX/venv ..."
mkdir -p "$PREFIX"
"$PYTHON" -m venv "$PREFIX/venv" || die "$PYTHON -m venv failed (Debian/UOS: install python$PYVER-venv)"
PIP="$PREFIX/venv/bin/python -m pip --disable-pip-version-check --no-input"
# whatever pip.conf or the environment say: no index, no other wheel folder
unset PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_FIND_LINKS PIP_CONSTRAINT PIP_REQUIRE_VIRTUALENV
export PIP_CONFIG_FILE=/dev/null PIP_NO_INDEX=1
$PIP install -q --no-index --find-links "$HERE/wheels" --require-hashes -r "$HERE/requirements.txt"
$PIP install -q --no-index --no-deps --force-reinstall "$HERE"/wheels/govnet-"$VERSION"-*.whl
"$PREFIX/venv/bin/govnet" --version >/dev/null || die "govnet does not start"

# 4. commands on PATH
mkdir -p "$BIN_DIR"
for cmd in govnet govnetd; do
    ln -sf "$PREFIX/venv/bin/$cmd" "$BIN_DIR/$cmd"
done

# 5. config and starter inventory, never overwritten
place() {  # place SRC DEST: DEST if absent, else DEST.new
    if [ -e "$2" ]; then
        install -m 644 "$1" "$2.new"; echo "kept $2 (the bundle's copy is $2.new)"
    else
        install -m 644 "$1" "$2"; echo "wrote $2"
    fi
}
mkdir -p "$CONFIG_DIR" "$STATE_DIR"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
sed "s|@STATE_DIR@|$STATE_DIR|g" "$HERE/govnet.yaml.example" > "$tmp"
place "$tmp" "$CONFIG_DIR/govnet.yaml"
place "$HERE/inventory.example.yaml" "$CONFIG_DIR/inventory.yaml"

# 6. systemd units, with this prefix and config
if [ "$SYSTEMD" = 1 ]; then
    mkdir -p "$SYSTEMD_DIR"
    for unit in "$HERE"/contrib/*.service "$HERE"/contrib/*.timer; do
        [ -f "$unit" ] || continue
        sed -e "s|/opt/govnet|$PREFIX|g" -e "s|/etc/govnet|$CONFIG_DIR|g" \
            -e "s|/var/lib/govnet|$STATE_DIR|g" "$unit" > "$tmp"
        place "$tmp" "$SYSTEMD_DIR/$(basename "$unit")"
    done
    if [ "$SYSTEMD_DIR" = /etc/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
        systemctl daemon-reload 2>/dev/null || true
        id govnet >/dev/null 2>&1 || echo "note: the units run as user govnet: useradd -r -s /sbin/nologin govnet && chown govnet $STATE_DIR"
    fi
fi

echo "govnet $VERSION installed: $BIN_DIR/govnet, $BIN_DIR/govnetd, config $CONFIG_DIR/govnet.yaml"
echo "next: edit $CONFIG_DIR/inventory.yaml, then 'govnet inventory validate'"
[ "$CONFIG_DIR" = /etc/govnet ] || echo "      (GOVNET_CONFIG=$CONFIG_DIR/govnet.yaml: govnet reads /etc/govnet and ~/.config/govnet by itself)"

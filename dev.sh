#!/usr/bin/env bash
# onair developer entry point, for a fresh Debian 12 machine or an existing checkout.
#
#   ./dev.sh demo [VIDEO_FILE]   install what is missing, build, run onaird with demo channels
#                                (HLS + DASH served on http://127.0.0.1:8080/)
#   ./dev.sh test                install what is missing, build, run every test suite
#
# Environment (all optional):
#   ONAIR_BUILD_DIR  build directory (default: build, next to this script)
#   ONAIR_PORT       demo HTTP port (default: 8080)
#   ONAIR_DEMO_DIR   demo state: database, media, tokens (default: demo-state, next to this script)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD_DIR=${ONAIR_BUILD_DIR:-$ROOT/build}
NODE_DIR=$ROOT/tests/node

# What building and running the plugin needs (newsflash: Pango and cairo, and
# fonts for Latin, Hebrew and Arabic text and colour emoji; abrsink: TagLib for
# the ID3 tags of timed metadata; liveinput's slate card and test-card's clock:
# textoverlay and clockoverlay, GStreamer's Pango plugin, which Debian ships in
# gstreamer1.0-x).
BUILD_PACKAGES=(
  meson ninja-build pkg-config g++
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev libxml2-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-x libswscale-dev libavutil-dev ffmpeg python3 clang-format
  libsoup-3.0-dev libjson-glib-dev libpq-dev postgresql libtag1-dev
  libpango1.0-dev libcairo2-dev fonts-dejavu-core fonts-noto-color-emoji
)
# What the tests need on top: Node.js for the manifest parsers and the browser
# test, which drives Debian's Chromium (fonts so that pages render); nginx with
# the RTMP module, the peer of the ingest benchmark (it starts its own nginx on
# loopback; the package's system service is not used); wrk, the load generator
# of the REST benchmark.
TEST_PACKAGES=(nodejs npm chromium fonts-dejavu-core nginx libnginx-mod-rtmp wrk)

log() {
  if [ -t 2 ]; then
    printf '\033[1m==> %s\033[0m\n' "$*" >&2
  else
    printf '==> %s\n' "$*" >&2
  fi
}
die() {
  printf 'dev.sh: %s\n' "$*" >&2
  exit 1
}

usage() {
  sed -n '2,11s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
}

package_installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
}

# Some machines carry Node.js from elsewhere (e.g. a nodejs build that bundles npm
# and conflicts with Debian's npm package): a working command is enough then.
package_satisfied() {
  case "$1" in
    nodejs) command -v node >/dev/null 2>&1 && return 0 ;;
    npm) command -v npm >/dev/null 2>&1 && return 0 ;;
  esac
  package_installed "$1"
}

install_packages() {
  local missing=() package
  for package in "$@"; do
    package_satisfied "$package" || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0

  command -v apt-get >/dev/null 2>&1 ||
    die "missing packages (${missing[*]}) and no apt-get: this script expects Debian 12"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "missing packages (${missing[*]}): run as root or install sudo"
    sudo=(sudo)
  fi
  log "installing Debian packages: ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}

install_node_modules() {
  # npm writes node_modules/.package-lock.json on every install: an older one means
  # the committed lock file changed since.
  if [ ! -f "$NODE_DIR/node_modules/.package-lock.json" ] ||
    [ "$NODE_DIR/package-lock.json" -nt "$NODE_DIR/node_modules/.package-lock.json" ]; then
    log "installing npm packages in tests/node"
    (cd "$NODE_DIR" && npm ci --no-audit --no-fund)
  fi
}

build() {
  cd "$ROOT"
  if [ ! -f "$BUILD_DIR/build.ninja" ]; then
    if [ -f "$BUILD_DIR/meson-private/cmd_line.txt" ]; then
      log "reconfiguring $BUILD_DIR (its last setup did not finish)"
      meson setup --wipe "$BUILD_DIR"
    else
      log "configuring $BUILD_DIR"
      meson setup "$BUILD_DIR"
    fi
  fi
  log "building"
  meson compile -C "$BUILD_DIR"
}

command_test() {
  install_packages "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
  install_node_modules
  build
  log "running tests"
  local status=0
  meson test -C "$BUILD_DIR" --print-errorlogs --num-processes 2 || status=$?
  return "$status"
}

command_demo() {
  install_packages "${BUILD_PACKAGES[@]}"
  build
  export ONAIR_BUILD_DIR=$BUILD_DIR
  exec "$ROOT/scripts/demo.sh" "$@"
}

main() {
  local command=${1:-}
  [ $# -gt 0 ] && shift
  case "$command" in
    demo)
      [ $# -le 1 ] || {
        usage
        exit 2
      }
      command_demo "$@"
      ;;
    test)
      [ $# -eq 0 ] || {
        usage
        exit 2
      }
      command_test
      ;;
    -h | --help | help)
      usage
      ;;
    *)
      usage
      exit 2
      ;;
  esac
}

main "$@"

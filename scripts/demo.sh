#!/usr/bin/env bash
# Runs onaird with a demo channel on its embedded PostgreSQL and prints the
# URLs to play and to call. Normally started through `./dev.sh demo
# [VIDEO_FILE]`, which builds first.
#
#   scripts/demo.sh [VIDEO_FILE]
#
# Two channels are made on the first run (the state directory keeps them,
# and the daemon starts them again on the next):
#   demo    the test card (a test pattern with a clock and ticks), live at once;
#   studio  an RTMP input for OBS or ffmpeg, on the slate until someone
#           publishes. With VIDEO_FILE, ffmpeg publishes the file to it in a loop.
# A player page for the demo channel is served next to the daemon. Ctrl-C
# stops onaird, which ends the broadcasts cleanly and stops PostgreSQL.
#
# Environment: ONAIR_BUILD_DIR (default build), ONAIR_PORT (the API, default
# 8080; the player page is on ONAIR_PORT + 1), ONAIR_RTMP_PORT (default 1935),
# ONAIR_DEMO_DIR (the daemon's state, default demo-state).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${ONAIR_BUILD_DIR:-$ROOT/build}
PORT=${ONAIR_PORT:-8080}
PAGE_PORT=$((PORT + 1))
RTMP_PORT=${ONAIR_RTMP_PORT:-1935}
STATE=${ONAIR_DEMO_DIR:-$ROOT/demo-state}
ONAIRD=$BUILD_DIR/daemon/onaird

# shellcheck source=demo-common.sh
. "$ROOT/scripts/demo-common.sh"

[ $# -le 1 ] || die "usage: scripts/demo.sh [VIDEO_FILE]"
[ -x "$ONAIRD" ] || die "$ONAIRD not built: run ./dev.sh demo"
[ -f "$BUILD_DIR/plugins/libgstonair.so" ] || die "$BUILD_DIR/plugins/libgstonair.so not built: run ./dev.sh demo"
VIDEO_FILE=
if [ $# -eq 1 ]; then
  [ -f "$1" ] || die "no such file: $1"
  VIDEO_FILE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
fi

mkdir -p "$STATE"
STATE=$(cd "$STATE" && pwd)
PAGE=$STATE/player
mkdir -p "$PAGE"
install_player_page "$PAGE"

daemon_pid=
page_pid=
publisher_pid=
interrupted=0
stop_all() {
  trap - INT TERM HUP EXIT
  for pid in "$publisher_pid" "$page_pid"; do
    process_alive "$pid" && kill -TERM "$pid" 2>/dev/null || true
  done
  if process_alive "$daemon_pid"; then
    say "demo: stopping onaird (ending the broadcasts, stopping PostgreSQL)..."
    kill -TERM "$daemon_pid" 2>/dev/null || true
    wait_for_exit "$daemon_pid" 300 || kill -KILL "$daemon_pid" 2>/dev/null || true
  fi
  wait 2>/dev/null || true
}
trap 'interrupted=1' INT TERM HUP
trap '' PIPE
trap stop_all EXIT

# Children run in their own session: Ctrl-C reaches this script only, which
# then stops each of them once.
GST_PLUGIN_PATH="$BUILD_DIR/plugins${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}" \
  ONAIRD_MIGRATIONS_DIR="$ROOT/schemas/postgres" ONAIRD_PIPELINES_DIR="$ROOT/pipelines" \
  setsid "$ONAIRD" --state "$STATE" --listen 127.0.0.1 --port "$PORT" --rtmp-port "$RTMP_PORT" </dev/null &
daemon_pid=$!
setsid python3 "$ROOT/scripts/serve.py" "$PAGE" --bind 127.0.0.1 --port "$PAGE_PORT" </dev/null >/dev/null 2>&1 &
page_pid=$!

# The API answers once the database is up; the first run makes an admin token.
for _ in $(seq 1 1200); do
  [ "$interrupted" -eq 1 ] && exit 130
  process_alive "$daemon_pid" || die "onaird stopped; see its messages above (is port $PORT in use? set ONAIR_PORT)"
  if [ -f "$STATE/admin.token" ] && python3 - "$PORT" <<'PY' 2>/dev/null; then break; fi
import sys, urllib.request
urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=2)
PY
  sleep 0.1
done
TOKEN=$(cat "$STATE/admin.token")

# Makes the demo channels unless they exist, waits for the demo channel to go
# live, and prints what to play and to call. Prints shell assignments last.
eval "$(python3 - "$PORT" "$PAGE_PORT" "$TOKEN" "$STATE" <<'PY'
import json, shlex, sys, time, urllib.error, urllib.parse, urllib.request
port, page_port, token, state = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
base = f"http://127.0.0.1:{port}"

def call(method, path, body=None):
    request = urllib.request.Request(base + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        sys.exit(f"demo: {method} {path}: {error.code} {error.read().decode()}")

channels = {c["name"]: c for c in call("GET", "/api/v1/channels")["items"]}
if "demo" not in channels:
    channels["demo"] = call("POST", "/api/v1/channels", {
        "name": "demo", "pipeline": "test-card", "start": True,
        "parameters": {"channel-name": "onair demo", "ladder": "720p:2800,360p:800,144p:200"}})
if "studio" not in channels:
    channels["studio"] = call("POST", "/api/v1/channels", {
        "name": "studio", "pipeline": "live-abr", "start": True,
        "parameters": {"channel-name": "onair studio", "ladder": "720p:2800,360p:800,144p:200"}})
for name in ("demo", "studio"):
    if channels[name]["desired_state"] != "running":
        channels[name] = call("POST", f"/api/v1/channels/{channels[name]['id']}/start")

deadline = time.time() + 120
demo = call("GET", f"/api/v1/channels/{channels['demo']['id']}")
while demo["state"] not in ("live", "degraded") and time.time() < deadline:
    time.sleep(0.5)
    demo = call("GET", f"/api/v1/channels/{demo['id']}")
studio = call("GET", f"/api/v1/channels/{channels['studio']['id']}")

def page(channel):
    if not channel["playback"]:
        return "(not on air yet)"
    query = urllib.parse.urlencode({"hls": channel["playback"]["hls"], "dash": channel["playback"]["dash"]})
    return f"http://127.0.0.1:{page_port}/index.html?{query}"

print(f"""
  onair demo: onaird is running (state, media and database in the state directory)
    demo channel ({demo['state']}) — a test card
      player page : {page(demo)}
      HLS         : {demo['playback']['hls'] if demo['playback'] else '-'}
      DASH        : {demo['playback']['dash'] if demo['playback'] else '-'}
    studio channel ({studio['state']}) — publish with OBS or ffmpeg to
      {studio['publish_url']}
      player page : {page(studio)}
    REST API: {base}/api/v1 (contract: schemas/openapi.yaml), e.g.
      curl -H "Authorization: Bearer $(cat {state}/admin.token)" {base}/api/v1/channels
  Press Ctrl-C to stop.
""", file=sys.stderr)
print(f"STUDIO_URL={shlex.quote(studio['publish_url'] or '')}")
PY
)"

if [ -n "$VIDEO_FILE" ]; then
  say "demo: publishing $VIDEO_FILE to the studio channel in a loop (ffmpeg)"
  setsid ffmpeg -hide_banner -loglevel error -re -stream_loop -1 -i "$VIDEO_FILE" \
    -c:v libx264 -preset veryfast -tune zerolatency -g 60 -c:a aac -ar 48000 -f flv "$STUDIO_URL" </dev/null &
  publisher_pid=$!
fi

while [ "$interrupted" -eq 0 ] && process_alive "$daemon_pid"; do
  sleep 0.5
done
[ "$interrupted" -eq 1 ] || say "demo: onaird stopped by itself; see its messages above"
stop_all
say "demo: stopped; the channels, media and database stay in $STATE (./dev.sh demo starts them again)"

#!/usr/bin/env bash
# Runs a live ABR ladder with the freshly built plugin and plain gst-launch-1.0
# (no daemon) and serves it as HLS and DASH. Build first (./dev.sh demo builds).
#
#   scripts/demo-gst-launch.sh [VIDEO_FILE]
#
# Without VIDEO_FILE the source is a live test pattern with a clock and ticks;
# with it, the file is played once in real time. Ctrl-C ends the stream cleanly
# (EOS, so the playlists are finished) and stops the server.
#
# Environment: ONAIR_BUILD_DIR (default build), ONAIR_PORT (default 8080),
#              ONAIR_DEMO_DIR (default demo-output).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${ONAIR_BUILD_DIR:-$ROOT/build}
PORT=${ONAIR_PORT:-8080}
OUT=${ONAIR_DEMO_DIR:-$ROOT/demo-output}
MARKER=.onair-demo

# shellcheck source=demo-common.sh
. "$ROOT/scripts/demo-common.sh"

[ $# -le 1 ] || die "usage: scripts/demo-gst-launch.sh [VIDEO_FILE]"
[ -f "$BUILD_DIR/plugins/libgstonair.so" ] || die "$BUILD_DIR/plugins/libgstonair.so not built: run ./dev.sh demo"
command -v gst-launch-1.0 >/dev/null || die "gst-launch-1.0 not found: run ./dev.sh demo"

# Start from an empty output directory, but never wipe a directory we did not make.
if [ -e "$OUT" ]; then
  if [ -f "$OUT/$MARKER" ] || [ -z "$(ls -A "$OUT")" ]; then
    rm -rf "${OUT:?}"
  else
    die "$OUT exists and is not a previous demo output; remove it or set ONAIR_DEMO_DIR"
  fi
fi
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
touch "$OUT/$MARKER"

install_player_page "$OUT"

# Each word of the pipeline is its own argument, so paths with spaces survive.
if [ $# -eq 1 ]; then
  [ -f "$1" ] || die "no such file: $1"
  uri=$(python3 -c 'import pathlib, sys; print(pathlib.Path(sys.argv[1]).resolve().as_uri())' "$1")
  has_audio=$(ffprobe -v error -select_streams a -show_entries stream=index -of csv=p=0 "$1" | head -n 1 || true)
  # clocksync after decoding: the file plays in real time, as a live source would.
  pipeline=(
    uridecodebin "uri=$uri" name=d
    d. ! queue ! videoconvert ! clocksync ! abrladder name=l
    ! abrsink "location=$OUT" mode=live
  )
  if [ -n "$has_audio" ]; then
    pipeline+=(d. ! queue ! audioconvert ! audioresample ! clocksync ! l.audio)
  else
    echo "demo: $1 has no audio stream; the stream will be video only"
  fi
  source_name=$1
else
  pipeline=(
    videotestsrc is-live=true pattern=smpte
    ! 'video/x-raw,width=1280,height=720,framerate=30/1' ! clockoverlay
    ! abrladder name=l 'ladder=720p:2800,480p:1400,360p:800,144p:200'
    ! abrsink "location=$OUT" mode=live
    audiotestsrc is-live=true wave=ticks ! l.audio
  )
  source_name="test pattern (videotestsrc + audiotestsrc)"
fi

gst_pid=
server_pid=
interrupted=0

stop_all() {
  trap - INT TERM HUP EXIT
  if process_alive "$gst_pid"; then
    say "demo: sending EOS to the pipeline (finishing playlists)..."
    kill -INT "$gst_pid" 2>/dev/null || true
    if ! wait_for_exit "$gst_pid" 150; then
      say "demo: pipeline did not stop after EOS; terminating it"
      kill -TERM "$gst_pid" 2>/dev/null || true
      wait_for_exit "$gst_pid" 30 || kill -KILL "$gst_pid" 2>/dev/null || true
    fi
  fi
  if process_alive "$server_pid"; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait_for_exit "$server_pid" 30 || kill -KILL "$server_pid" 2>/dev/null || true
  fi
  wait 2>/dev/null || true
}
trap 'interrupted=1' INT TERM HUP
trap '' PIPE
trap stop_all EXIT

# Both children run in their own session: a Ctrl-C in the terminal reaches only
# this script, which then sends exactly one SIGINT to gst-launch (with -e, a
# second one would abort the EOS).
setsid python3 "$ROOT/scripts/serve.py" "$OUT" --bind 127.0.0.1 --port "$PORT" </dev/null &
server_pid=$!
sleep 0.5
process_alive "$server_pid" || die "the HTTP server did not start (is port $PORT in use? set ONAIR_PORT)"

echo "demo: source: $source_name"
echo "demo: gst-launch-1.0 -e ${pipeline[*]}"
GST_PLUGIN_PATH="$BUILD_DIR/plugins${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}" \
  setsid gst-launch-1.0 -e "${pipeline[@]}" </dev/null &
gst_pid=$!

# Wait for the first playlists before advertising them.
for _ in $(seq 1 300); do
  [ -f "$OUT/master.m3u8" ] || [ -f "$OUT/manifest.mpd" ] && break
  [ "$interrupted" -eq 1 ] && break
  process_alive "$gst_pid" || break
  sleep 0.1
done

base=http://127.0.0.1:$PORT
cat <<EOF

  onair demo is running (output in $OUT)
    player page : $base/index.html
    HLS         : $base/master.m3u8
    DASH        : $base/manifest.mpd
  Press Ctrl-C to stop.

EOF

gst_status=0
while [ "$interrupted" -eq 0 ] && process_alive "$gst_pid"; do
  wait "$gst_pid" || gst_status=$?
done

if [ "$interrupted" -eq 0 ]; then
  # The pipeline ended by itself: the file was played to the end, or an error.
  if [ "$gst_status" -ne 0 ]; then
    echo "demo: gst-launch-1.0 failed (exit $gst_status); see its messages above" >&2
    exit "$gst_status"
  fi
  say "demo: the stream has ended; still serving $OUT. Press Ctrl-C to stop."
  while [ "$interrupted" -eq 0 ] && process_alive "$server_pid"; do
    wait "$server_pid" || true
  done
fi
say
stop_all
say "demo: stopped; the output stays in $OUT"

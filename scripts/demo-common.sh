# What both demos share (sourced by scripts/demo.sh and scripts/demo-gst-launch.sh):
# messages, waiting for children, and the player page. Needs ROOT set.

die() {
  printf 'demo: %s\n' "$*" >&2
  exit 1
}
# Output may go to a pipe that is gone (a closed terminal, `| tee` after Ctrl-C);
# never let that stop the clean-up.
say() { printf '%s\n' "$*" 2>/dev/null || true; }

process_alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

# Waits up to $2 tenths of a second for process $1 to end.
wait_for_exit() {
  local pid=$1 tenths=$2
  while [ "$tenths" -gt 0 ] && process_alive "$pid"; do
    sleep 0.1
    tenths=$((tenths - 1))
  done
  ! process_alive "$pid"
}

# The player page as $1/index.html, with hls.js / dash.js next to it when the
# test packages are installed (./dev.sh test installs them).
install_player_page() {
  local dir=$1 node_modules=$ROOT/tests/node/node_modules candidate
  cp "$ROOT/scripts/demo-player.html" "$dir/index.html"
  [ -d "$node_modules" ] || return 0
  cp "$node_modules/hls.js/dist/hls.min.js" "$dir/" 2>/dev/null || true
  for candidate in dist/modern/umd/dash.all.min.js dist/dash.all.min.js; do
    if [ -f "$node_modules/dashjs/$candidate" ]; then
      cp "$node_modules/dashjs/$candidate" "$dir/"
      break
    fi
  done
}

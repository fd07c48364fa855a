#!/bin/sh
# Usage: pg-watchdog.sh DIR, with standard input a pipe that the test process
# holds open and never writes to.
#
# The daemon tests start PostgreSQL servers under DIR. pg_ctl puts each in a
# session of its own, so nothing stops them when the test process dies: not
# a failed assertion (abort), not meson killing a test that timed out. This
# watchdog, in its own session too, waits for the pipe to close (the test
# process is gone, however it went), then stops every server whose data
# directory is under DIR and removes DIR.
dir=$1
[ -n "$dir" ] || exit 2
cat >/dev/null

pids=
for pidfile in $(find "$dir" -name postmaster.pid 2>/dev/null); do
  pid=$(head -n 1 "$pidfile" 2>/dev/null)
  # Only a postgres process: a stale pid file may name anything.
  if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = postgres ]; then
    kill -QUIT "$pid" 2>/dev/null && pids="$pids $pid"
  fi
done

# An immediate shutdown takes a moment; then no mercy.
tries=0
while [ -n "$pids" ] && [ $tries -lt 100 ]; do
  alive=
  for pid in $pids; do
    kill -0 "$pid" 2>/dev/null && alive="$alive $pid"
  done
  pids=$alive
  [ -n "$pids" ] && sleep 0.1
  tries=$((tries + 1))
done
for pid in $pids; do
  kill -KILL "$pid" 2>/dev/null
done
sleep 0.2
rm -rf "$dir"

#!/usr/bin/env python3
# onair — onaird's channels end to end: the real daemon (embedded PostgreSQL
# in a scratch state directory, free loopback ports) runs pipelines from a
# scratch directory holding the shipped files and the test-only ones of
# tests/data/daemon-pipelines. Checks, through the REST API and the signed
# media URLs:
#   - bad input: unknown pipeline or parameter, a daemon-set parameter, a
#     wrong type (422 naming the field), no token (401), a viewer (403);
#   - a test card goes live, has stats, and its signed HLS is served (a
#     tampered or expired signature is refused);
#   - a pipeline that cannot be built fails with the element named and is
#     restarted with back-off, while the test card stays live;
#   - a TCP input whose server is killed: the channel fails, and is live
#     again (a new broadcast) once the server is back;
#   - RTMP publishes checked against the database: the right key goes live,
#     a wrong one is refused, a rotated key refuses the old one;
#   - stop: the broadcast ends and its playlist gets #EXT-X-ENDLIST;
#   - the daemon stopped by SIGTERM and started again on the same state:
#     the channels meant to run come back, stopped ones stay stopped, the
#     comments are kept.
# Prints TAP. SPDX-License-Identifier: LGPL-2.1-or-later

import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from checks import failures, free_port, note, tap, tap_finish  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.environ.get("ONAIR_SOURCE_ROOT", os.path.join(HERE, "..", ".."))
BUILD_ROOT = os.environ.get("ONAIR_BUILD_ROOT", os.path.join(SOURCE_ROOT, "build"))
ONAIRD = os.environ.get("ONAIRD", os.path.join(BUILD_ROOT, "daemon", "onaird"))
PG_BIN = "/usr/lib/postgresql/15/bin"

# Tiny pictures, one rung: several channels run at once on a loaded machine.
SMALL = {"width": 320, "height": 180, "ladder": "180p:300", "speed-preset": "ultrafast", "gop-duration": "1s"}


class Fatal(Exception):
    pass


class Daemon:
    """onaird on a state directory; its log goes to STATE/../onaird-N.log."""

    def __init__(self, state, pipelines, work):
        self.state = state
        self.pipelines = pipelines
        self.work = work
        self.port = free_port()
        self.rtmp_port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = None
        self.runs = 0
        self.token = None

    def start(self):
        self.runs += 1
        self.log_path = os.path.join(self.work, f"onaird-{self.runs}.log")
        env = dict(os.environ)
        env["ONAIRD_MIGRATIONS_DIR"] = os.path.join(SOURCE_ROOT, "schemas", "postgres")
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [ONAIRD, "--state", self.state, "--port", str(self.port), "--listen", "127.0.0.1",
             "--pipelines", self.pipelines, "--rtmp-port", str(self.rtmp_port)],
            env=env, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 180
        while True:
            if self.process.poll() is not None:
                raise Fatal(f"onaird exited ({self.process.returncode}) before it served:\n{self.tail()}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=5) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise Fatal("onaird did not become healthy within 180 s:\n" + self.tail())
            time.sleep(0.2)
        token_file = os.path.join(self.state, "admin.token")
        while not os.path.exists(token_file) or not open(token_file).read().strip():
            if time.monotonic() > deadline:
                raise Fatal(f"onaird wrote no {token_file}")
            time.sleep(0.1)
        self.token = open(token_file).read().strip()

    def terminate(self, seconds=30):
        """SIGTERM; the exit status, or None if it did not exit in time."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(seconds)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        """SIGKILL, then the embedded cluster is stopped by hand."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
            subprocess.run(["runuser", "-u", "postgres", "--", PG_BIN + "/pg_ctl", "-D",
                            os.path.join(self.state, "pg", "data"), "stop", "-m", "immediate"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def tail(self, n=30):
        try:
            with open(self.log_path) as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def call(self, method, path, body=None, token=None):
        """(status, content type, parsed JSON or bytes) of a request to onaird;
        `token` None means the admin token, "" none."""
        token = self.token if token is None else token
        url = path if path.startswith("http") else self.base + path
        data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
        request = urllib.request.Request(url, data=data, method=method)
        if body is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, headers, raw = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, headers, raw = error.code, error.headers, error.read()
        kind = headers.get("Content-Type", "") or ""
        if "json" in kind and raw:
            try:
                return status, kind, json.loads(raw)
            except ValueError:
                pass
        return status, kind, raw

    def channel(self, id):
        status, _, body = self.call("GET", f"/api/v1/channels/{id}")
        if status != 200:
            raise Fatal(f"GET channel {id}: {status} {body}")
        return body


def wait_row(daemon, path, accept, seconds, what):
    """Polls GET path until it answers 200 with a row accept(row) holds; the
    last row seen and whether it held."""
    deadline = time.monotonic() + seconds
    while True:
        status, _, row = daemon.call("GET", path)
        if status == 200 and accept(row):
            return row, True
        if time.monotonic() > deadline:
            note(f"{what}: last seen {status} {json.dumps(row)[:800]}")
            return row, False
        time.sleep(0.5)


def wait_channel(daemon, id, accept, seconds, what):
    """Polls the channel until accept(channel) holds; the last one seen and
    whether it held."""
    deadline = time.monotonic() + seconds
    channel = daemon.channel(id)
    while not accept(channel):
        if time.monotonic() > deadline:
            note(f"{what}: not within {seconds} s; last seen: " + json.dumps(channel)[:1500])
            return channel, False
        if daemon.process.poll() is not None:
            raise Fatal(f"onaird exited ({daemon.process.returncode}):\n{daemon.tail()}")
        time.sleep(0.5)
        channel = daemon.channel(id)
    return channel, True


def state_is(*states):
    return lambda channel: channel.get("state") in states


def field_names(body):
    if not isinstance(body, dict):
        return []
    return [error.get("field") for error in body.get("errors", [])]


def local(url):
    """A playback URL made relative to onaird (the public base may differ)."""
    parts = urllib.parse.urlsplit(url)
    return parts.path + (("?" + parts.query) if parts.query else "")


def media_playlists(daemon, master_path):
    """The media playlists a master playlist names, as paths on onaird."""
    status, _, body = daemon.call("GET", master_path, token="")
    if status != 200:
        return []
    text = body.decode(errors="replace") if isinstance(body, bytes) else str(body)
    uris = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    uris += re.findall(r'URI="([^"]+)"', text)
    return [urllib.parse.urljoin(master_path, uri) for uri in uris if ".m3u8" in uri]


def publish(port, key, seconds, log_path, application="live"):
    log = open(log_path, "w")
    return subprocess.Popen(
        ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning", "-re",
         "-f", "lavfi", "-i", "testsrc=size=320x180:rate=30",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
         "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-f", "flv", f"rtmp://127.0.0.1:{port}/{application}/{key}"],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)


def ts_producer(port, log_path):
    log = open(log_path, "w")
    return subprocess.Popen(
        ["gst-launch-1.0", "-q", "videotestsrc", "is-live=true", "!",
         "video/x-raw,width=320,height=180,framerate=30/1", "!",
         "x264enc", "tune=zerolatency", "speed-preset=ultrafast", "key-int-max=30", "!",
         "mpegtsmux", "!", "tcpserversink", "host=127.0.0.1", f"port={port}"],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)


def wait_listening(port, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def stop_process(process, seconds=10):
    if process is not None and process.poll() is None:
        process.kill()
        try:
            process.wait(seconds)
        except subprocess.TimeoutExpired:
            pass


def create(daemon, name, pipeline, parameters, start=True, token=None):
    return daemon.call("POST", "/api/v1/channels",
                       {"name": name, "pipeline": pipeline, "parameters": parameters, "start": start}, token)


def test_bad_input(daemon):
    status, kind, body = create(daemon, "x", "no-such-pipeline", {})
    tap(status == 422 and "pipeline" in field_names(body) and "problem+json" in kind,
        "unknown pipeline: 422 problem+json naming pipeline", f"{status} {kind} {body}")
    status, _, body = create(daemon, "x", "test-card", {"no-such-parameter": 1})
    tap(status == 422 and "parameters.no-such-parameter" in field_names(body),
        "unknown parameter: 422 naming parameters.no-such-parameter", f"{status} {body}")
    status, _, body = create(daemon, "x", "test-card", {"output": "/tmp/elsewhere"})
    tap(status == 422 and "parameters.output" in field_names(body),
        "parameters.output (set by the daemon): 422 naming it", f"{status} {body}")
    status, _, body = create(daemon, "x", "test-card", {"width": "x"})
    tap(status == 422 and "parameters.width" in field_names(body),
        "width \"x\": 422 naming parameters.width", f"{status} {body}")
    status, _, body = create(daemon, "x", "live-abr", {"stream-key": "mine"})
    tap(status == 422 and "parameters.stream-key" in field_names(body),
        "parameters.stream-key (set by the daemon): 422 naming it", f"{status} {body}")
    status, _, body = create(daemon, "x", "test-card", {}, token="")
    tap(status == 401, "no token: 401", f"{status} {body}")
    status, _, viewer = daemon.call("POST", "/api/v1/tokens", {"name": "viewer", "role": "viewer"})
    tap(status == 201 and isinstance(viewer, dict) and viewer.get("token"), "a viewer token is made",
        f"{status} {viewer}")
    viewer_token = viewer.get("token") if isinstance(viewer, dict) else "none"
    status, _, body = create(daemon, "x", "test-card", {}, token=viewer_token)
    tap(status == 403, "viewer token: 403", f"{status} {body}")
    status, _, body = daemon.call("GET", "/api/v1/channels")
    tap(status == 200 and body.get("items") == [], "no channel was made by the refused requests",
        f"{status} {body}")
    return viewer_token


def test_card_live(daemon):
    parameters = dict(SMALL)
    status, _, card = create(daemon, "card", "test-card", parameters)
    if not tap(status == 201 and isinstance(card, dict), "test-card channel created: 201", f"{status} {card}"):
        raise Fatal("cannot go on without the test-card channel")
    tap(card.get("desired_state") == "running", "desired_state is running", card)
    card, live = wait_channel(daemon, card["id"], state_is("live"), 60, "test card live")
    tap(live, "the test card is live within 60 s", json.dumps(card)[:1000])
    # stats are refreshed every second: wait for a refresh after going live
    card, ok = wait_channel(daemon, card["id"], lambda c: (c.get("stats") or {}).get("fps", 0) > 0 and
                            (c.get("stats") or {}).get("renditions"), 10, "fps and renditions")
    stats = card.get("stats") or {}
    tap(ok and stats.get("fps", 0) > 0, f"stats.fps > 0 ({stats.get('fps')})", stats)
    tap(len(stats.get("renditions") or []) > 0, f"stats.renditions non-empty ({stats.get('renditions')})", stats)
    tap(card.get("video_id") and card.get("playback"), "a live video with playback URLs", card)
    playback = card.get("playback") or {}
    master = local(playback.get("hls", ""))
    status, kind, body = daemon.call("GET", master, token="")
    tap(status == 200 and kind.startswith("application/vnd.apple.mpegurl"),
        f"the signed master playlist: 200 {kind}", f"{master}: {status} {kind} {body[:300]}")
    playlists = media_playlists(daemon, master)
    tap(len(playlists) > 0, f"the master names media playlists ({len(playlists)})", body[:500])
    if playlists:
        status, kind, body = daemon.call("GET", playlists[0], token="")
        tap(status == 200 and kind.startswith("application/vnd.apple.mpegurl") and b"#EXTINF" in body,
            "its media playlist: 200, with segments", f"{playlists[0]}: {status} {kind} {body[:300]}")
    # /media/s/{exp}/{sig}/...
    parts = master.split("/")
    ok = len(parts) > 5 and parts[1] == "media" and parts[2] == "s"
    tap(ok, "the playback URL is /media/s/EXP/SIG/...", master)
    if ok:
        signature = parts[4]
        flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
        tampered = "/".join(parts[:4] + [flipped] + parts[5:])
        status, _, body = daemon.call("GET", tampered, token="")
        tap(status == 403, "a tampered signature: 403", f"{status} {body}")
        expired = "/".join(parts[:3] + [str(int(time.time()) - 3600)] + parts[4:])
        status, _, body = daemon.call("GET", expired, token="")
        tap(status == 403, "an expiry moved to the past: 403", f"{status} {body}")
    return card


def test_events_and_metrics(daemon, card):
    """channel.state events on the SSE stream (replayed from the hub's buffer),
    and the channels by state in /metrics."""
    request = urllib.request.Request(daemon.base + "/api/v1/events?types=channel&last_event_id=0",
                                     headers={"Authorization": "Bearer " + daemon.token})
    seen = []
    try:
        with urllib.request.urlopen(request, timeout=5) as stream:
            event = {}
            deadline = time.time() + 5
            while time.time() < deadline:
                line = stream.readline().decode().rstrip("\n")
                if line.startswith("event:"):
                    event["type"] = line[6:].strip()
                elif line.startswith("data:"):
                    event["data"] = json.loads(line[5:])
                elif line == "" and event:
                    seen.append(event)
                    event = {}
                    if any(e.get("type") == "channel.state" and e["data"].get("id") == card["id"] and
                           e["data"].get("state") == "live" for e in seen):
                        break
    except (OSError, ValueError) as error:
        note(f"event stream: {error}")
    states = [(e["data"].get("previous"), e["data"].get("state")) for e in seen
              if e.get("type") == "channel.state" and e["data"].get("id") == card["id"]]
    tap(("starting", "live") in states, f"the event stream told the card's starting -> live ({states})", seen[:10])
    status, kind, body = daemon.call("GET", "/metrics", token="")
    text = body.decode() if isinstance(body, bytes) else str(body)
    live = [line for line in text.splitlines() if line.startswith('onair_channels{state="live"}')]
    tap(status == 200 and live and float(live[0].split()[-1]) >= 1,
        f"/metrics counts the live channels ({live})", text[:500])
    # per channel: the test card's frames, and its reactions element's frames
    # and CPU time (refreshed every second)
    values = {}
    for name in ("onair_channel_frames_total", "onair_reactions_frames_total",
                 "onair_reactions_processing_seconds_total", "onair_channel_dropped_frames_total"):
        lines = [line for line in text.splitlines() if line.startswith(f'{name}{{channel="{card["id"]}"}}')]
        values[name] = float(lines[0].split()[-1]) if lines else None
    tap(values["onair_channel_frames_total"] and values["onair_reactions_frames_total"]
        and values["onair_reactions_processing_seconds_total"] and values["onair_channel_dropped_frames_total"] is not None
        and 0 < values["onair_reactions_processing_seconds_total"] / values["onair_reactions_frames_total"] < 1,
        f"/metrics has the card's frames and its reactions element's CPU per frame ({values})", text[-1500:])


def test_broken(daemon, card):
    status, _, broken = create(daemon, "broken", "broken", {"width": 320})
    if not tap(status == 201, "a channel on a pipeline that cannot be built is created: 201",
               f"{status} {broken}"):
        return None
    broken, ok = wait_channel(daemon, broken["id"], state_is("failed"), 30, "broken failed")
    tap(ok, "it is failed", broken)
    tap("onairnosuchelement" in (broken.get("last_error") or ""),
        f"last_error names the missing element: {broken.get('last_error')}", broken)
    first = (broken.get("stats") or {}).get("restarts", 0)
    frames_before = (daemon.channel(card["id"]).get("stats") or {}).get("frames", 0)
    started = time.monotonic()
    time.sleep(16)
    broken = daemon.channel(broken["id"])
    later = (broken.get("stats") or {}).get("restarts", 0)
    elapsed = time.monotonic() - started
    tap(later > first, f"stats.restarts grows ({first} -> {later} in {elapsed:.0f} s)", broken)
    # 1 s, 2 s, 4 s, 8 s...: a few restarts, not one a second
    tap(later <= 6, f"restarts back off ({later} restarts, a tight loop would be about {int(elapsed)})",
        broken)
    tap(broken.get("state") in ("failed", "starting"), f"it stays failed ({broken.get('state')})", broken)
    card = daemon.channel(card["id"])
    frames_after = (card.get("stats") or {}).get("frames", 0)
    tap(card.get("state") == "live", f"the test card is still live ({card.get('state')})", card)
    tap(frames_after > frames_before, f"its frames keep increasing ({frames_before} -> {frames_after})",
        card.get("stats"))
    return broken


def test_tcp_input(daemon, work):
    port = free_port()
    producer = ts_producer(port, os.path.join(work, "producer-1.log"))
    try:
        tap(wait_listening(port, 20), "the MPEG-TS producer listens")
        parameters = {key: value for key, value in SMALL.items()}
        parameters["port"] = port
        status, _, channel = create(daemon, "tcp", "tcp-input", parameters)
        if not tap(status == 201, "tcp-input channel created: 201", f"{status} {channel}"):
            return None, producer
        channel, live = wait_channel(daemon, channel["id"], state_is("live"), 60, "tcp input live")
        tap(live, "the tcp-input channel is live", channel)
        first_video = channel.get("video_id")
        producer.kill()
        producer.wait()
        note("producer killed")
        channel, left = wait_channel(daemon, channel["id"], state_is("failed", "starting"), 20,
                                     "tcp input leaves live")
        tap(left, f"the channel leaves live when its input is killed ({channel.get('state')})", channel)
        tap(bool(channel.get("last_error")), f"last_error is set: {channel.get('last_error')}", channel)
        time.sleep(1)
        producer = ts_producer(port, os.path.join(work, "producer-2.log"))
        tap(wait_listening(port, 20), "the producer listens again")
        channel, live = wait_channel(
            daemon, channel["id"],
            lambda c: c.get("state") == "live" and c.get("video_id") not in (None, first_video), 60,
            "tcp input live again")
        tap(live, "the channel is live again once the producer is back", channel)
        restarts = (channel.get("stats") or {}).get("restarts", 0)
        tap(restarts >= 1, f"stats.restarts >= 1 ({restarts})", channel.get("stats"))
        tap(channel.get("video_id") and channel.get("video_id") != first_video,
            f"a new live video ({first_video} -> {channel.get('video_id')})", channel)
        if first_video:
            status, _, video = daemon.call("GET", f"/api/v1/videos/{first_video}")
            tap(status == 200 and video.get("status") in ("ended", "failed"),
                f"the first broadcast is over ({video.get('status') if isinstance(video, dict) else video})",
                video)
        return channel, producer
    except Exception:
        stop_process(producer)
        raise


def test_rtmp(daemon, work):
    rtmp_port = free_port()
    parameters = dict(SMALL)
    parameters["rtmp-port"] = rtmp_port
    parameters["input-timeout"] = "1s"
    status, _, channel = create(daemon, "rtmp", "live-abr", parameters)
    if not tap(status == 201, "live-abr channel created: 201", f"{status} {channel}"):
        return None
    id = channel["id"]
    key = channel.get("stream_key")
    tap(channel.get("publish_url") == f"rtmp://127.0.0.1:{rtmp_port}/live/{key}",
        f"publish_url is rtmp://127.0.0.1:{rtmp_port}/live/KEY ({channel.get('publish_url')})", channel)
    # nobody publishes: the slate runs (degraded), the RTMP server listens
    channel, ok = wait_channel(daemon, id, state_is("degraded", "live"), 60, "live-abr runs")
    tap(ok, f"the live-abr channel runs on its slate ({channel.get('state')})", channel)
    tap(wait_listening(rtmp_port, 20), "its RTMP server listens")
    # only the slate is on the air: that is degraded, not live
    time.sleep(2)
    channel = daemon.channel(id)
    tap(channel.get("state") == "degraded",
        f"before any publish (slate only) the channel is degraded ({channel.get('state')})", channel)

    wrong = publish(rtmp_port, "not-the-key", 10, os.path.join(work, "ffmpeg-wrong.log"))
    try:
        code = wrong.wait(30)
    except subprocess.TimeoutExpired:
        code = None
        stop_process(wrong)
    tap(code not in (None, 0), f"a wrong key: ffmpeg fails ({code})",
        open(os.path.join(work, "ffmpeg-wrong.log")).read()[-800:])

    right = publish(rtmp_port, key, 20, os.path.join(work, "ffmpeg-right.log"))
    try:
        channel, ok = wait_channel(daemon, id, lambda c: c.get("state") == "live" and
                                   ((c.get("stats") or {}).get("input_bitrate") or 0) > 0, 30,
                                   "rtmp live with a bitrate")
        stats = channel.get("stats") or {}
        tap(ok, f"the right key: live with stats.input_bitrate > 0 ({channel.get('state')}, "
                f"{stats.get('input_bitrate')} bit/s from {stats.get('publisher')})",
            channel)
        tap(right.poll() is None, "the publisher is still sending",
            open(os.path.join(work, "ffmpeg-right.log")).read()[-800:])
        stop_process(right)
        channel, ok = wait_channel(daemon, id, state_is("degraded"), 15, "degraded when the publisher goes")
        tap(ok, f"the publisher killed: degraded (the slate) ({channel.get('state')}: "
                f"{channel.get('last_error')})", channel)
    finally:
        stop_process(right)

    video_before = daemon.channel(id).get("video_id")
    status, _, rotated = daemon.call("POST", f"/api/v1/channels/{id}/rotate-key")
    tap(status == 200 and rotated.get("stream_key") and rotated.get("stream_key") != key,
        "rotate-key: 200 with a new key", f"{status} {rotated}")
    new_key = rotated.get("stream_key") if isinstance(rotated, dict) else key
    # the run restarts with the new key: a new broadcast, the slate again
    channel, ok = wait_channel(daemon, id, lambda c: c.get("state") in ("degraded", "live") and
                               c.get("video_id") not in (None, video_before), 60, "restarted after rotate")
    tap(ok, f"the run restarted with the new key ({channel.get('state')})", channel)
    tap(wait_listening(rtmp_port, 20), "its RTMP server listens again")
    old = publish(rtmp_port, key, 10, os.path.join(work, "ffmpeg-old.log"))
    try:
        code = old.wait(30)
    except subprocess.TimeoutExpired:
        code = None
        stop_process(old)
    tap(code not in (None, 0), f"the old key is refused after the rotation ({code})",
        open(os.path.join(work, "ffmpeg-old.log")).read()[-800:])
    fresh = publish(rtmp_port, new_key, 20, os.path.join(work, "ffmpeg-new.log"))
    try:
        channel, ok = wait_channel(daemon, id, lambda c: c.get("state") == "live" and
                                   ((c.get("stats") or {}).get("input_bitrate") or 0) > 0, 30,
                                   "rtmp live with the new key")
        tap(ok, f"the new key is accepted: live, {(channel.get('stats') or {}).get('input_bitrate')} bit/s",
            channel)
        # a segment or two of the publisher in the playlists before the stop
        time.sleep(3)
    finally:
        stop_process(fresh)
    return daemon.channel(id)


def test_stop(daemon, channel):
    id = channel["id"]
    video_id = channel.get("video_id")
    master = local((channel.get("playback") or {}).get("hls", ""))
    playlists = media_playlists(daemon, master) if master else []
    status, _, body = daemon.call("POST", f"/api/v1/channels/{id}/stop")
    tap(status == 200 and body.get("desired_state") == "stopped", "stop: 200, desired_state stopped",
        f"{status} {body}")
    channel, ok = wait_channel(daemon, id, state_is("stopped"), 20, "stopped")
    tap(ok, f"the channel is stopped ({channel.get('state')})", channel)
    if not video_id:
        tap(False, "the stopped channel had a video", channel)
        return
    deadline = time.monotonic() + 10
    while True:
        status, _, video = daemon.call("GET", f"/api/v1/videos/{video_id}")
        if (isinstance(video, dict) and video.get("status") == "ended") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    tap(status == 200 and video.get("status") == "ended",
        f"its video is ended ({video.get('status') if isinstance(video, dict) else video})", video)
    tap(len(playlists) > 0, f"its master named media playlists ({len(playlists)})")
    for path in playlists[:2]:
        status, _, body = daemon.call("GET", path, token="")
        text = body.decode(errors="replace") if isinstance(body, bytes) else str(body)
        tap(status == 200 and text.rstrip().endswith("#EXT-X-ENDLIST"),
            f"{path.rsplit('/', 2)[-2]}/{path.rsplit('/', 1)[-1]} ends with EXT-X-ENDLIST",
            f"{status}: ...{text[-300:]}")


def test_restart(daemon, card, broken, stopped_ids):
    video_id = daemon.channel(card["id"]).get("video_id")
    posted = 0
    for i in range(20):
        status, _, _ = daemon.call("POST", f"/api/v1/videos/{video_id}/comments",
                                   {"author": "tester", "body": f"comment {i}"})
        posted += status == 201
    tap(posted == 20, f"20 comments posted on the test card's video ({posted} accepted)")
    status, _, listed = daemon.call("GET", "/api/v1/channels")
    desired = {c["id"]: c["desired_state"] for c in listed.get("items", [])}
    note("desired states before the restart: " + json.dumps(desired))

    started = time.monotonic()
    code = daemon.terminate(30)
    elapsed = time.monotonic() - started
    tap(code == 0, f"SIGTERM: onaird exits 0 ({code}) in {elapsed:.1f} s", daemon.tail())
    if code is None:
        daemon.kill()
    daemon.start()
    status, _, listed = daemon.call("GET", "/api/v1/channels")
    for c in listed.get("items", []):
        note(f"right after the restart: {c['name']}: {c['state']}, video {c.get('video_id')}, "
             f"stats {'null' if c.get('stats') is None else 'set'}")
    after = {c["id"]: c["desired_state"] for c in listed.get("items", [])}
    tap(after == desired, "the desired states are kept", f"before {desired}\nafter {after}")
    # the state read before the supervisor took the channel again is the
    # stored one: wait for the new run
    card_now, ok = wait_channel(daemon, card["id"], lambda c: c.get("state") == "live" and
                                c.get("video_id") not in (None, video_id), 90, "test card live after restart")
    tap(ok, "the test card is live again", card_now)
    tap(card_now.get("video_id") not in (None, video_id),
        f"in a new broadcast ({video_id} -> {card_now.get('video_id')})", card_now)
    if broken:
        broken_now, ok = wait_channel(daemon, broken["id"], state_is("failed"), 30, "broken after restart")
        tap(ok and broken_now.get("desired_state") == "running",
            f"the broken channel is run again, and fails ({broken_now.get('state')})", broken_now)
    for id in stopped_ids:
        channel = daemon.channel(id)
        tap(channel.get("state") == "stopped" and channel.get("desired_state") == "stopped"
            and channel.get("stats") is None,
            f"channel {channel.get('name')} stays stopped ({channel.get('state')})", channel)
    status, _, video = daemon.call("GET", f"/api/v1/videos/{video_id}")
    tap(status == 200 and video.get("status") == "ended",
        f"the broadcast of the previous run is ended ({video.get('status') if isinstance(video, dict) else video})",
        video)
    status, _, comments = daemon.call("GET", f"/api/v1/videos/{video_id}/comments?limit=100")
    bodies = sorted(c.get("body") for c in (comments.get("items", []) if isinstance(comments, dict) else []))
    tap(status == 200 and bodies == sorted(f"comment {i}" for i in range(20)),
        f"all 20 comments are there ({len(bodies)})", f"{status} {bodies}")


def scratch_daemon(prefix):
    """A scratch directory (readable by the PostgreSQL the daemon runs) with a
    state directory and the shipped and test-only pipeline files; returns it,
    the state directory and a Daemon on them, not started."""
    work = tempfile.mkdtemp(prefix=prefix)
    os.chmod(work, 0o755)
    state = os.path.join(work, "state")
    os.mkdir(state)
    os.chmod(state, 0o755)
    pipelines = os.path.join(work, "pipelines")
    os.mkdir(pipelines)
    for path in glob.glob(os.path.join(SOURCE_ROOT, "pipelines", "*.pipeline")) + \
            glob.glob(os.path.join(SOURCE_ROOT, "tests", "data", "daemon-pipelines", "*.pipeline")):
        shutil.copy(path, pipelines)
    return work, state, Daemon(state, pipelines, work)


def finish_daemon(daemon, work):
    """Stops the daemon; after a failure shows the end of its logs; removes
    the scratch directory (ONAIR_KEEP_WORK=1 keeps it after a failure)."""
    code = daemon.terminate(30)
    if code is None:
        daemon.kill()
    keep = False
    if failures:
        keep = os.environ.get("ONAIR_KEEP_WORK") == "1"
        for run in range(1, daemon.runs + 1):
            path = os.path.join(work, f"onaird-{run}.log")
            if os.path.exists(path):
                note(f"--- {path} (last lines)")
                for line in open(path, errors="replace").read().splitlines()[-40:]:
                    note(line)
    if keep:
        note(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


def main():
    for program in (ONAIRD, "gst-launch-1.0", "ffmpeg"):
        if shutil.which(program) is None:
            print(f"1..0 # SKIP {program} is missing", flush=True)
            return
    work, state, daemon = scratch_daemon("onair-channels-")
    producer = None
    try:
        daemon.start()
        note(f"onaird on {daemon.base}, state {state}")
        test_bad_input(daemon)
        card = test_card_live(daemon)
        test_events_and_metrics(daemon, card)
        broken = test_broken(daemon, card)
        tcp, producer = test_tcp_input(daemon, work)
        rtmp = test_rtmp(daemon, work)
        stopped = []
        if rtmp:
            test_stop(daemon, rtmp)
            stopped.append(rtmp["id"])
        if tcp:
            status, _, _ = daemon.call("POST", f"/api/v1/channels/{tcp['id']}/stop")
            wait_channel(daemon, tcp["id"], state_is("stopped"), 20, "tcp stopped")
            stopped.append(tcp["id"])
        stop_process(producer)
        test_restart(daemon, card, broken, stopped)
    except Fatal as error:
        tap(False, "the test ran to its end", str(error))
    finally:
        stop_process(producer)
        finish_daemon(daemon, work)
    tap_finish()


if __name__ == "__main__":
    main()

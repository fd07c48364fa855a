#!/usr/bin/env python3
# onair — news flashes through onaird's API end to end: the real daemon
# (embedded PostgreSQL in a scratch state directory) runs a small test card
# whose newsflash element is `name=flash`; flashes are posted to
# /api/v1/channels/{id}/news-flashes and looked for in their rows and in the
# picture: a frame decoded (ffmpeg) from the newest HLS segment of the
# rendition, whose lower-third box region must differ from the plain test
# card while a lower third is on and match it again once it is removed.
#   - bad input: every field's rule (422 naming it), malformed JSON and ids
#     (400), unknown channel and flash (404), no token (401), a viewer (403);
#     nothing is stored by a refused request;
#   - a lower third on the live channel: 201 with Location, showing, in the
#     queue, in the picture; DELETE: 204, removed, gone from the queue and
#     the picture; DELETE again: 409;
#   - persistence: the channel stopped (its flash waits, queued) and started
#     again shows the still-valid lower third again (in its row and in the
#     picture), a flash posted while it was stopped too; one that expired
#     meanwhile is ended (expired) and not shown;
#   - DELETE of a layer, then of all: the rows end (cleared), the queue empties;
#   - the event stream carried each change (channel.news_flash).
# Prints TAP. SPDX-License-Identifier: LGPL-2.1-or-later

import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from checks import note, tap, tap_finish  # noqa: E402
from test_channels import (ONAIRD, Fatal, create, field_names, local, media_playlists,  # noqa: E402
                           finish_daemon, scratch_daemon, state_is, wait_channel, wait_row)

# One small rung, a static pattern: the only moving picture is the clock at
# the bottom right, away from the lower third (bottom left).
WIDTH, HEIGHT = 320, 180
CARD = {"width": WIDTH, "height": HEIGHT, "ladder": "180p:300", "speed-preset": "ultrafast",
        "gop-duration": "1s", "pattern": "smpte"}
# The lower third's box at 320x180 (newsflash's default style: left of the
# safe area, above the crawl strip), inside its edges.
BOX = (20, 142, 124, 158)  # x0, y0, x1, y1
TITLE = "<b>Breaking: onair flash test</b>"
UNKNOWN = "01890000-0000-7000-8000-000000000000"


def iso(seconds_from_now):
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds_from_now)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def flashes_path(channel_id):
    return f"/api/v1/channels/{channel_id}/news-flashes"


def post_flash(daemon, channel_id, body, token=None):
    return daemon.call("POST", flashes_path(channel_id), body, token)


def post_with_location(daemon, channel_id, body):
    """(status, Location, parsed body) of a POST; `body` bytes are sent as they are."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(daemon.base + flashes_path(channel_id), data=data, method="POST")
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", "Bearer " + daemon.token)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, headers, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, headers, raw = error.code, error.headers, error.read()
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = raw
    return status, headers.get("Location", ""), parsed


def queue(daemon, channel_id):
    status, _, body = daemon.call("GET", flashes_path(channel_id))
    if status != 200 or not isinstance(body, dict):
        raise Fatal(f"GET the queue: {status} {body}")
    return body.get("items", [])


def wait_flash(daemon, channel_id, flash_id, accept, seconds):
    return wait_row(daemon, f"{flashes_path(channel_id)}/{flash_id}", accept, seconds, f"news flash {flash_id}")


def video_playlist(daemon, channel):
    """The 180p media playlist of the channel's current broadcast."""
    master = local((channel.get("playback") or {}).get("hls", ""))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for path in media_playlists(daemon, master) if master else []:
            if "/180p/" in path:
                return path
        time.sleep(0.5)
    raise Fatal(f"no 180p playlist in {master}")


def segments_of(daemon, playlist):
    status, _, body = daemon.call("GET", playlist, token="")
    text = body.decode(errors="replace") if status == 200 and isinstance(body, bytes) else ""
    init = re.search(r'#EXT-X-MAP:URI="([^"]+)"', text)
    segments = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return (init.group(1) if init else None), segments


def fetch(daemon, playlist, uri):
    status, _, body = daemon.call("GET", urllib.parse.urljoin(playlist, uri), token="")
    if status != 200 or not isinstance(body, bytes):
        raise Fatal(f"GET {uri}: {status}")
    return body


def grab_frame(daemon, playlist, work, newer_than=0):
    """The first frame (8-bit gray, WIDTH x HEIGHT) of the newest segment,
    waiting for a segment whose number passes `newer_than`; the frame and
    the number of the segment."""
    deadline = time.monotonic() + 40
    while True:
        init, segments = segments_of(daemon, playlist)
        numbers = [int(re.sub(r"\D", "", s) or 0) for s in segments]
        if init and numbers and max(numbers) > newer_than:
            break
        if time.monotonic() > deadline:
            raise Fatal(f"no segment after {newer_than} in {playlist}")
        time.sleep(0.5)
    newest = segments[numbers.index(max(numbers))]
    path = os.path.join(work, "frame.mp4")
    with open(path, "wb") as f:
        f.write(fetch(daemon, playlist, init))
        f.write(fetch(daemon, playlist, newest))
    decoded = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-frames:v", "1", "-f", "rawvideo",
                              "-pix_fmt", "gray", "-"], capture_output=True, timeout=60)
    if decoded.returncode != 0 or len(decoded.stdout) != WIDTH * HEIGHT:
        raise Fatal(f"ffmpeg decoded {len(decoded.stdout)} bytes from {newest}: {decoded.stderr[-500:]}")
    return decoded.stdout, max(numbers)


def flash_events(daemon, seconds=3):
    """The channel.news_flash events kept by the daemon (replayed from the
    start of its buffer), as (flash id, state, end_reason)."""
    request = urllib.request.Request(daemon.base + "/api/v1/events?types=channel.news_flash&last_event_id=0")
    request.add_header("Authorization", "Bearer " + daemon.token)
    text = b""
    deadline = time.monotonic() + seconds
    try:
        with urllib.request.urlopen(request, timeout=seconds) as response:
            while time.monotonic() < deadline:
                chunk = response.read1(65536)
                if not chunk:
                    break
                text += chunk
    except (OSError, urllib.error.URLError):
        pass
    events = []
    for block in text.decode(errors="replace").split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if lines.get("event") == "channel.news_flash":
            data = json.loads(lines.get("data", "{}"))
            events.append((data.get("id"), data.get("state"), data.get("end_reason")))
    return events


def plain_again(daemon, playlist, work, number, plain, threshold, segments=6):
    """Whether the lower third's box is plain again (differs from `plain`
    by less than `threshold`) in one of the next `segments` segments after
    segment `number`: frames reach a segment some time after a change (the
    encoder's lookahead, a loaded machine), so the first segments may still
    show the last of it. The difference last seen and the segment's number."""
    difference = None
    for _ in range(segments):
        frame, number = grab_frame(daemon, playlist, work, number)
        difference = box_difference(plain, frame)
        if difference < threshold:
            break
    return difference, number


def box_difference(a, b):
    """Mean absolute difference of two gray frames in the lower third's box."""
    x0, y0, x1, y1 = BOX
    total = sum(abs(a[y * WIDTH + x] - b[y * WIDTH + x]) for y in range(y0, y1) for x in range(x0, x1))
    return total / ((x1 - x0) * (y1 - y0))


def test_bad_input(daemon, cid, viewer):
    lower = {"layer": "lower-third", "text": "x"}
    crawl = {"layer": "crawl", "text": "x"}
    cases = [
        ({"layer": "ticker", "text": "x"}, "layer", "an unknown layer"),
        ({"text": "x"}, "layer", "no layer"),
        ({"layer": "crawl"}, "text", "no text"),
        ({**lower, "text": ""}, "text", "an empty text"),
        ({**lower, "text": "x" * 501}, "text", "a text of 501 characters"),
        ({**lower, "text": "<b>unclosed"}, "text", "invalid markup"),
        ({**lower, "text": "<blink>x</blink>"}, "text", "an unknown markup tag"),
        ({**lower, "text": 7}, "text", "a text that is a number"),
        ({**crawl, "subtitle": "s"}, "subtitle", "a subtitle on the crawl"),
        ({**lower, "subtitle": "s" * 201}, "subtitle", "a subtitle of 201 characters"),
        ({**lower, "subtitle": "a & b"}, "subtitle", "a subtitle of invalid markup"),
        ({**lower, "priority": 101}, "priority", "priority 101"),
        ({**lower, "priority": -101}, "priority", "priority -101"),
        ({**lower, "priority": 1.5}, "priority", "priority 1.5"),
        ({**lower, "priority": "high"}, "priority", "priority a string"),
        ({**lower, "duration": 0}, "duration", "duration 0"),
        ({**lower, "duration": -5}, "duration", "a negative duration"),
        ({**lower, "duration": 90000}, "duration", "a duration over a day"),
        ({**lower, "duration": "5"}, "duration", "a duration that is a string"),
        ({**lower, "expires_at": iso(-30)}, "expires_at", "expires_at in the past"),
        ({**lower, "expires_at": "tomorrow"}, "expires_at", "expires_at not a date-time"),
        ({**lower, "expires_at": iso(8 * 86400)}, "expires_at", "expires_at over 7 days ahead"),
        ({**lower, "duration": 5, "expires_at": iso(60)}, "expires_at", "both duration and expires_at"),
        ({**lower, "loops": 2}, "loops", "loops on a lower third"),
        ({**crawl, "loops": -1}, "loops", "negative loops"),
        ({**crawl, "loops": 2, "duration": 10}, "loops", "loops with a duration"),
        ({**lower, "dim": 0.5}, "dim", "dim on a lower third"),
        ({"layer": "fullscreen", "text": "x", "dim": 2}, "dim", "dim 2"),
        ({**lower, "fade": 61}, "fade", "a fade over 60 s"),
        ({**lower, "colour": "red"}, "colour", "an unknown member"),
    ]
    for body, field, label in cases:
        status, kind, answer = post_flash(daemon, cid, body)
        tap(status == 422 and field in field_names(answer) and "problem+json" in kind,
            f"{label}: 422 problem+json naming {field}", f"{status} {kind} {answer}")
    status, _, answer = post_with_location(daemon, cid, b'{"layer": "crawl", ')
    tap(status == 400, "malformed JSON: 400", f"{status} {answer}")
    status, _, answer = post_flash(daemon, cid, ["lower-third"])
    tap(status == 400, "a body that is not an object: 400", f"{status} {answer}")
    status, _, answer = post_flash(daemon, UNKNOWN, lower)
    tap(status == 404, "an unknown channel: 404", f"{status} {answer}")
    status, _, answer = post_flash(daemon, "nope", lower)
    tap(status == 400, "a channel id that is not a UUID: 400", f"{status} {answer}")
    status, _, answer = post_flash(daemon, cid, lower, token="")
    tap(status == 401, "no token: 401", f"{status} {answer}")
    status, _, answer = post_flash(daemon, cid, lower, token=viewer)
    tap(status == 403, "a viewer token: 403", f"{status} {answer}")
    status, _, answer = daemon.call("GET", flashes_path(cid), token=viewer)
    tap(status == 403, "the queue for a viewer token: 403", f"{status} {answer}")
    for method in ("GET", "DELETE"):
        status, _, answer = daemon.call(method, f"{flashes_path(cid)}/{UNKNOWN}")
        tap(status == 404, f"{method} an unknown flash: 404", f"{status} {answer}")
        status, _, answer = daemon.call(method, f"{flashes_path(cid)}/nope")
        tap(status == 400, f"{method} a flash id that is not a UUID: 400", f"{status} {answer}")
        status, _, answer = daemon.call(method, flashes_path(UNKNOWN))
        tap(status == 404, f"{method} the flashes of an unknown channel: 404", f"{status} {answer}")
    status, _, answer = daemon.call("DELETE", flashes_path(cid) + "?layer=ticker")
    tap(status == 400 and "layer" in field_names(answer), "DELETE of an unknown layer: 400 naming layer",
        f"{status} {answer}")
    tap(queue(daemon, cid) == [], "no flash was stored by the refused requests")


def main():
    for program in (ONAIRD, "gst-launch-1.0", "ffmpeg"):
        if shutil.which(program) is None:
            print(f"1..0 # SKIP {program} is missing", flush=True)
            return
    work, state, daemon = scratch_daemon("onair-news-flashes-")
    try:
        daemon.start()
        note(f"onaird on {daemon.base}, state {state}")
        status, _, viewer = daemon.call("POST", "/api/v1/tokens", {"name": "viewer", "role": "viewer"})
        viewer_token = viewer.get("token") if isinstance(viewer, dict) else "none"

        status, _, card = create(daemon, "flash card", "test-card", CARD)
        if not tap(status == 201, "test-card channel created: 201", f"{status} {card}"):
            raise Fatal("no channel")
        cid = card["id"]
        card, live = wait_channel(daemon, cid, state_is("live"), 90, "test card live")
        if not tap(live, "the test card is live", json.dumps(card)[:800]):
            raise Fatal("the channel is not live")
        playlist = video_playlist(daemon, card)

        test_bad_input(daemon, cid, viewer_token)

        # The plain picture, twice: the box region of two frames of the test
        # card alone differs by no more than the encoder's noise.
        plain, number = grab_frame(daemon, playlist, work)
        again, number = grab_frame(daemon, playlist, work, number)
        noise = box_difference(plain, again)
        tap(noise < 6, f"two frames of the plain card match in the box ({noise:.1f})")

        # A lower third on the live channel.
        status, location, first = post_with_location(
            daemon, cid, {"layer": "lower-third", "text": TITLE, "subtitle": "Live from the test", "duration": 600})
        ok = tap(status == 201 and isinstance(first, dict) and first.get("state") in ("queued", "showing")
                 and first.get("expires_at") and first.get("duration") == 600,
                 "a lower third of 600 s: 201, queued or showing, with expires_at", f"{status} {first}")
        if not ok:
            raise Fatal("the flash was not accepted")
        tap(location.endswith(f"{flashes_path(cid)}/{first['id']}"), f"Location names it ({location})")
        row, showing = wait_flash(daemon, cid, first["id"], lambda r: r.get("state") == "showing", 20)
        tap(showing and row.get("started_at"), "the element shows it: showing, started_at set", row)
        items = queue(daemon, cid)
        tap([item["id"] for item in items] == [first["id"]] and items[0].get("text") == TITLE,
            "the queue holds it", items)
        # A segment encoded after it went on screen, and the next one.
        _, number = grab_frame(daemon, playlist, work, number)
        flashed, number = grab_frame(daemon, playlist, work, number)
        difference = box_difference(plain, flashed)
        tap(difference > 25, f"the picture has it: the lower third's box differs from the plain card "
            f"({difference:.1f}, noise {noise:.1f})")

        status, _, answer = daemon.call("DELETE", f"{flashes_path(cid)}/{first['id']}")
        tap(status == 204, "DELETE of the flash: 204", f"{status} {answer}")
        tap(queue(daemon, cid) == [], "it is gone from the queue")
        row, ended = wait_flash(daemon, cid, first["id"], lambda r: r.get("state") == "ended", 5)
        tap(ended and row.get("end_reason") == "removed" and row.get("ended_at"), "its row: ended, removed", row)
        status, _, answer = daemon.call("DELETE", f"{flashes_path(cid)}/{first['id']}")
        tap(status == 409, "DELETE of a removed flash: 409", f"{status} {answer}")
        difference, number = plain_again(daemon, playlist, work, number, plain, max(6, noise * 2))
        tap(difference < max(6, noise * 2), f"the picture is plain again in the box ({difference:.1f})")

        # Persistence across a stop and a start.
        status, _, kept = post_flash(daemon, cid, {"layer": "lower-third", "text": TITLE, "priority": 5})
        tap(status == 201, "a lower third until removed: 201", f"{status} {kept}")
        status, _, short = post_flash(daemon, cid, {"layer": "lower-third", "text": "Short", "priority": -5,
                                                    "duration": 4})
        tap(status == 201 and short.get("expires_at"), "a lower third of 4 s behind it: 201", f"{status} {short}")
        wait_flash(daemon, cid, kept["id"], lambda r: r.get("state") == "showing", 20)
        video_id = daemon.channel(cid).get("video_id")
        status, _, _ = daemon.call("POST", f"/api/v1/channels/{cid}/stop")
        card, stopped = wait_channel(daemon, cid, state_is("stopped"), 30, "stopped")
        tap(stopped, "the channel is stopped", card)
        row, _ = wait_flash(daemon, cid, kept["id"], lambda r: r.get("state") == "queued", 10)
        tap(row.get("state") == "queued" and row.get("started_at"),
            "the lower third waits for the next run (queued, started_at kept)", row)
        status, _, waiting = post_flash(daemon, cid, {"layer": "crawl", "text": "Crawling while stopped", "loops": 0})
        tap(status == 201 and waiting.get("state") == "queued", "a crawl item for the stopped channel: 201, queued",
            f"{status} {waiting}")
        items = queue(daemon, cid)
        tap(waiting["id"] in [item["id"] for item in items], "the stopped channel's queue holds it", items)
        # The short one's expiry passes while the channel is stopped (or
        # passed before: either way it is over).
        expires = datetime.datetime.fromisoformat(short["expires_at"].replace("Z", "+00:00"))
        left = (expires - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
        time.sleep(max(0.0, left + 1))
        status, _, _ = daemon.call("POST", f"/api/v1/channels/{cid}/start")
        card, live = wait_channel(daemon, cid, lambda c: c.get("state") == "live" and
                                  c.get("video_id") not in (None, video_id), 90, "live again")
        if not tap(live, "the channel is live again, in a new broadcast", card):
            raise Fatal("the channel did not come back")
        row, showing = wait_flash(daemon, cid, kept["id"], lambda r: r.get("state") == "showing", 20)
        tap(showing, "the still-valid lower third is shown again (showing)", row)
        row, showing = wait_flash(daemon, cid, waiting["id"], lambda r: r.get("state") == "showing", 20)
        tap(showing, "the crawl item posted while stopped is shown (showing)", row)
        status, _, row = daemon.call("GET", f"{flashes_path(cid)}/{short['id']}")
        tap(status == 200 and row.get("state") == "ended" and row.get("end_reason") == "expired",
            "the lower third that expired is ended (expired)", f"{status} {row}")
        items = queue(daemon, cid)
        tap([item["id"] for item in items] == [waiting["id"], kept["id"]],
            "the queue: the crawl item, then the lower third; not the expired one", items)
        time.sleep(3)
        status, _, row = daemon.call("GET", f"{flashes_path(cid)}/{short['id']}")
        tap(row.get("state") == "ended" and row.get("started_at") == short.get("started_at"),
            "the expired flash was not shown again", row)
        playlist = video_playlist(daemon, card)
        _, number = grab_frame(daemon, playlist, work)
        again, number = grab_frame(daemon, playlist, work, number)
        difference = box_difference(plain, again)
        tap(difference > 25, f"the new broadcast's picture has the lower third ({difference:.1f})")

        # Clearing a layer, then all.
        status, _, answer = daemon.call("DELETE", flashes_path(cid) + "?layer=crawl")
        tap(status == 204, "DELETE of the crawl layer: 204", f"{status} {answer}")
        status, _, row = daemon.call("GET", f"{flashes_path(cid)}/{waiting['id']}")
        tap(row.get("state") == "ended" and row.get("end_reason") == "cleared", "the crawl item: ended, cleared", row)
        tap([item["id"] for item in queue(daemon, cid)] == [kept["id"]], "the lower third stays in the queue")
        status, _, answer = daemon.call("DELETE", flashes_path(cid))
        tap(status == 204, "DELETE of every layer: 204", f"{status} {answer}")
        tap(queue(daemon, cid) == [], "the queue is empty")
        status, _, row = daemon.call("GET", f"{flashes_path(cid)}/{kept['id']}")
        tap(row.get("state") == "ended" and row.get("end_reason") == "cleared", "the lower third: ended, cleared",
            row)
        difference, number = plain_again(daemon, playlist, work, number, plain, max(6, noise * 2))
        tap(difference < max(6, noise * 2), f"the picture is plain again ({difference:.1f})")
        card = daemon.channel(cid)
        tap(card.get("state") == "live", "the channel is still live", card.get("state"))

        # What clients of the event stream heard of the first flash.
        heard = [(state, reason) for id, state, reason in flash_events(daemon) if id == first["id"]]
        tap(heard[:1] == [("queued", None)] and ("showing", None) in heard and heard[-1:] == [("ended", "removed")],
            "channel.news_flash events: queued, showing, ended (removed)", heard)
    except Fatal as error:
        tap(False, "the test ran to its end", str(error))
    finally:
        finish_daemon(daemon, work)
    tap_finish()


if __name__ == "__main__":
    main()

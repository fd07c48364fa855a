#!/usr/bin/env python3
# onair — ad breaks through onaird's API end to end: the real daemon
# (embedded PostgreSQL in a scratch state directory) runs a test card of two
# renditions with its adsplice (`name=ads`); breaks are asked through
# POST /api/v1/channels/{id}/ad-breaks and checked in the live HLS playlists
# of every rendition and in the database's rows (GET .../ad-breaks):
#   - a 2 s break: 202, EXT-X-CUE-OUT then EXT-X-CUE-IN in every rendition,
#     the row ends by itself (auto-return) with started_at and ended_at;
#   - a long break ended early by DELETE: splice-in; a second break
#     overlapping it: 409, and no row is left of it;
#   - a break scheduled a few seconds ahead (at) and cancelled by DELETE:
#     cancelled, and never in the playlists;
#   - bad input: zero, negative, non-number and missing durations, `at` in
#     the past, creatives missing, outside the media root or not media
#     (422 naming the field), an unknown channel or break (404), a stopped
#     channel and a pipeline without adsplice (409), DELETE of a break that
#     is over (409), no token (401), a viewer (403); the channel keeps
#     playing (its playlist keeps growing).
# Prints TAP. SPDX-License-Identifier: LGPL-2.1-or-later

import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from checks import note, tap, tap_finish  # noqa: E402
from test_channels import (ONAIRD, Fatal, create, field_names, local, media_playlists,  # noqa: E402
                           finish_daemon, scratch_daemon, state_is, wait_channel, wait_row)

# Two small rungs: markers must reach every rendition. Every segment is kept
# (playlist-length=0) so that a break's tags stay in the playlist.
CARD = {"width": 320, "height": 180, "ladder": "180p:300,90p:100", "speed-preset": "ultrafast",
        "gop-duration": "1s", "playlist-length": 0}


def iso(seconds_from_now):
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds_from_now)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def playlist_texts(daemon, playlists):
    texts = []
    for path in playlists:
        status, _, body = daemon.call("GET", path, token="")
        texts.append(body.decode(errors="replace") if status == 200 and isinstance(body, bytes) else "")
    return texts


def segments(text):
    return text.count("#EXTINF")


def wait_break(daemon, channel_id, break_id, accept, seconds):
    return wait_row(daemon, f"/api/v1/channels/{channel_id}/ad-breaks/{break_id}", accept, seconds,
                    f"ad break {break_id}")


def post_break(daemon, channel_id, body, token=None):
    return daemon.call("POST", f"/api/v1/channels/{channel_id}/ad-breaks", body, token)


def make_creatives(media_root):
    ads = os.path.join(media_root, "ads")
    os.makedirs(ads, exist_ok=True)
    good = os.path.join(ads, "good.mp4")
    made = subprocess.run(
        ["gst-launch-1.0", "-q", "videotestsrc", "num-buffers=30", "!",
         "video/x-raw,width=160,height=90,framerate=30/1", "!", "x264enc", "speed-preset=ultrafast", "!",
         "mp4mux", "!", "filesink", f"location={good}"], capture_output=True, text=True, timeout=60)
    tap(made.returncode == 0 and os.path.getsize(good) > 0, "a creative is made (ads/good.mp4)", made.stderr)
    with open(os.path.join(ads, "bad.mp4"), "wb") as f:
        f.write(os.urandom(4096))
    with open(os.path.join(os.path.dirname(media_root), "outside.mp4"), "wb") as f:
        f.write(open(good, "rb").read())


def test_bad_input(daemon, card, stopped, no_ads, viewer):
    cid = card["id"]
    for value, label in ((0, "0"), (-2, "-2"), ("5", '"5"'), (None, "null"), (90000, "90000")):
        status, kind, body = post_break(daemon, cid, {"duration": value})
        tap(status == 422 and "duration" in field_names(body) and "problem+json" in kind,
            f"duration {label}: 422 problem+json naming duration", f"{status} {kind} {body}")
    status, _, body = post_break(daemon, cid, {})
    tap(status == 422 and "duration" in field_names(body), "no duration: 422 naming duration", f"{status} {body}")
    status, _, body = post_break(daemon, cid, {"duration": 2, "at": iso(-30)})
    tap(status == 422 and field_names(body) == ["at"], "at in the past: 422 naming at", f"{status} {body}")
    status, _, body = post_break(daemon, cid, {"duration": 2, "at": "tomorrow"})
    tap(status == 422 and field_names(body) == ["at"], "at not a date-time: 422 naming at", f"{status} {body}")
    status, _, body = post_break(daemon, cid, {"duration": 2, "colour": "red"})
    tap(status == 422 and "colour" in field_names(body), "an unknown member: 422 naming it", f"{status} {body}")
    status, _, body = post_break(daemon, cid, {"duration": 2, "creatives": ["ads/missing.mp4"]})
    tap(status == 422 and field_names(body) == ["creatives[0]"], "a missing creative: 422 naming creatives[0]",
        f"{status} {body}")
    status, _, body = post_break(daemon, cid, {"duration": 2, "creatives": ["ads/good.mp4", "ads/bad.mp4"]})
    tap(status == 422 and field_names(body) == ["creatives[1]"],
        "a creative that does not decode: 422 naming creatives[1] only", f"{status} {body}")
    status, _, body = post_break(daemon, cid, {"duration": 2, "creatives": ["../outside.mp4"]})
    tap(status == 422 and field_names(body) == ["creatives[0]"],
        "a creative outside the media root: 422 naming creatives[0]", f"{status} {body}")
    status, _, body = post_break(daemon, cid, {"duration": 2, "creatives": ["/etc/passwd"]})
    tap(status == 422 and field_names(body) == ["creatives[0]"], "an absolute path: 422 naming creatives[0]",
        f"{status} {body}")
    status, _, body = post_break(daemon, cid, {"duration": 2, "creatives": ["ftp://example.com/ad.mp4"]})
    tap(status == 422 and field_names(body) == ["creatives[0]"], "an ftp URI: 422 naming creatives[0]",
        f"{status} {body}")
    unknown = "01890000-0000-7000-8000-000000000000"
    status, _, body = post_break(daemon, unknown, {"duration": 2})
    tap(status == 404, "an unknown channel: 404", f"{status} {body}")
    status, _, body = post_break(daemon, "nope", {"duration": 2})
    tap(status == 400, "a channel id that is not a UUID: 400", f"{status} {body}")
    status, _, body = daemon.call("GET", f"/api/v1/channels/{cid}/ad-breaks/{unknown}")
    tap(status == 404, "GET an unknown break: 404", f"{status} {body}")
    status, _, body = daemon.call("DELETE", f"/api/v1/channels/{cid}/ad-breaks/{unknown}")
    tap(status == 404, "DELETE an unknown break: 404", f"{status} {body}")
    status, _, body = daemon.call("GET", f"/api/v1/channels/{unknown}/ad-breaks")
    tap(status == 404, "the breaks of an unknown channel: 404", f"{status} {body}")
    status, kind, body = post_break(daemon, stopped["id"], {"duration": 2})
    tap(status == 409 and "problem+json" in kind, "a stopped channel: 409 problem+json", f"{status} {body}")
    status, _, body = post_break(daemon, no_ads["id"], {"duration": 2})
    tap(status == 409 and "adsplice" in (body.get("detail", "") if isinstance(body, dict) else ""),
        "a pipeline without adsplice: 409 saying so", f"{status} {body}")
    status, _, body = post_break(daemon, cid, {"duration": 2}, token="")
    tap(status == 401, "no token: 401", f"{status} {body}")
    status, _, body = post_break(daemon, cid, {"duration": 2}, token=viewer)
    tap(status == 403, "a viewer token: 403", f"{status} {body}")
    status, _, body = daemon.call("GET", f"/api/v1/channels/{cid}/ad-breaks")
    tap(status == 200 and body.get("items") == [], "no break was recorded by the refused requests",
        f"{status} {body}")


def main():
    for program in (ONAIRD, "gst-launch-1.0"):
        if shutil.which(program) is None:
            print(f"1..0 # SKIP {program} is missing", flush=True)
            return
    work, state, daemon = scratch_daemon("onair-ad-breaks-")
    try:
        daemon.start()
        note(f"onaird on {daemon.base}, state {state}")
        make_creatives(os.path.join(state, "media"))
        status, _, viewer = daemon.call("POST", "/api/v1/tokens", {"name": "viewer", "role": "viewer"})
        viewer_token = viewer.get("token") if isinstance(viewer, dict) else "none"

        status, _, card = create(daemon, "ads card", "test-card", CARD)
        if not tap(status == 201, "test-card channel created: 201", f"{status} {card}"):
            raise Fatal("no channel")
        cid = card["id"]
        status, _, stopped = create(daemon, "stopped card", "test-card", {"width": 160, "height": 90}, start=False)
        status, _, no_ads = create(daemon, "no ads", "no-ads", {})
        card, live = wait_channel(daemon, cid, state_is("live"), 90, "test card live")
        tap(live, "the test card is live", json.dumps(card)[:800])
        no_ads, live = wait_channel(daemon, no_ads["id"], state_is("live"), 90, "no-ads live")
        tap(live, "the channel without adsplice is live", json.dumps(no_ads)[:800])
        master = local((card.get("playback") or {}).get("hls", ""))
        playlists = []
        deadline = time.monotonic() + 30
        while len(playlists) < 3 and time.monotonic() < deadline:
            playlists = media_playlists(daemon, master)
            time.sleep(0.5)
        tap(len(playlists) == 3, f"two video renditions and audio ({len(playlists)})", playlists)

        before = [segments(text) for text in playlist_texts(daemon, playlists)]
        test_bad_input(daemon, card, stopped, no_ads, viewer_token)

        # A 2 s break with a creative, on the next frame.
        status, _, brk = post_break(daemon, cid, {"duration": 2, "creatives": ["ads/good.mp4"]})
        ok = tap(status == 202 and isinstance(brk, dict) and brk.get("status") == "scheduled"
                 and isinstance(brk.get("event_id"), int), "a 2 s break: 202, scheduled, with an event id",
                 f"{status} {brk}")
        if not ok:
            raise Fatal("the break was not accepted")
        row, ended = wait_break(daemon, cid, brk["id"], lambda r: r.get("status") == "ended", 40)
        tap(ended and row.get("end_reason") == "auto-return" and row.get("started_at") and row.get("ended_at"),
            "the row ends by itself: ended, auto-return, started_at and ended_at set", row)
        tap(row.get("creatives") == ["ads/good.mp4"] and row.get("source") == "api",
            "the row keeps the creatives asked and source api", row)
        tap(row.get("elapsed") is not None and 1.5 <= row["elapsed"] <= 4,
            f"elapsed about 2 s ({row.get('elapsed')})", row)
        # the segment after CUE-IN must be written before the playlists show it
        deadline = time.monotonic() + 20
        while True:
            texts = playlist_texts(daemon, playlists)
            marked = [("#EXT-X-CUE-OUT:" in t and "#EXT-X-CUE-IN" in t and
                       t.index("#EXT-X-CUE-OUT:") < t.index("#EXT-X-CUE-IN")) for t in texts]
            if all(marked) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        for path, text, mark in zip(playlists, texts, marked):
            tap(mark, f"{path.rsplit('/', 2)[-2]}: EXT-X-CUE-OUT then EXT-X-CUE-IN",
                "\n".join(line for line in text.splitlines() if "CUE" in line or "DATERANGE" in line)[:800])

        # A long break ended early; a second one overlapping it is refused.
        status, _, long = post_break(daemon, cid, {"duration": 60})
        tap(status == 202, "a 60 s break: 202", f"{status} {long}")
        row, running = wait_break(daemon, cid, long["id"], lambda r: r.get("status") == "running", 20)
        tap(running and row.get("started_at"), "it runs (status running, started_at set)", row)
        status, _, body = post_break(daemon, cid, {"duration": 5})
        tap(status == 409, "a break overlapping it: 409", f"{status} {body}")
        status, _, listed = daemon.call("GET", f"/api/v1/channels/{cid}/ad-breaks")
        tap(status == 200 and [b["id"] for b in listed.get("items", [])] == [long["id"], brk["id"]],
            "the refused break left no row; the list is newest first", f"{status} {listed}")
        status, _, body = daemon.call("DELETE", f"/api/v1/channels/{cid}/ad-breaks/{long['id']}")
        tap(status == 202, "DELETE of the running break: 202", f"{status} {body}")
        row, ended = wait_break(daemon, cid, long["id"], lambda r: r.get("status") == "ended", 20)
        tap(ended and row.get("end_reason") == "splice-in" and row.get("elapsed", 99) < 30,
            f"it ends early: splice-in after {row.get('elapsed')} s", row)
        status, _, body = daemon.call("DELETE", f"/api/v1/channels/{cid}/ad-breaks/{long['id']}")
        tap(status == 409, "DELETE of an ended break: 409", f"{status} {body}")

        # A scheduled break, cancelled before it starts.
        cue_outs = [t.count("#EXT-X-CUE-OUT:") for t in playlist_texts(daemon, playlists)]
        status, _, later = post_break(daemon, cid, {"duration": 2, "at": iso(8)})
        tap(status == 202 and later.get("status") == "scheduled" and later.get("at"),
            "a break at now + 8 s: 202, scheduled, with its at", f"{status} {later}")
        status, _, body = daemon.call("DELETE", f"/api/v1/channels/{cid}/ad-breaks/{later['id']}")
        tap(status == 200 and isinstance(body, dict) and body.get("status") == "cancelled",
            "DELETE before it starts: 200, cancelled", f"{status} {body}")
        time.sleep(12)
        row, _ = wait_break(daemon, cid, later["id"], lambda r: True, 5)
        tap(row.get("status") == "cancelled" and row.get("started_at") is None,
            "after its start time it is still cancelled, never started", row)
        after = playlist_texts(daemon, playlists)
        tap([t.count("#EXT-X-CUE-OUT:") for t in after] == cue_outs and
            all(f"splice-{later['event_id']}-" not in t for t in after),
            "the cancelled break is in no playlist", cue_outs)
        status, _, body = daemon.call("DELETE", f"/api/v1/channels/{cid}/ad-breaks/{later['id']}")
        tap(status == 409, "DELETE of a cancelled break: 409", f"{status} {body}")

        # Pages: newest first, by keyset.
        status, _, first = daemon.call("GET", f"/api/v1/channels/{cid}/ad-breaks?limit=2")
        ids = [b["id"] for b in first.get("items", [])] if isinstance(first, dict) else []
        tap(status == 200 and ids == [later["id"], long["id"]] and first.get("next"),
            "a page of 2, newest first, with a next link", f"{status} {first}")
        if isinstance(first, dict) and first.get("next"):
            status, _, second = daemon.call("GET", first["next"])
            tap(status == 200 and [b["id"] for b in second.get("items", [])] == [brk["id"]]
                and second.get("next") is None, "the next page holds the first break", f"{status} {second}")

        # The program kept playing through all of it.
        card = daemon.channel(cid)
        grown = [segments(text) for text in playlist_texts(daemon, playlists)]
        tap(card.get("state") == "live" and all(g > b for g, b in zip(grown, before)),
            f"the channel is still live, its playlists grew ({before} -> {grown})", card.get("state"))
    except Fatal as error:
        tap(False, "the test ran to its end", str(error))
    finally:
        finish_daemon(daemon, work)
    tap_finish()


if __name__ == "__main__":
    main()

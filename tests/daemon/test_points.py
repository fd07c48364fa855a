#!/usr/bin/env python3
# onair — viewers' points and reactions through onaird's API end to end: the
# real daemon (embedded PostgreSQL in a scratch state directory, a config
# file for the limits) runs a small test card; viewers (tokens) react to it
# and earn, spend and are granted points.
#   - bad input: every field's rule (422 naming it), malformed JSON and ids
#     (400), unknown channel/viewer (404), no token (401), a viewer granting
#     (403), a channel not on air (409); nothing counted or spent by them;
#   - counting: N reactions posted → the video's timeline shows exactly N,
#     per kind, in 60 s and 120 s buckets;
#   - on the stream: the channel's reactions element gets them (the daemon
#     calls its add signal): its windows, written as EXT-X-DATERANGE
#     X-REACTIONS in the channel's HLS media playlist, sum to exactly the N
#     posted, per kind;
#   - super reactions: 50 concurrent spends against a balance covering 10:
#     exactly 10 succeed, 40 answer 409; the balance is 0; the ledger (read
#     page by page) sums to the balance; the timeline has 10 super ones;
#   - rate limit: a burst beyond the viewer's bucket answers 429 with
#     Retry-After, and a request after that wait is accepted; three viewers
#     reacting from one client address (each test sends from an address of
#     its own in 127/8) get 429 once the address's bucket is empty, though
#     each is far under its own, a new viewer from that address too, and
#     the same viewer from another address does not;
#   - a channel whose pipeline counts other kinds (test-card
#     reaction-kinds=🎉,👍,standing-ovation-encore, the last longer than a
#     kind could be before 0005): the API takes 🎉 and the long one, refuses 🔥 (422 naming kind, listing 🎉), and its stream's
#     DATERANGEs count what was posted;
#   - both or neither: a super reaction that cannot be counted takes no
#     points: PostgreSQL refuses the count (a trigger this test adds to the
#     daemon's database), or the broadcast's video was deleted;
#   - earnings: seconds below a point wait, the hourly cap holds over many
#     reports, and reports beyond it earn nothing.
# Prints TAP. SPDX-License-Identifier: LGPL-2.1-or-later

import concurrent.futures
import functools
import glob
import http.client
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
from test_channels import (ONAIRD, Fatal, create, field_names, finish_daemon, local,  # noqa: E402
                           media_playlists, scratch_daemon, state_is, wait_channel)

CARD = {"width": 160, "height": 90, "ladder": "90p:100", "speed-preset": "ultrafast"}
UNKNOWN = "01890000-0000-7000-8000-000000000000"
KINDS = ["👍", "❤️", "😂", "😮", "😢", "👏", "🔥"]
# The limits of this test's daemon (onaird.conf below).
VIEWER_RATE, VIEWER_BURST, PRICE, PER_HOUR = 5, 60, 10, 60
ADDRESS_RATE, ADDRESS_BURST = 5, 100
CONFIG = f"""[reactions]
viewer_rate = {VIEWER_RATE}
viewer_burst = {VIEWER_BURST}
address_rate = {ADDRESS_RATE}
address_burst = {ADDRESS_BURST}
super_price = {PRICE}

[points]
seconds_per_point = 60
max_report_seconds = 300
max_points_per_hour = {PER_HOUR}
"""


class _FromAddress(urllib.request.HTTPHandler):
    """Connects from a given loopback address (any of 127/8 on Linux)."""

    def __init__(self, address):
        super().__init__()
        self.address = address

    def http_open(self, req):
        return self.do_open(functools.partial(http.client.HTTPConnection, source_address=(self.address, 0)), req)


def request(daemon, method, path, body=None, token=None, source=None):
    """(status, headers, parsed body); `body` bytes are sent as they are;
    `source`: the client address to connect from."""
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
    call = urllib.request.Request(daemon.base + path, data=data, method=method)
    if data is not None:
        call.add_header("Content-Type", "application/json")
    if token:
        call.add_header("Authorization", "Bearer " + token)
    opener = urllib.request.build_opener(_FromAddress(source)) if source else urllib.request.build_opener()
    try:
        with opener.open(call, timeout=60) as response:
            status, headers, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, headers, raw = error.code, error.headers, error.read()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw
    return status, headers, parsed


def viewer(daemon, name):
    status, _, body = daemon.call("POST", "/api/v1/tokens", {"name": name, "role": "viewer"})
    if status != 201:
        raise Fatal(f"no viewer token: {status} {body}")
    return body["token"], body["id"]


def react(daemon, cid, token, kind="👍", super_=None, source=None):
    body = {"kind": kind}
    if super_ is not None:
        body["super"] = super_
    return request(daemon, "POST", f"/api/v1/channels/{cid}/reactions", body, token, source)


def timeline(daemon, video_id, bucket=60):
    status, _, body = request(daemon, "GET", f"/api/v1/videos/{video_id}/reactions?bucket={bucket}",
                              token=daemon.token)
    if status != 200:
        raise Fatal(f"GET the timeline: {status} {body}")
    return body


def points(daemon, token):
    status, _, body = request(daemon, "GET", "/api/v1/viewers/me/points", token=token)
    if status != 200:
        raise Fatal(f"GET points: {status} {body}")
    return body


def ledger(daemon, token, limit=7):
    rows, path = [], f"/api/v1/viewers/me/points/ledger?limit={limit}"
    while path:
        status, _, page = request(daemon, "GET", path, token=token)
        if status != 200:
            raise Fatal(f"GET the ledger: {status} {page}")
        rows += page["items"]
        path = page.get("next")
    return rows


def test_bad_input(daemon, cid, stopped_cid, token, token_id):
    path = f"/api/v1/channels/{cid}/reactions"
    cases = [
        ({"kind": "🍕"}, "kind", "an unknown kind"),
        ({}, "kind", "no kind"),
        ({"kind": 1}, "kind", "a kind that is a number"),
        ({"kind": "👍", "super": "yes"}, "super", "super that is a string"),
        ({"kind": "👍", "colour": "red"}, "colour", "an unknown member"),
    ]
    for body, field, label in cases:
        status, headers, answer = request(daemon, "POST", path, body, token)
        tap(status == 422 and field in field_names(answer) and "problem+json" in headers.get("Content-Type", ""),
            f"reaction, {label}: 422 problem+json naming {field}", f"{status} {answer}")
    status, _, answer = request(daemon, "POST", path, b'{"kind": ', token)
    tap(status == 400, "reaction, malformed JSON: 400", f"{status} {answer}")
    status, _, answer = request(daemon, "POST", "/api/v1/channels/nope/reactions", {"kind": "👍"}, token)
    tap(status == 400, "reaction, a channel id that is not a UUID: 400", f"{status} {answer}")
    status, _, answer = request(daemon, "POST", f"/api/v1/channels/{UNKNOWN}/reactions", {"kind": "👍"}, token)
    tap(status == 404, "reaction, an unknown channel: 404", f"{status} {answer}")
    status, _, answer = request(daemon, "POST", path, {"kind": "👍"}, "")
    tap(status == 401, "reaction, no token: 401", f"{status} {answer}")
    status, _, answer = react(daemon, stopped_cid, token)
    tap(status == 409, "reaction on a channel that is not on air: 409", f"{status} {answer}")

    watch = "/api/v1/viewers/me/watch"
    cases = [
        ({"channel_id": cid, "seconds": 301}, "seconds", "301 seconds (over a report's cap)"),
        ({"channel_id": cid, "seconds": 0}, "seconds", "0 seconds"),
        ({"channel_id": cid, "seconds": 1.5}, "seconds", "1.5 seconds"),
        ({"channel_id": cid}, "seconds", "no seconds"),
        ({"seconds": 60}, "channel_id", "neither channel_id nor video_id"),
        ({"channel_id": cid, "video_id": cid, "seconds": 60}, "video_id", "both channel_id and video_id"),
        ({"channel_id": "nope", "seconds": 60}, "channel_id", "a channel_id that is not a UUID"),
        ({"channel_id": UNKNOWN, "seconds": 60}, "channel_id", "an unknown channel_id"),
        ({"video_id": UNKNOWN, "seconds": 60}, "video_id", "an unknown video_id"),
        ({"channel_id": cid, "seconds": 60, "bonus": 1}, "bonus", "an unknown member"),
    ]
    for body, field, label in cases:
        status, _, answer = request(daemon, "POST", watch, body, token)
        tap(status == 422 and field in field_names(answer), f"watch, {label}: 422 naming {field}",
            f"{status} {answer}")
    status, _, answer = request(daemon, "POST", watch, {"channel_id": cid, "seconds": 60}, "")
    tap(status == 401, "watch, no token: 401", f"{status} {answer}")

    grants = f"/api/v1/viewers/{token_id}/points/grants"
    cases = [
        ({"amount": 0, "reason": "r"}, "amount", "amount 0"),
        ({"amount": -5, "reason": "r"}, "amount", "a negative amount"),
        ({"amount": 1000001, "reason": "r"}, "amount", "amount over a million"),
        ({"amount": "5", "reason": "r"}, "amount", "an amount that is a string"),
        ({"amount": 5}, "reason", "no reason"),
        ({"amount": 5, "reason": "x" * 201}, "reason", "a reason of 201 characters"),
        ({"amount": 5, "reason": "r", "to": "x"}, "to", "an unknown member"),
    ]
    for body, field, label in cases:
        status, _, answer = request(daemon, "POST", grants, body, daemon.token)
        tap(status == 422 and field in field_names(answer), f"grant, {label}: 422 naming {field}",
            f"{status} {answer}")
    good = {"amount": 5, "reason": "welcome"}
    status, _, answer = request(daemon, "POST", grants, good, token)
    tap(status == 403, "grant with a viewer token: 403 (admin only)", f"{status} {answer}")
    status, _, answer = request(daemon, "POST", grants, good, "")
    tap(status == 401, "grant without a token: 401", f"{status} {answer}")
    status, _, answer = request(daemon, "POST", f"/api/v1/viewers/{UNKNOWN}/points/grants", good, daemon.token)
    tap(status == 404, "grant to an unknown viewer: 404", f"{status} {answer}")
    status, _, answer = request(daemon, "POST", "/api/v1/viewers/nope/points/grants", good, daemon.token)
    tap(status == 400, "grant to a viewer id that is not a UUID: 400", f"{status} {answer}")

    for query, label in (("limit=0", "limit 0"), ("limit=101", "limit 101"), ("after=@@", "a bad cursor"),
                         ("colour=red", "an unknown parameter")):
        status, _, answer = request(daemon, "GET", f"/api/v1/viewers/me/points/ledger?{query}", token=token)
        tap(status == 400, f"ledger, {label}: 400", f"{status} {answer}")
    status, _, answer = request(daemon, "GET", "/api/v1/viewers/me/points", token="")
    tap(status == 401, "points without a token: 401", f"{status} {answer}")
    body = points(daemon, token)
    tap(body.get("balance") == 0 and ledger(daemon, token) == [], "nothing was earned or granted by refused requests",
        body)


def test_counting(daemon, cid, video_id, token):
    posted = {}
    for i in range(42):
        kind = KINDS[i % len(KINDS)] if i % 3 else "🔥"
        status, _, answer = react(daemon, cid, token, kind, False if i % 2 else None, source="127.0.0.2")
        if status != 202:
            tap(False, "every reaction is accepted", f"{status} {answer}")
            return None
        posted[kind] = posted.get(kind, 0) + 1
    tap(True, "42 reactions: 202 each")
    tap(answer.get("video_id") == video_id and answer.get("super") is False and answer.get("balance") is None,
        "the answer names the broadcast counted", answer)
    for bucket in (60, 120, 3600):
        body = timeline(daemon, video_id, bucket)
        total = sum(item["total"] for item in body["items"])
        tap(total == 42 and body["totals"] == posted and body["bucket"] == bucket,
            f"the timeline in {bucket} s buckets counts exactly 42, per kind", body)
    for query, label in (("bucket=30", "bucket 30"), ("bucket=90", "bucket 90 (not a multiple of 60)"),
                         ("bucket=abc", "bucket not a number"), ("bucket=172800", "bucket of two days")):
        status, _, answer = request(daemon, "GET", f"/api/v1/videos/{video_id}/reactions?{query}")
        tap(status == 400 and "bucket" in field_names(answer), f"timeline, {label}: 400 naming bucket",
            f"{status} {answer}")
    status, _, answer = request(daemon, "GET", f"/api/v1/videos/{UNKNOWN}/reactions")
    tap(status == 404, "timeline of an unknown video: 404", f"{status} {answer}")
    status, _, answer = request(daemon, "GET", "/api/v1/videos/nope/reactions")
    tap(status == 400, "timeline of a video id that is not a UUID: 400", f"{status} {answer}")
    return posted


def stream_totals(daemon, card, posted):
    """The counts of the channel's reaction windows, as the DATERANGE tags of
    its HLS media playlists carry them (X-REACTIONS, percent-encoded JSON),
    summed per kind, polled for up to 30 s until they are `posted`; and the
    number of windows. Windows are collected by ID across polls, as old ones
    leave the live window with their segments."""
    master = local((card.get("playback") or {}).get("hls", ""))
    windows = {}
    totals = {}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and totals != posted:
        for path in media_playlists(daemon, master) if master else []:
            status, _, body = daemon.call("GET", path, token="")
            if status != 200 or not isinstance(body, bytes):
                continue
            for tag in re.findall(r"#EXT-X-DATERANGE:(.*)", body.decode(errors="replace")):
                if 'CLASS="com.onair.reactions"' not in tag:
                    continue
                id_ = re.search(r'ID="([^"]+)"', tag)
                payload = re.search(r'X-REACTIONS="([^"]*)"', tag)
                if id_ and payload:
                    windows[id_.group(1)] = json.loads(urllib.parse.unquote(payload.group(1)))
        totals = {}
        for counts in windows.values():
            for kind, n in counts.items():
                totals[kind] = totals.get(kind, 0) + n
        time.sleep(0.5)
    return totals, len(windows)


def test_on_stream(daemon, card, posted):
    """The reactions counted reached the channel's reactions element."""
    totals, windows = stream_totals(daemon, card, posted)
    tap(totals == posted, f"the stream's reaction windows ({windows} DATERANGEs) sum to the reactions posted",
        f"{totals} vs {posted}")


def test_super_spends(daemon, cid, video_id, token, token_id):
    status, headers, granted = request(daemon, "POST", f"/api/v1/viewers/{token_id}/points/grants",
                                       {"amount": 10 * PRICE, "reason": "enough for ten"}, daemon.token)
    tap(status == 201 and granted.get("amount") == 10 * PRICE and granted.get("balance_after") == 10 * PRICE
        and granted.get("kind") == "grant", f"an admin grants {10 * PRICE} points: 201", f"{status} {granted}")
    before = timeline(daemon, video_id)["super_totals"]
    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(lambda i: react(daemon, cid, token, KINDS[i % 7], True, "127.0.0.3"),
                                range(50)))
    statuses = [status for status, _, _ in answers]
    tap(statuses.count(202) == 10 and statuses.count(409) == 40,
        "50 concurrent super reactions against a balance for 10: exactly 10 accepted, 40 refused (409)",
        sorted(statuses))
    balances = sorted(body["balance"] for status, _, body in answers if status == 202)
    tap(balances == [PRICE * i for i in range(10)], "each accepted one left a distinct balance", balances)
    body = points(daemon, token)
    tap(body.get("balance") == 0, "the balance is 0, never below", body)
    rows = ledger(daemon, token)
    tap(len(rows) == 11 and sum(row["amount"] for row in rows) == body["balance"],
        "the ledger (paged by 7) sums to the balance: one grant, ten spends", rows)
    tap(rows[0]["balance_after"] == 0 and all(row["kind"] == "spend" and row["amount"] == -PRICE for row in rows[:10]),
        "the spends are newest first, each of the price", rows[:3])
    after = timeline(daemon, video_id)["super_totals"]
    tap(sum(after.values()) - sum(before.values()) == 10, "the timeline counts 10 super reactions", after)
    status, _, answer = react(daemon, cid, token, "🔥", True, "127.0.0.3")
    tap(status == 409 and points(daemon, token).get("balance") == 0, "a super reaction with no points: 409",
        f"{status} {answer}")


def test_rate_limit(daemon, cid, token):
    statuses, retry = [], None
    for _ in range(VIEWER_BURST + 30):
        status, headers, _ = react(daemon, cid, token, source="127.0.0.4")
        statuses.append(status)
        if status == 429:
            retry = headers.get("Retry-After")
            break
    tap(statuses[-1] == 429 and len(statuses) > VIEWER_BURST * 0.9,
        f"a burst beyond {VIEWER_BURST}: 429 after {len(statuses) - 1} accepted", statuses[-3:])
    tap(retry is not None and retry.isdigit() and int(retry) >= 1, f"429 carries Retry-After ({retry})")
    time.sleep(int(retry or 1) + 0.2)
    status, _, answer = react(daemon, cid, token, source="127.0.0.4")
    tap(status == 202, "after Retry-After, a reaction is accepted again", f"{status} {answer}")


def test_address_limit(daemon, cid, tokens, newcomer):
    source, other = "127.0.0.5", "127.0.0.6"
    statuses, retry = [], None
    for i in range(ADDRESS_BURST + 40):
        status, headers, _ = react(daemon, cid, tokens[i % len(tokens)], source=source)
        statuses.append(status)
        if status == 429:
            retry = headers.get("Retry-After")
            break
    accepted = len(statuses) - 1
    # each viewer took about a third of the address's burst: far under its own
    tap(statuses[-1] == 429 and ADDRESS_BURST <= accepted < ADDRESS_BURST + 20 and all(s == 202 for s in statuses[:-1]),
        f"{len(tokens)} viewers from one address: 429 after {accepted} accepted (address burst {ADDRESS_BURST}, "
        f"{accepted // len(tokens)} or so each of a viewer burst of {VIEWER_BURST})", statuses[-3:])
    tap(retry is not None and retry.isdigit() and int(retry) >= 1, f"the address's 429 carries Retry-After ({retry})")
    status, _, answer = react(daemon, cid, newcomer, source=source)
    tap(status == 429, "a viewer new to that address is refused too (429)", f"{status} {answer}")
    status, _, answer = react(daemon, cid, newcomer, source=other)
    tap(status == 202, "the same viewer from another address is accepted", f"{status} {answer}")


def test_channel_kinds(daemon, token):
    long_kind = "standing-ovation-encore"  # 23 characters
    params = dict(CARD, **{"reaction-kinds": f"🎉,👍,{long_kind}"})
    status, _, card = create(daemon, "party card", "test-card", params)
    if not tap(status == 201, f"a test card with reaction-kinds 🎉,👍,{long_kind}: 201", f"{status} {card}"):
        return
    card, live = wait_channel(daemon, card["id"], state_is("live"), 120, "party card live")
    if not tap(live, "the party card is live", json.dumps(card)[:500]):
        return
    status, _, answer = react(daemon, card["id"], token, "🔥", source="127.0.0.8")
    tap(status == 422 and "kind" in field_names(answer) and "🎉" in json.dumps(answer, ensure_ascii=False),
        "🔥 on it: 422 naming kind and its kinds", f"{status} {answer}")
    accepted = 0
    for _ in range(5):
        status, _, answer = react(daemon, card["id"], token, "🎉", source="127.0.0.8")
        accepted += status == 202
    tap(accepted == 5, "🎉 on it: 202 five times", f"{status} {answer}")
    status, _, answer = react(daemon, card["id"], token, long_kind, source="127.0.0.8")
    tap(status == 202, f"{long_kind} on it: 202", f"{status} {answer}")
    want = {"🎉": 5, long_kind: 1}
    totals, windows = stream_totals(daemon, card, want)
    tap(totals == want, f"its stream's reaction windows ({windows} DATERANGEs) count what was posted", totals)
    daemon.call("POST", f"/api/v1/channels/{card['id']}/stop")


def daemon_sql(daemon, sql):
    """Runs `sql` in the daemon's embedded database (psql as postgres, on the
    cluster's private socket)."""
    sockets = glob.glob(os.path.join(daemon.state, "pg", "run", ".s.PGSQL.*"))
    if not sockets:
        raise Fatal("the embedded PostgreSQL's socket is not in <state>/pg/run")
    directory, name = os.path.split(sockets[0])
    result = subprocess.run(["runuser", "-u", "postgres", "--", "psql", "-v", "ON_ERROR_STOP=1", "-qAt",
                             f"host={directory} port={name.rsplit('.', 1)[1]} dbname=onair user=onair", "-c", sql],
                            capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise Fatal(f"psql: {result.stderr}")
    return result.stdout


def test_paid_and_counted(daemon, cid, video_id, token):
    """A super reaction is paid and counted in one statement: when it cannot
    be counted, nothing is spent."""
    before = points(daemon, token)
    rows = len(ledger(daemon, token, 100))
    daemon_sql(daemon, """
        CREATE FUNCTION test_refuse_count() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'the test refuses this count'; END $$;
        CREATE TRIGGER test_refuse_count BEFORE INSERT OR UPDATE ON reaction_counts
          FOR EACH ROW WHEN (NEW.kind = '😮') EXECUTE FUNCTION test_refuse_count();""")
    status, _, answer = react(daemon, cid, token, "😮", True, "127.0.0.7")
    after = points(daemon, token)
    tap(status >= 500, f"a super reaction PostgreSQL will not count: refused ({status})", answer)
    tap(before["balance"] >= PRICE and after["balance"] == before["balance"] and len(ledger(daemon, token, 100)) == rows,
        f"no points taken for it: balance {before['balance']} → {after['balance']}, ledger unchanged", after)
    status, _, answer = react(daemon, cid, token, "🔥", True, "127.0.0.7")
    tap(status == 202 and points(daemon, token)["balance"] == before["balance"] - PRICE,
        "another kind is still paid and counted", f"{status} {answer}")
    daemon_sql(daemon, "DROP TRIGGER test_refuse_count ON reaction_counts; DROP FUNCTION test_refuse_count();")
    before = points(daemon, token)
    rows = len(ledger(daemon, token, 100))
    status, _, answer = daemon.call("DELETE", f"/api/v1/videos/{video_id}")
    if not tap(status == 204, "the live broadcast's video deleted: 204", f"{status} {answer}"):
        return
    status, _, answer = react(daemon, cid, token, "🔥", True, "127.0.0.7")
    after = points(daemon, token)
    tap(status == 409 and "broadcast" in json.dumps(answer), f"a super reaction on the deleted broadcast: 409 ({status})",
        answer)
    status, _, answer = react(daemon, cid, token, "🔥", False, "127.0.0.7")
    tap(status == 409, f"a plain one too: 409 ({status})", answer)
    tap(before["balance"] >= PRICE and after["balance"] == before["balance"] and len(ledger(daemon, token, 100)) == rows,
        f"no points taken for it: balance {before['balance']} → {after['balance']}, ledger unchanged", after)


def test_earnings(daemon, cid, token):
    watch = "/api/v1/viewers/me/watch"
    status, _, first = request(daemon, "POST", watch, {"channel_id": cid, "seconds": 30}, token)
    tap(status == 200 and first.get("earned") == 0 and first.get("unpaid_seconds") == 30,
        "30 seconds: no point yet, 30 seconds unpaid", f"{status} {first}")
    status, _, second = request(daemon, "POST", watch, {"channel_id": cid, "seconds": 45}, token)
    tap(status == 200 and second.get("earned") == 1 and second.get("unpaid_seconds") == 15 and second["balance"] == 1,
        "45 more seconds: one point, 15 seconds unpaid", f"{status} {second}")
    earned = 1
    for _ in range(14):
        status, _, answer = request(daemon, "POST", watch, {"channel_id": cid, "seconds": 300}, token)
        if status != 200:
            break
        earned += answer["earned"]
    tap(earned == PER_HOUR and answer.get("earned_last_hour") == PER_HOUR,
        f"14 reports of 300 s: {earned} points in the hour, the cap ({PER_HOUR})", answer)
    status, _, answer = request(daemon, "POST", watch, {"channel_id": cid, "seconds": 300}, token)
    tap(status == 200 and answer.get("earned") == 0 and answer.get("balance") == PER_HOUR,
        "a report beyond the cap earns nothing", f"{status} {answer}")
    body = points(daemon, token)
    rows = ledger(daemon, token, 100)
    tap(body.get("balance") == PER_HOUR and sum(row["amount"] for row in rows) == PER_HOUR
        and all(row["kind"] == "earn" and row["channel_id"] == cid for row in rows),
        "the balance and the ledger agree on the capped earnings", body)
    # Concurrent reports of one viewer cannot pass the cap either.
    fresh, _ = viewer(daemon, "concurrent earner")
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda i: request(daemon, "POST", watch, {"channel_id": cid, "seconds": 300}, fresh),
                                range(20)))
    total = sum(body["earned"] for status, _, body in answers if status == 200)
    tap(total == PER_HOUR and points(daemon, fresh).get("balance") == PER_HOUR,
        f"20 concurrent reports of 300 s: {total} points, the cap", [status for status, _, _ in answers])


def main():
    for program in (ONAIRD, "gst-launch-1.0"):
        if shutil.which(program) is None:
            print(f"1..0 # SKIP {program} is missing", flush=True)
            return
    work, state, daemon = scratch_daemon("onair-points-")
    config = os.path.join(work, "onaird.conf")
    with open(config, "w") as f:
        f.write(CONFIG)
    os.environ["ONAIRD_CONFIG"] = config
    try:
        daemon.start()
        note(f"onaird on {daemon.base}, state {state}")
        status, _, card = create(daemon, "points card", "test-card", CARD)
        if not tap(status == 201, "test-card channel created: 201", f"{status} {card}"):
            raise Fatal("no channel")
        cid = card["id"]
        status, _, stopped = create(daemon, "points stopped", "test-card", CARD, start=False)
        card, live = wait_channel(daemon, cid, state_is("live"), 120, "test card live")
        if not tap(live and card.get("video_id"), "the test card is live, with a broadcast", json.dumps(card)[:800]):
            raise Fatal("the channel is not live")
        video_id = card["video_id"]

        checker, checker_id = viewer(daemon, "checker")
        test_bad_input(daemon, cid, stopped["id"], checker, checker_id)
        counter, _ = viewer(daemon, "counter")
        posted = test_counting(daemon, cid, video_id, counter)
        if posted:
            test_on_stream(daemon, card, posted)
        spender, spender_id = viewer(daemon, "spender")
        test_super_spends(daemon, cid, video_id, spender, spender_id)
        hasty, _ = viewer(daemon, "hasty")
        test_rate_limit(daemon, cid, hasty)
        crowd = [viewer(daemon, f"crowd {i}")[0] for i in range(3)]
        test_address_limit(daemon, cid, crowd, viewer(daemon, "newcomer")[0])
        earner, _ = viewer(daemon, "earner")
        test_earnings(daemon, cid, earner)
        test_paid_and_counted(daemon, cid, video_id, earner)
        test_channel_kinds(daemon, checker)
        tap(daemon.channel(cid).get("state") == "live", "the channel is still live")
    except Fatal as error:
        tap(False, "the test ran to its end", str(error))
    finally:
        finish_daemon(daemon, work)
    tap_finish()


if __name__ == "__main__":
    main()

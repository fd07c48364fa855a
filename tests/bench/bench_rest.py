#!/usr/bin/env python3
# onair
# Copyright (C) 2026 onair developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""REST throughput and latency: onaird against Fastify + pg, with wrk.

Two servers answer the same two routes on the same PostgreSQL database:

  onair    onaird --db URI (libsoup 3, one main loop, non-blocking libpq pool
           of its default size; concurrent comment inserts grouped into one
           statement and one transaction, each 201 sent after its COMMIT)
  fastify  tests/bench/fastify_comments.mjs: Fastify 5 + pg, one Node
           process, pg Pool of 16, named prepared statements, one INSERT per
           POST; the same validation, errors, SQL and JSON as onaird

  POST /api/v1/videos/{id}/comments          {"author", "body", "media_time_ms"}
  GET  /api/v1/videos/{id}/comments?limit=50 the 50 newest, keyset page

and, as a yardstick, a path neither serves:

  GET  /api/v1/nowhere                         404 problem+json, no database

which measures each server's own floor: HTTP, routing and a small JSON
answer, no token check, no query. onaird's rate there is the most its one
main loop (DESIGN.md: one thread owns the HTTP server) answers on this
machine with wrk on the same cores; no route that also parses a body, checks
a token and waits for PostgreSQL can go faster. The report prints it beside
what the POST goal asks for.

Every request carries `Authorization: Bearer <secret>` of a viewer token the
benchmark inserts into api_tokens (SHA-256 of the secret); the peer checks it
(lookup by hash, cached in memory) as onaird is to.

The database: a throwaway PostgreSQL cluster (initdb as the `postgres` user
through runuser when run as root) in a temporary directory, listening only on
a Unix socket there; migrated by `onaird --migrate-only`. One video holds
ONAIR_BENCH_SEED seeded comments and is read by both servers; each server
POSTs to a video of its own, so that the rows it wrote can be counted.

Both servers run all along; the one not being measured is idle. For each
route, onair is loaded, then fastify: a warm-up (wrk, ONAIR_BENCH_WARMUP s),
then the measured run, `wrk -t2 -c64 -d10s --latency --timeout 10s` with a
Lua script that sets the method, headers and body and prints wrk's figures
on one machine-readable line at the end (done()). A request that times out
is counted as an error (wrk leaves it out of the latencies).

Checks: after each POST run, once the server has answered everything, the
rows of its video must have grown by at least the number of 2xx answers
(every 201 is committed) and by at most that plus the connections (requests
in flight when wrk stopped may still be committed). Before measuring, one
POST and one GET (and a few bad requests) are sent to both servers and their
answers compared: status, media type and JSON members must agree.

Goals (from the issue): onair >= 3x Fastify's throughput, onair p99 <= 10 ms.
The benchmark prints them; it fails (non-zero exit) only when something is
broken: a server that does not start, answers that differ, a 201 whose row
is missing. Exit 77 (skipped) when wrk, node, PostgreSQL or the npm packages
are missing.

Usage: bench_rest.py [ONAIRD]  (default $ONAIR_BUILD_ROOT/daemon/onaird)
Needs wrk, node with tests/node's packages (npm ci --prefix tests/node),
PostgreSQL's server (initdb, postgres, pg_ctl, psql). Environment:
  ONAIR_BENCH_DURATION     seconds of each measured run (default 10)
  ONAIR_BENCH_WARMUP       seconds of warm-up before each run (default 3)
  ONAIR_BENCH_CONNECTIONS  wrk connections (default 64)
  ONAIR_BENCH_THREADS      wrk threads (default 2)
  ONAIR_BENCH_SEED         comments seeded on the video read (default 10000)
  ONAIR_BENCH_FSYNC=0      run PostgreSQL with fsync and synchronous_commit
                           off (default: durable, as onaird's own cluster)
  ONAIR_BENCH_ONAIRD_ARGS  more onaird arguments (e.g. "--pool-size 8")
  ONAIR_BENCH_PG_SETTINGS  more postgresql.conf lines for the cluster, separated
                           by ";" (e.g. "wal_sync_method = open_datasync"),
                           to try a tuning: both servers share the cluster
  ONAIR_BENCH_ROUTES       post,get,unrouted (default all three)
  ONAIR_BENCH_KEEP=1       keep the temporary directory (its path is printed)
  ONAIR_BENCH_TMPDIR       where to make the temporary directory
  ONAIR_PG_BINDIR          PostgreSQL's bin directory (default: the newest
                           /usr/lib/postgresql/N/bin)
"""

import functools
import glob
import hashlib
import json
import os
import pwd
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import benchutil
from benchutil import (TICK, Broken, adopt, env_number, fmt, free_port, kill_children, listening, log, print_table,
                       proc_children, proc_cpu, ratio, run_main, stop, system_busy, tail)

SKIP = 77
THROUGHPUT_GOAL = 3.0
P99_GOAL_MS = 10.0
PG_PORT = 5432  # names the socket file only: no TCP
DATABASE = "onair"
SUPERUSER = "onair"
UNROUTED = "/api/v1/nowhere"
POST_BODY = {"author": "wrk", "body": "A comment from the REST benchmark, about this size, with some words in it.",
             "media_time_ms": 12345}


# cwd "/": commands run as the postgres user must be able to enter it.
run = functools.partial(benchutil.run, timeout=300, cwd="/")


def env_flag(name, default=False):
    text = os.environ.get(name, "").strip()
    return default if not text else text not in ("0", "no", "false")


# --------------------------------------------------------------------------
# processes


def spawn(cmd, log_path, env=None, cwd=None):
    with open(log_path, "wb") as out:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env,
                                cwd=cwd, start_new_session=True)
    return adopt(proc)


def tree_cpu(pid):
    """CPU seconds of a process, of its children that ended and were waited
    for (cutime, cstime), and of its descendants alive now: for the
    postmaster, every backend and worker, whether it outlived the run or not."""
    total = 0.0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/stat") as f:
                text = f.read()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()
        own = fields[11:15] if p == pid else fields[11:13]
        total += sum(int(v) for v in own) / TICK
        todo += proc_children(p)
    return total


def listen_overflows():
    """TcpExt ListenOverflows of this network namespace: connections dropped
    because a listener's accept queue (its backlog) was full. The client
    then resends after a timeout (200 ms to 1 s), which its first request's
    latency includes."""
    try:
        with open("/proc/net/netstat") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for names, values in zip(lines[::2], lines[1::2]):
        if names.startswith("TcpExt:"):
            table = dict(zip(names.split()[1:], values.split()[1:]))
            return int(table.get("ListenOverflows", 0))
    return None


# --------------------------------------------------------------------------
# PostgreSQL


class Cluster:
    """A throwaway cluster: Unix socket only, trust auth, superuser onair."""

    def __init__(self, workdir, bindir, durable):
        self.bindir = bindir
        self.root = os.path.join(workdir, "pg")
        self.data = os.path.join(self.root, "data")
        self.socket_dir = os.path.join(self.root, "run")
        self.log_path = os.path.join(self.root, "postgresql.log")
        self.durable = durable
        self.proc = None
        self.prefix = []
        if os.geteuid() == 0:
            self.prefix = ["runuser", "-u", "postgres", "--"]

    def uri(self, database=DATABASE):
        return f"postgresql:///{database}?host={self.socket_dir}&port={PG_PORT}&user={SUPERUSER}"

    def start(self):
        os.makedirs(self.socket_dir)
        os.makedirs(self.data)
        if self.prefix:
            user = pwd.getpwnam("postgres")
            for d in (self.root, self.socket_dir, self.data):
                os.chown(d, user.pw_uid, user.pw_gid)
            os.chmod(self.data, 0o700)
        run(self.prefix + [os.path.join(self.bindir, "initdb"), f"--pgdata={self.data}", f"--username={SUPERUSER}",
                           "--encoding=UTF8", "--locale=C.UTF-8", "--auth-local=trust", "--auth-host=reject",
                           "--no-sync", "--no-instructions"], "initdb")
        settings = [
            "listen_addresses = ''",
            f"port = {PG_PORT}",
            f"unix_socket_directories = '{self.socket_dir}'",
            "max_connections = 100",
        ]
        if not self.durable:
            settings += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        settings += [x.strip() for x in os.environ.get("ONAIR_BENCH_PG_SETTINGS", "").split(";") if x.strip()]
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write("\n# bench_rest\n" + "\n".join(settings) + "\n")
        self.proc = spawn(self.prefix + [os.path.join(self.bindir, "postgres"), "-D", self.data], self.log_path)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise Broken("PostgreSQL exited at start", tail(self.log_path))
            probe = subprocess.run([os.path.join(self.bindir, "pg_isready"), "-q", "-h", self.socket_dir, "-p",
                                    str(PG_PORT)], stdin=subprocess.DEVNULL)
            if probe.returncode == 0:
                break
            time.sleep(0.2)
        else:
            raise Broken("PostgreSQL did not start within 60 s", tail(self.log_path))
        self.sql(f"CREATE DATABASE {DATABASE}", database="postgres")

    def postmaster_pid(self):
        try:
            with open(os.path.join(self.data, "postmaster.pid")) as f:
                return int(f.readline())
        except (OSError, ValueError):
            return None

    def sql(self, text, database=DATABASE):
        """Runs SQL through psql; returns the rows as lists of fields."""
        out = run([os.path.join(self.bindir, "psql"), "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                   self.uri(database)], "psql", input_text=text)
        return [line.split("\t") for line in out.splitlines() if line]

    def stop(self):
        if not self.proc:
            return
        if self.proc.poll() is None:
            subprocess.run(self.prefix + [os.path.join(self.bindir, "pg_ctl"), "stop", "-D", self.data, "-m", "fast",
                                          "-w", "-t", "30"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, cwd="/")
        stop(self.proc, grace=10)


def find_pg_bindir():
    given = os.environ.get("ONAIR_PG_BINDIR")
    if given:
        return given
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(d.split("/")[-2]) if
                  d.split("/")[-2].isdigit() else 0)
    return dirs[-1] if dirs else None


# --------------------------------------------------------------------------
# servers


class Server:
    def __init__(self, label, cmd, port, log_path, env):
        self.label = label
        self.cmd = cmd
        self.port = port
        self.log_path = log_path
        self.env = env
        self.proc = None

    def start(self):
        self.proc = spawn(self.cmd, self.log_path, env=self.env)
        deadline = time.monotonic() + 60
        while not listening(self.port):
            if self.proc.poll() is not None:
                raise Broken(f"{self.label} exited at start (status {self.proc.returncode})", tail(self.log_path))
            if time.monotonic() > deadline:
                raise Broken(f"{self.label} does not listen on port {self.port} after 60 s", tail(self.log_path))
            time.sleep(0.1)

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def check_alive(self):
        if self.proc.poll() is not None:
            raise Broken(f"{self.label} died (status {self.proc.returncode})", tail(self.log_path))


def request(url, method="GET", body=None, headers=None, raw=None):
    """(status, content type, parsed JSON or None)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None and "Content-Type" not in req.headers:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            status, ctype, text = resp.status, resp.headers.get("Content-Type", ""), resp.read()
    except urllib.error.HTTPError as e:
        status, ctype, text = e.code, e.headers.get("Content-Type", ""), e.read()
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = None
    return status, ctype.split(";")[0].strip(), parsed


def shape(value):
    """What must agree between the servers: members and types, not values."""
    if isinstance(value, dict):
        return {k: (shape(v) if k not in ("detail", "title") else "str") for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value[:1]]
    return type(value).__name__


def compare_answers(servers, read_video, auth):
    """Sends the same requests to both servers; their answers must agree."""
    missing = "00000000-0000-7000-8000-000000000000"
    cases = [
        ("POST created", "POST", f"/api/v1/videos/{read_video}/comments", POST_BODY, None),
        ("GET newest page", "GET", f"/api/v1/videos/{read_video}/comments?limit=50", None, None),
        ("GET second page", "GET", None, None, None),
        ("POST unknown video", "POST", f"/api/v1/videos/{missing}/comments", POST_BODY, None),
        ("GET unknown video", "GET", f"/api/v1/videos/{missing}/comments", None, None),
        ("POST empty author", "POST", f"/api/v1/videos/{read_video}/comments", {"author": "", "body": "x"}, None),
        ("POST unknown field", "POST", f"/api/v1/videos/{read_video}/comments",
         {"author": "a", "body": "b", "color": "red"}, None),
        ("POST bad id", "POST", "/api/v1/videos/nope/comments", POST_BODY, None),
        ("POST malformed JSON", "POST", f"/api/v1/videos/{read_video}/comments", None, b"{"),
        ("GET bad limit", "GET", f"/api/v1/videos/{read_video}/comments?limit=0", None, None),
        ("GET unrouted", "GET", UNROUTED, None, None),
    ]
    lines = []
    answers = {}
    for name, method, path, body, raw in cases:
        got = {}
        for s in servers:
            p = path
            if p is None:  # the page after the first one, by its cursor
                first = answers["GET newest page"][s.label][2] or {}
                cursor = first.get("next_cursor") or ""
                p = f"/api/v1/videos/{read_video}/comments?limit=50&after={cursor}"
            got[s.label] = request(s.url(p), method, body, auth, raw)
        answers[name] = got
        (a_label, a), (b_label, b) = got.items()
        problems = []
        if a[0] != b[0]:
            problems.append(f"status {a[0]} vs {b[0]}")
        if a[1] != b[1]:
            problems.append(f"type {a[1]} vs {b[1]}")
        if shape(a[2]) != shape(b[2]):
            problems.append(f"body {json.dumps(a[2])[:300]} vs {json.dumps(b[2])[:300]}")
        if a[2] and b[2] and a[2].get("errors") != b[2].get("errors"):
            problems.append(f"errors {a[2].get('errors')} vs {b[2].get('errors')}")
        if problems:
            raise Broken(f"{name}: {a_label} and {b_label} answer differently", problems)
        lines.append(f"{name}: {a[0]} {a[1]}")
    for s in servers:  # the same newest-first page from both
        ids = [c["id"] for c in answers["GET newest page"][s.label][2]["items"]]
        if len(ids) != 50:
            raise Broken(f"{s.label}: the first page has {len(ids)} items, not 50")
    pages = [[c["id"] for c in answers["GET second page"][s.label][2]["items"]] for s in servers]
    if pages[0] != pages[1]:
        raise Broken("the second pages differ between the servers")
    return lines


# --------------------------------------------------------------------------
# wrk

LUA = r"""-- written by bench_rest.py
wrk.method = %(method)s
wrk.headers["Authorization"] = %(auth)s
%(body)s
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH_REST requests=%%d duration_us=%%d status_errors=%%d connect=%%d read=%%d write=%%d timeout=%%d " ..
    "p50=%%d p90=%%d p99=%%d p999=%%d max=%%d mean=%%.1f\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean))
end
"""


def lua_quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def write_script(path, method, auth, body):
    if body is not None:
        body_lines = (f'wrk.headers["Content-Type"] = "application/json"\n'
                      f"wrk.body = {lua_quote(json.dumps(body))}")
    else:
        body_lines = ""
    with open(path, "w") as f:
        f.write(LUA % {"method": lua_quote(method), "auth": lua_quote(auth), "body": body_lines})


def parse_wrk(text):
    """The figures of the done() line, latencies in ms, plus wrk's own
    Requests/sec and 99% lines (--latency) as printed."""
    line = next((x for x in text.splitlines() if x.startswith("BENCH_REST ")), None)
    if not line:
        return None
    values = dict(item.split("=", 1) for item in line.split()[1:])
    out = {k: float(v) for k, v in values.items()}
    for key in ("p50", "p90", "p99", "p999", "max", "mean"):
        out[key] /= 1000.0
    out["rps"] = out["requests"] / (out["duration_us"] / 1e6) if out["duration_us"] else 0.0
    out["errors"] = out["connect"] + out["read"] + out["write"] + out["timeout"]
    out["ok"] = out["requests"] - out["status_errors"]
    for x in text.splitlines():
        parts = x.split()
        if x.strip().startswith("Requests/sec:"):
            out["wrk_rps"] = float(parts[1])
        elif x.strip().startswith("99%") and len(parts) == 2:
            out["wrk_p99"] = parts[1]
    return out


def wrk(url, script, threads, connections, seconds, out_path):
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s", "-s", script,
           url]
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=seconds + 120)
    text = proc.stdout.decode("utf-8", "replace")
    with open(out_path, "a") as f:
        f.write(f"$ {shlex.join(cmd)}\n{text}\n")
    figures = parse_wrk(text)
    if proc.returncode != 0 or figures is None:
        raise Broken(f"wrk failed (exit {proc.returncode})", [shlex.join(cmd)] + text.splitlines()[-15:])
    return figures


# --------------------------------------------------------------------------


def main():
    duration = env_number("ONAIR_BENCH_DURATION", 10, int, minimum=1, program="bench_rest")
    warmup = env_number("ONAIR_BENCH_WARMUP", 3, int, minimum=0, program="bench_rest")
    connections = env_number("ONAIR_BENCH_CONNECTIONS", 64, int, minimum=1, program="bench_rest")
    threads = env_number("ONAIR_BENCH_THREADS", 2, int, minimum=1, program="bench_rest")
    seed = env_number("ONAIR_BENCH_SEED", 10000, int, minimum=100, program="bench_rest")
    durable = env_flag("ONAIR_BENCH_FSYNC", True)
    keep = env_flag("ONAIR_BENCH_KEEP")
    routes = [r.strip() for r in os.environ.get("ONAIR_BENCH_ROUTES", "post,get,unrouted").split(",")
              if r.strip()]
    if not routes or any(r not in ("post", "get", "unrouted") for r in routes):
        sys.exit("bench_rest: ONAIR_BENCH_ROUTES is a list of post, get, unrouted")
    threads = min(threads, connections)

    source_root = os.environ.get("ONAIR_SOURCE_ROOT") or os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__))))
    build_root = os.environ.get("ONAIR_BUILD_ROOT", "")
    onaird = sys.argv[1] if len(sys.argv) > 1 else os.path.join(build_root, "daemon", "onaird")
    node_dir = os.environ.get("ONAIR_NODE_DIR") or os.path.join(source_root, "tests", "node")
    peer = os.path.join(source_root, "tests", "bench", "fastify_comments.mjs")
    bindir = find_pg_bindir()

    missing = []
    if not shutil.which("wrk"):
        missing.append("wrk (apt-get install wrk)")
    if not shutil.which("node"):
        missing.append("node (apt-get install nodejs)")
    else:  # Fastify 5 needs Node.js 20 or later (Debian 12 ships 18)
        version = subprocess.run(["node", "--version"], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL).stdout
        major = version.decode().strip().lstrip("v").split(".")[0]
        if not major.isdigit() or int(major) < 20:
            missing.append(f"Node.js 20 or later for Fastify 5 (node --version: {version.decode().strip()})")
    for package in ("fastify", "pg"):
        if not os.path.exists(os.path.join(node_dir, "node_modules", package, "package.json")):
            missing.append(f"the npm package {package} (npm ci --prefix tests/node)")
    if not bindir or not all(os.access(os.path.join(bindir, t), os.X_OK)
                             for t in ("initdb", "postgres", "pg_ctl", "psql", "pg_isready")):
        missing.append("PostgreSQL's server (apt-get install postgresql)")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            missing.append("the system user postgres (made by the postgresql package)")
    if not os.access(onaird, os.X_OK):
        missing.append(f"onaird at {onaird!r} (build it, or pass its path)")
    if missing:
        log("bench_rest: skipped, missing: " + "; ".join(missing))
        return SKIP

    workdir = tempfile.mkdtemp(prefix="onair-bench-rest-", dir=os.environ.get("ONAIR_BENCH_TMPDIR") or None)
    os.chmod(workdir, 0o711)  # the postgres user reaches its directory below
    cluster = Cluster(workdir, bindir, durable)
    servers = []
    try:
        return bench(workdir, cluster, servers, onaird, peer, node_dir, source_root, duration, warmup, connections, threads,
                     seed, routes)
    except Broken as e:
        log(e.report())
        return 1
    finally:
        for s in servers:  # gently, so that they close their connections first
            if s.proc:
                stop(s.proc, signal.SIGTERM, grace=5)
        cluster.stop()
        kill_children()
        if keep:
            log(f"bench_rest: kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def bench(workdir, cluster, servers, onaird, peer, node_dir, source_root, duration, warmup, connections, threads, seed,
          routes):
    t_start = time.monotonic()
    log("== rest_vs_fastify: comment routes, onaird against Fastify + pg, loaded by wrk ==")
    log(f"cores: {os.cpu_count()}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    versions = [run(["node", "--version"], "node --version").strip()]
    for package in ("fastify", "pg"):
        with open(os.path.join(node_dir, "node_modules", package, "package.json")) as f:
            versions.append(f"{package} {json.load(f)['version']}")
    versions.append(run([os.path.join(cluster.bindir, "postgres"), "--version"], "postgres --version").strip())
    log("node " + ", ".join(versions))
    built = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(os.path.getmtime(onaird)))
    log(f"onaird: {onaird} (built {built})")

    # -- the database
    t0 = time.monotonic()
    cluster.start()
    migrations = os.path.join(source_root, "schemas", "postgres")
    out = run([onaird, "--migrate-only", "--db", cluster.uri(), "--migrations", migrations,
               "--state", os.path.join(workdir, "onaird")], "onaird --migrate-only")
    log(out.strip().splitlines()[-1] if out.strip() else "onaird --migrate-only: done")
    secret = "bench-" + secrets.token_urlsafe(32)
    videos = cluster.sql(
        "INSERT INTO videos (kind, title) VALUES ('vod', 'read by both'), ('vod', 'onair posts'), "
        "('vod', 'fastify posts') RETURNING id;\n"
        f"INSERT INTO api_tokens (name, role, token_hash) VALUES ('bench_rest', 'viewer', "
        f"sha256(convert_to('{secret}', 'UTF8')));\n")
    read_video, post_videos = videos[0][0], {"onair": videos[1][0], "fastify": videos[2][0]}
    cluster.sql(
        "INSERT INTO comments (video_id, author, body, media_time_ms, created_at) "
        f"SELECT '{read_video}', 'viewer ' || (i % 500), 'seeded comment number ' || i || ' ' || repeat('x', 60), "
        f"i * 100, now() - (({seed} - i) * interval '10 ms') FROM generate_series(1, {seed}) AS i;\n"
        "ANALYZE;\n")
    check = cluster.sql(f"SELECT encode(sha256(convert_to('{secret}', 'UTF8')), 'hex') = "
                        f"'{hashlib.sha256(secret.encode()).hexdigest()}'")
    if check != [["t"]]:
        raise Broken("the token's SHA-256 differs between PostgreSQL and Python")
    log(f"database: {cluster.uri()} ({'durable: fsync on' if cluster.durable else 'fsync and synchronous_commit off'}), "
        f"{seed} comments seeded, ready in {time.monotonic() - t0:.1f} s")

    # -- the servers
    auth = {"Authorization": f"Bearer {secret}"}
    env = dict(os.environ)
    env["ONAIR_NODE_DIR"] = node_dir
    extra = shlex.split(os.environ.get("ONAIR_BENCH_ONAIRD_ARGS", ""))
    ports = {"onair": free_port(), "fastify": free_port()}
    servers += [
        Server("onair", [onaird, "--db", cluster.uri(), "--listen", "127.0.0.1", "--port", str(ports["onair"]),
                         "--migrations", migrations, "--state", os.path.join(workdir, "onaird")] + extra,
               ports["onair"], os.path.join(workdir, "onaird.log"), env),
        Server("fastify", ["node", peer, str(ports["fastify"]), cluster.uri()], ports["fastify"],
               os.path.join(workdir, "fastify.log"), env),
    ]
    for s in servers:
        s.start()
        log(f"{s.label}: {shlex.join(s.cmd)}")

    lines = compare_answers(servers, read_video, auth)
    log("answers agree: " + "; ".join(lines))

    # -- load
    wrk_log = os.path.join(workdir, "wrk.txt")
    log("")
    log(f"load: wrk -t{threads} -c{connections} -d{duration}s --latency --timeout 10s "
        f"(after a {warmup} s warm-up), one server at a time, the other idle")
    results = {}
    checks = []
    pg_pid = cluster.postmaster_pid()
    for route in routes:
        for s in servers:
            if route == "post":
                video = post_videos[s.label]
                path = f"/api/v1/videos/{video}/comments"
                script = os.path.join(workdir, f"post-{s.label}.lua")
                write_script(script, "POST", auth["Authorization"], POST_BODY)
            elif route == "get":
                path = f"/api/v1/videos/{read_video}/comments?limit=50"
                script = os.path.join(workdir, f"get-{s.label}.lua")
                write_script(script, "GET", auth["Authorization"], None)
            else:
                path = UNROUTED
                script = os.path.join(workdir, f"unrouted-{s.label}.lua")
                write_script(script, "GET", auth["Authorization"], None)
            if warmup:
                wrk(s.url(path), script, threads, connections, warmup, wrk_log)
            s.check_alive()
            before = None
            if route == "post":
                time.sleep(0.5)
                before = int(cluster.sql(f"SELECT count(*) FROM comments WHERE video_id = '{video}'")[0][0])
            cpu0, pg0, busy0, over0 = proc_cpu(s.proc.pid) or 0.0, tree_cpu(pg_pid), system_busy(), listen_overflows()
            figures = wrk(s.url(path), script, threads, connections, duration, wrk_log)
            cpu1, pg1, busy1, over1 = proc_cpu(s.proc.pid) or 0.0, tree_cpu(pg_pid), system_busy(), listen_overflows()
            figures["overflows"] = over1 - over0 if over0 is not None and over1 is not None else None
            seconds = figures["duration_us"] / 1e6
            figures["server_cpu"] = (cpu1 - cpu0) / seconds * 100
            figures["pg_cpu"] = (pg1 - pg0) / seconds * 100
            figures["machine"] = (busy1 - busy0) / seconds * 100
            s.check_alive()
            if route == "post":
                time.sleep(1.0)  # what was in flight when wrk stopped is answered or dropped
                after = int(cluster.sql(f"SELECT count(*) FROM comments WHERE video_id = '{video}'")[0][0])
                added = after - before
                ok = int(figures["ok"])
                in_flight = added - ok
                verdict = "ok" if 0 <= in_flight <= connections else "WRONG"
                checks.append(f"{s.label}: {ok} POSTs answered 2xx, {added} rows added "
                              f"({in_flight} more: requests in flight when wrk stopped, at most {connections}): "
                              f"{verdict}")
                if verdict != "ok":
                    raise Broken(f"{s.label}: {ok} POSTs answered 2xx but {added} rows were added", checks)
            results[(route, s.label)] = figures
            log(f"  {route.upper():4} {s.label:8} {figures['rps']:9.0f} req/s  p50 {figures['p50']:6.2f} ms  "
                f"p99 {figures['p99']:7.2f} ms  non-2xx {int(figures['status_errors'])}  "
                f"errors {int(figures['errors'])}")

    # -- report
    log("")
    log("figures (latencies in ms; CPU in % of one core over the run; machine = all processes, "
        f"{os.cpu_count()} cores = {os.cpu_count() * 100} %)")
    rows = []
    for (route, label), f in results.items():
        rows.append((f"{route.upper()} {label}", f"{f['rps']:.0f}", f"{f['p50']:.2f}", f"{f['p90']:.2f}",
                     f"{f['p99']:.2f}", f"{f['max']:.1f}", str(int(f["status_errors"])), str(int(f["errors"])),
                     f"{f['server_cpu']:.0f}", f"{f['pg_cpu']:.0f}", f"{f['machine']:.0f}",
                     fmt(f["overflows"], "d")))
    print_table(("route server", "req/s", "p50", "p90", "p99", "max", "non-2xx", "errors", "server CPU",
                 "postgres CPU", "machine", "listen overflows"), rows)
    log("listen overflows: connections the kernel dropped because the server's accept queue (listen "
        "backlog) was full while wrk connected; each costs its first request a resend (>= 200 ms)")
    log("")
    log("onair/fastify")
    rows = []
    verdicts = []
    for route in routes:
        on, fa = results[(route, "onair")], results[(route, "fastify")]
        throughput = ratio(on["rps"], fa["rps"])
        p99 = ratio(on["p99"], fa["p99"])
        rows.append((route.upper(), fmt(throughput, ".2f") + "x", fmt(p99, ".2f") + "x",
                     fmt(ratio(on["server_cpu"] / on["rps"] if on["rps"] else None,
                               fa["server_cpu"] / fa["rps"] if fa["rps"] else None), ".2f") + "x"))
        if route == "unrouted":
            continue  # a yardstick, not a goal
        met_t = throughput is not None and throughput >= THROUGHPUT_GOAL
        met_p = on["p99"] <= P99_GOAL_MS
        verdicts.append(f"{route.upper()}: throughput {fmt(throughput, '.2f')}x "
                        f"({'met' if met_t else 'NOT met'}, goal >= {THROUGHPUT_GOAL:g}x), onair p99 "
                        f"{on['p99']:.1f} ms ({'met' if met_p else 'NOT met'}, goal <= {P99_GOAL_MS:g} ms)")
    print_table(("route", "req/s", "p99", "server CPU per request"), rows)
    log("")
    log("check, every 201 committed:")
    for line in checks:
        log("  " + line)
    log("goals:")
    for line in verdicts:
        log("  " + line)
    if ("unrouted", "onair") in results:
        floor = results[("unrouted", "onair")]
        log(f"yardstick: onaird answers a path it does not serve (404, no token, no query) at "
            f"{floor['rps']:.0f} req/s with {floor['server_cpu']:.0f} % of a core: the most its one main loop "
            "serves here")
        if ("post", "fastify") in results:
            needed = THROUGHPUT_GOAL * results[("post", "fastify")]["rps"]
            log(f"  the POST goal asks for {needed:.0f} req/s ({THROUGHPUT_GOAL:g}x Fastify's), "
                f"{needed / floor['rps'] if floor['rps'] else float('nan'):.2f}x that floor")
    log(f"bench_rest: done in {time.monotonic() - t_start:.0f} s")
    return 0


if __name__ == "__main__":
    run_main(main)

#!/usr/bin/env python3
"""Serves a directory of HLS/DASH output over HTTP for the demo.

Like `python3 -m http.server`, plus what a live stream needs: the right MIME
types, playlists never cached (they change every segment), and CORS so that a
player page served elsewhere can read the stream.

Usage: serve.py DIRECTORY [--bind 127.0.0.1] [--port 8080]
"""

import argparse
import functools
import http.server
import signal
import sys

MIME_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".mpd": "application/dash+xml",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".m4a": "audio/mp4",
    ".ts": "video/mp2t",
    ".js": "text/javascript",
    ".html": "text/html; charset=utf-8",
}


class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}

    def end_headers(self):
        path = self.path.split("?", 1)[0]
        if path.endswith((".m3u8", ".mpd", ".html", "/")):
            self.send_header("Cache-Control", "no-cache, no-store")
        self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()

    def log_message(self, format, *args):
        # Segment requests would drown the pipeline's output: log failures only.
        if len(args) >= 2 and str(args[1]).startswith(("4", "5")):
            super().log_message(format, *args)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory")
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()

    handler = functools.partial(Handler, directory=args.directory)
    try:
        server = http.server.ThreadingHTTPServer((args.bind, args.port), handler)
    except OSError as error:
        sys.exit(f"serve.py: cannot listen on {args.bind}:{args.port}: {error.strerror}")
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# onair — end to end: a generated 12 s 1080p30 video through
# `abrladder ! abrsink` with gst-launch-1.0 (as the README shows), checked with
# ffprobe and with the playlist parsers players use (m3u8-parser, mpd-parser).
# SPDX-License-Identifier: LGPL-2.1-or-later

import json
import os
import shutil
import subprocess
import sys
import tempfile

LADDER = {"1080p": (1920, 1080, 5000), "720p": (1280, 720, 2800), "480p": (854, 480, 1400), "144p": (256, 144, 200)}
SECONDS = 12
GOP = 2.0
SOURCE_ROOT = os.environ.get("ONAIR_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from checks import check, finish  # noqa: E402


def run(args, **kwargs):
    result = subprocess.run(args, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        print("command failed:", " ".join(args), "\n", result.stdout[-3000:], result.stderr[-3000:], flush=True)
        sys.exit(1)
    return result.stdout


def ffprobe(path, *args):
    return json.loads(run(["ffprobe", "-v", "error", "-of", "json", *args, path]))


def make_input(directory):
    """12 s of 1080p30 with motion and fine detail (moving test pattern plus
    temporal noise), so the encoders must spend their bitrate."""
    path = os.path.join(directory, "input.mp4")
    run(["ffmpeg", "-nostdin", "-y", "-f", "lavfi", "-i",
         f"testsrc2=size=1920x1080:rate=30:duration={SECONDS},noise=alls=14:allf=t+u",
         "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={SECONDS}",
         "-c:v", "libx264", "-preset", "ultrafast", "-qp", "12", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-b:a", "128k", "-shortest", path])
    return path


def package(source, output):
    ladder = ",".join(f"{name}:{kbps}" for name, (_, _, kbps) in LADDER.items())
    pipeline = (f"uridecodebin uri=file://{source} name=d "
                f"d. ! queue ! abrladder name=l ladder={ladder} gop-duration={GOP} ! abrsink mode=vod location={output} "
                f"d. ! queue ! l.audio")
    print("gst-launch-1.0 -e", pipeline, flush=True)
    run(["gst-launch-1.0", "-e", *pipeline.split()], timeout=600)


def segment_files(rendition_dir, media):
    return [os.path.join(rendition_dir, segment["uri"]) for segment in media["segments"]]


def first_frame(rendition_dir, segment_path):
    """PTS and key flag of the first video frame of one segment, as a player
    sees it: the init segment followed by this media segment."""
    joined = segment_path + ".probe.mp4"
    with open(joined, "wb") as out:
        for part in (os.path.join(rendition_dir, "init.mp4"), segment_path):
            with open(part, "rb") as f:
                out.write(f.read())
    packets = ffprobe(joined, "-select_streams", "v:0", "-show_entries", "packet=pts_time,flags",
                      "-read_intervals", "%+#1")["packets"]
    os.unlink(joined)
    return float(packets[0]["pts_time"]), "K" in packets[0]["flags"]


def main():
    node_dir = os.environ.get("ONAIR_NODE_DIR", os.path.join(SOURCE_ROOT, "tests", "node"))
    work = tempfile.mkdtemp(prefix="onair-e2e-")
    try:
        source = make_input(work)
        output = os.path.join(work, "out")
        package(source, output)

        parsed = json.loads(run(["node", os.path.join(SOURCE_ROOT, "tests", "tools", "parse_manifests.mjs"), output],
                                env=dict(os.environ, ONAIR_NODE_DIR=node_dir)))
        master, media, mpd = parsed["master"], parsed["media"], parsed["mpd"]

        # multivariant playlist: one variant per rung, attributes a player needs
        variants = {p["uri"]: p["attributes"] for p in master["playlists"]}
        check(sorted(variants) == sorted(f"{n}/index.m3u8" for n in LADDER), f"variants: {sorted(variants)}")
        check("audio" in master["mediaGroups"].get("AUDIO", {}), "no audio group in master.m3u8")
        bandwidths = []
        for name, (width, height, kbps) in LADDER.items():
            attributes = variants.get(f"{name}/index.m3u8", {})
            check(attributes.get("RESOLUTION") == {"width": width, "height": height},
                  f"{name} RESOLUTION {attributes.get('RESOLUTION')}")
            check(attributes.get("FRAME-RATE") == 30, f"{name} FRAME-RATE {attributes.get('FRAME-RATE')}")
            codecs = attributes.get("CODECS", "")
            check(codecs.startswith("avc1.") and codecs.endswith(",mp4a.40.2"), f"{name} CODECS {codecs}")
            check(int(attributes.get("AVERAGE-BANDWIDTH", 0)) > 0, f"{name} has no AVERAGE-BANDWIDTH")
            check(int(attributes.get("BANDWIDTH", 0)) >= int(attributes.get("AVERAGE-BANDWIDTH", 0)),
                  f"{name} BANDWIDTH below its average")
            bandwidths.append(int(attributes.get("BANDWIDTH", 0)))
        check(bandwidths == sorted(bandwidths, reverse=True), "variants not ordered by bandwidth")

        # every referenced file exists; VOD playlists are complete
        for uri, playlist in media.items():
            base = os.path.join(output, os.path.dirname(uri))
            check(playlist.get("endList") is True, f"{uri} has no EXT-X-ENDLIST")
            check(playlist.get("playlistType") == "VOD", f"{uri} type {playlist.get('playlistType')}")
            for segment in playlist["segments"]:
                check(os.path.isfile(os.path.join(base, segment["uri"])), f"{uri}: missing {segment['uri']}")
                check(os.path.isfile(os.path.join(base, segment["map"]["uri"])), f"{uri}: missing init segment")
            total = sum(s["duration"] for s in playlist["segments"])
            check(abs(total - SECONDS) < 0.25, f"{uri} lasts {total:.3f} s, expected {SECONDS}")

        # each rendition: resolution and bitrate by ffprobe; segments start on
        # a keyframe at the same PTS in every rendition
        starts = {}
        for name, (width, height, kbps) in LADDER.items():
            rendition_dir = os.path.join(output, name)
            playlist = media[f"{name}/index.m3u8"]
            check(len(playlist["segments"]) == SECONDS / GOP, f"{name}: {len(playlist['segments'])} segments")
            files = segment_files(rendition_dir, playlist)
            whole = os.path.join(work, f"{name}.mp4")
            with open(whole, "wb") as out:
                for part in [os.path.join(rendition_dir, "init.mp4")] + files:
                    with open(part, "rb") as f:
                        out.write(f.read())
            info = ffprobe(whole, "-show_streams", "-show_format")
            stream = info["streams"][0]
            check(stream["codec_name"] == "h264", f"{name} codec {stream['codec_name']}")
            check((stream["width"], stream["height"]) == (width, height),
                  f"{name} is {stream['width']}x{stream['height']}")
            check(int(stream.get("nb_frames", SECONDS * 30)) == SECONDS * 30, f"{name} frames {stream.get('nb_frames')}")
            media_bytes = sum(os.path.getsize(f) for f in files)
            measured = media_bytes * 8 / SECONDS / 1000
            print(f"{name}: {stream['width']}x{stream['height']} {measured:.0f} kbit/s (target {kbps})", flush=True)
            check(abs(measured - kbps) <= 0.2 * kbps, f"{name} bitrate {measured:.0f} kbit/s vs target {kbps}")
            starts[name] = []
            for path in files:
                pts, key = first_frame(rendition_dir, path)
                check(key, f"{name}: {os.path.basename(path)} does not start with a keyframe")
                starts[name].append(round(pts, 4))
        reference = starts["1080p"]
        check(len(set(reference)) == len(reference), "segment start times repeat")
        for name, values in starts.items():
            check(values == reference, f"{name} segments start at {values}, 1080p at {reference}")
        print("segment starts:", reference, flush=True)

        # audio rendition
        audio = media.get("audio/index.m3u8")
        if check(audio is not None, "no audio playlist"):
            audio_dir = os.path.join(output, "audio")
            with open(os.path.join(work, "audio.mp4"), "wb") as out:
                for part in [os.path.join(audio_dir, "init.mp4")] + segment_files(audio_dir, audio):
                    with open(part, "rb") as f:
                        out.write(f.read())
            stream = ffprobe(os.path.join(work, "audio.mp4"), "-show_streams")["streams"][0]
            check(stream["codec_name"] == "aac", f"audio codec {stream['codec_name']}")

        # DASH: every representation, the same segment files, durations add up
        representations = {p["attributes"]["NAME"]: p for p in mpd["playlists"]}
        check(sorted(representations) == sorted(LADDER), f"MPD representations {sorted(representations)}")
        for name, (width, height, _) in LADDER.items():
            rep = representations.get(name)
            if not check(rep is not None, f"MPD has no {name}"):
                continue
            check(rep["attributes"]["RESOLUTION"] == {"width": width, "height": height}, f"MPD {name} size")
            check(len(rep["segments"]) == SECONDS / GOP, f"MPD {name}: {len(rep['segments'])} segments")
            for segment in rep["segments"]:
                check(os.path.isfile(os.path.join(output, segment["uri"])), f"MPD references missing {segment['uri']}")
            first = rep["segments"][0]["presentationTime"]
            check(abs(first) < 0.001, f"MPD {name} starts at {first}")
        check(abs(mpd["duration"] - SECONDS) < 0.25, f"MPD duration {mpd['duration']}")
        check("audio" in mpd["mediaGroups"].get("AUDIO", {}), "MPD has no audio")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    finish()


if __name__ == "__main__":
    main()

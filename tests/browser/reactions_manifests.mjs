// reactions in abrsink's manifests: reactions_channel (built next to this
// file) runs a live channel for a few seconds with reactions added on a
// fixed schedule; every `reactions-window` it reports must appear
// - in the reference video's media playlist as an EXT-X-DATERANGE that
//   m3u8-parser reads: ID, CLASS="com.onair.reactions", DURATION=0.5, and
//   X-REACTIONS whose decodeURIComponent() is the window's counts, exactly;
//   START-DATE minus the first segment's PROGRAM-DATE-TIME (running time 0)
//   equal to the window's start (within 2 ms);
// - in the MPD as an Event of the EventStream urn:onair:reactions:2026 with
//   presentationTime (ms) the window's start, duration 500 and the counts as
//   its text;
// - in every video rendition's segments (180p and 144p) as an emsg box
//   (codem-isoboxer reads it) of version 1, scheme https://aomedia.org/emsg/ID3,
//   presentation_time the window's start on the track's timeline (10 s + running
//   time, exact to a tick), event_duration 0.5 s, in front of the first moof of
//   the segment the window starts in or of the next one (the window's event
//   comes when it ends), each window exactly once per rendition, holding
//   an ID3 tag (@svta/cml-id3 decodes it) whose one TXXX frame is
//   "com.onair.reactions" with the window's counts, exactly;
// and in a second run with playlist-length=2 the playlist holds only the
// DATERANGEs of the windows its segments cover (they leave with them).
//
// Run by meson (suite "elements"); by hand:
//   GST_PLUGIN_PATH=build/plugins node tests/browser/reactions_manifests.mjs build/tests/browser/reactions_channel
// Exit: 0 pass, 1 fail, 77 skip (no npm packages).

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const nodeDir = path.resolve(process.env.ONAIR_NODE_DIR || path.join(here, '..', 'node'));
const require = createRequire(path.join(nodeDir, 'package.json'));
let Parser, ISOBoxer, getId3Frames;
try {
  ({ Parser } = require('m3u8-parser'));
  ISOBoxer = require('codem-isoboxer');
  ({ getId3Frames } = await import(require.resolve('@svta/cml-id3')));
} catch (error) {
  console.log(`SKIP: npm packages not found in ${nodeDir}: ${error.message}`);
  process.exit(77);
}

const producer = process.argv[2];
const failures = [];
const fail = (message) => failures.push(message);

function runChannel(dir, seconds, playlistLength, ladder = '180p:300') {
  const result = spawnSync(producer, ['--output', dir, '--seconds', String(seconds), '--playlist-length',
    String(playlistLength), '--ladder', ladder], { encoding: 'utf8', timeout: 90_000 });
  if (result.status !== 0) throw new Error(`reactions_channel failed (${result.status ?? result.signal}):\n${result.stderr}`);
  return result.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line)).filter((e) => e.event === 'window');
}

function parsePlaylist(file) {
  const parser = new Parser();
  parser.on('warn', ({ message }) => fail(`m3u8-parser warning on ${file}: ${message}`));
  parser.push(fs.readFileSync(file, 'utf8'));
  parser.end();
  return parser.manifest;
}

const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'onair-reactions-'));
try {
  // 1: every window kept
  const dir = path.join(temp, 'all');
  fs.mkdirSync(dir);
  const windows = runChannel(dir, 6, 0, '180p:300,144p:150');
  if (windows.length < 10) fail(`only ${windows.length} windows reported`);
  const playlistFile = path.join(dir, '180p', 'index.m3u8');
  const text = fs.readFileSync(playlistFile, 'utf8');
  const manifest = parsePlaylist(playlistFile);
  const ranges = manifest.dateRanges || [];
  const first = manifest.segments[0] && manifest.segments[0].programDateTime;
  if (!first) fail('no EXT-X-PROGRAM-DATE-TIME on the first segment');
  console.log(`${windows.length} windows; ${ranges.length} DATERANGEs parsed by m3u8-parser`);
  let firstLead = null;
  for (const window of windows) {
    const range = ranges.find((r) => r.id === window.id);
    if (!range) {
      fail(`no DATERANGE ${window.id}`);
      continue;
    }
    if (range.class !== 'com.onair.reactions') fail(`${window.id}: CLASS ${range.class}`);
    if (range.duration !== 0.5) fail(`${window.id}: DURATION ${range.duration}`);
    const payload = range.xReactions;
    let counts = null;
    try {
      counts = JSON.parse(decodeURIComponent(payload));
    } catch (error) {
      fail(`${window.id}: X-REACTIONS ${payload} does not decode: ${error.message}`);
    }
    if (counts && JSON.stringify(counts) !== JSON.stringify(window.counts)) {
      fail(`${window.id}: X-REACTIONS ${JSON.stringify(counts)}, the element counted ${JSON.stringify(window.counts)}`);
    }
    // the first segment starts at the first frame's running time, a few ms
    // after 0: the same for every window
    const lead = window.start - (new Date(range.startDate).getTime() - first) / 1000;
    if (firstLead === null) firstLead = lead;
    if (lead < -0.002 || lead > 0.2 || Math.abs(lead - firstLead) > 0.002) {
      fail(`${window.id}: START-DATE is ${(window.start - lead).toFixed(3)} s after the first segment's date, ` +
        `the window starts at ${window.start} s of running time (first segment at ${firstLead.toFixed(3)} s)`);
    }
  }
  console.log(`START-DATE = first segment's date + window start - ${firstLead && firstLead.toFixed(3)} s for every window`);
  if (ranges.length !== windows.length) fail(`${ranges.length} DATERANGEs for ${windows.length} windows`);
  const master = fs.readFileSync(path.join(dir, 'master.m3u8'), 'utf8');
  if (master.includes('DATERANGE')) fail('the multivariant playlist has DATERANGEs');
  if (!text.includes('X-REACTIONS="{%22')) fail('X-REACTIONS is not written percent-encoded');

  // the MPD's EventStream
  const mpd = fs.readFileSync(path.join(dir, 'manifest.mpd'), 'utf8');
  const stream = mpd.match(/<EventStream schemeIdUri="urn:onair:reactions:2026" timescale="1000">([\s\S]*?)<\/EventStream>/);
  if (!stream) fail('no EventStream urn:onair:reactions:2026 in the MPD');
  else {
    const events = [...stream[1].matchAll(/<Event presentationTime="(\d+)" duration="(\d+)" id="(\d+)">([^<]*)<\/Event>/g)];
    if (events.length !== windows.length) fail(`${events.length} MPD Events for ${windows.length} windows`);
    for (const window of windows) {
      const at = Math.round(window.start * 1000);
      const event = events.find((e) => Number(e[1]) === at);
      if (!event) fail(`no MPD Event at ${at} ms (${window.id})`);
      else {
        const body = event[4].replaceAll('&quot;', '"').replaceAll('&amp;', '&');
        if (event[2] !== '500') fail(`${window.id}: MPD Event duration ${event[2]}`);
        if (JSON.stringify(JSON.parse(body)) !== JSON.stringify(window.counts)) fail(`${window.id}: MPD Event ${body}`);
      }
    }
  }

  // the emsg boxes (ID3) of every video rendition
  for (const rendition of ['180p', '144p']) {
    const segDir = path.join(dir, rendition);
    const files = fs.readdirSync(segDir).filter((f) => f.endsWith('.m4s')).sort();
    const seen = new Map();
    let segmentStarts = [];
    for (const [index, file] of files.entries()) {
      const bytes = fs.readFileSync(path.join(segDir, file));
      const parsed = ISOBoxer.parseBuffer(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      const types = parsed.boxes.map((b) => b.type);
      const firstMoof = types.indexOf('moof');
      parsed.boxes.forEach((box, at) => {
        if (box.type === 'emsg' && at > firstMoof) fail(`${rendition}/${file}: an emsg after the first moof`);
      });
      const moof = parsed.boxes[firstMoof];
      const tfdt = moof && moof.boxes.find((b) => b.type === 'traf').boxes.find((b) => b.type === 'tfdt');
      segmentStarts.push(tfdt ? Number(tfdt.baseMediaDecodeTime) : NaN);
      for (const emsg of parsed.boxes.filter((b) => b.type === 'emsg')) {
        if (emsg.version !== 1) fail(`${rendition}/${file}: emsg version ${emsg.version}`);
        if (emsg.scheme_id_uri !== 'https://aomedia.org/emsg/ID3') fail(`${rendition}/${file}: emsg scheme ${emsg.scheme_id_uri}`);
        const start = Number(emsg.presentation_time) / emsg.timescale - 10;
        const frames = getId3Frames(new Uint8Array(emsg.message_data));
        if (frames.length !== 1 || frames[0].key !== 'TXXX' || frames[0].info !== 'com.onair.reactions') {
          fail(`${rendition}/${file}: ID3 frames ${JSON.stringify(frames)}`);
          continue;
        }
        if (seen.has(start)) fail(`${rendition}: two emsg for the window at ${start} s`);
        seen.set(start, { index, timescale: emsg.timescale, duration: emsg.event_duration / emsg.timescale, counts: frames[0].data });
      }
    }
    let checked = 0;
    for (const window of windows) {
      const entry = [...seen.entries()].find(([start]) => Math.abs(start - window.start) <= 1.5 / 90000);
      if (!entry) {
        fail(`${rendition}: no emsg for ${window.id} at ${window.start} s`);
        continue;
      }
      const [, { index, timescale, duration, counts }] = entry;
      if (Math.abs(duration - 0.5) > 1 / timescale) fail(`${rendition}: ${window.id} emsg duration ${duration}`);
      if (JSON.stringify(JSON.parse(counts)) !== JSON.stringify(window.counts)) {
        fail(`${rendition}: ${window.id} ID3 TXXX ${counts}, the element counted ${JSON.stringify(window.counts)}`);
      }
      // the segment the window starts in: the last one starting at or before it
      const media = (window.start + 10) * timescale;
      let home = 0;
      while (home + 1 < segmentStarts.length && segmentStarts[home + 1] <= media + 1) home++;
      if (index !== home && index !== home + 1) {
        fail(`${rendition}: ${window.id} (${window.start} s) in segment ${index}, it starts in segment ${home}`);
      }
      checked++;
    }
    if (seen.size !== windows.length) fail(`${rendition}: ${seen.size} emsg for ${windows.length} windows`);
    console.log(`${rendition}: ${checked} of ${windows.length} windows as ID3 (TXXX) in emsg, exact, in ${files.length} segments`);
  }

  // 2: a short live window: the DATERANGEs leave with their segments
  const shortDir = path.join(temp, 'short');
  fs.mkdirSync(shortDir);
  const shortWindows = runChannel(shortDir, 10, 2);
  const shortManifest = parsePlaylist(path.join(shortDir, '180p', 'index.m3u8'));
  const shortRanges = shortManifest.dateRanges || [];
  const windowStart = shortManifest.segments[0].programDateTime;
  console.log(`short window: ${shortManifest.segments.length} segments, ${shortRanges.length} DATERANGEs of ${shortWindows.length} windows`);
  if (shortRanges.length >= shortWindows.length) fail(`the short live playlist kept ${shortRanges.length} of ${shortWindows.length} DATERANGEs`);
  if (shortRanges.length === 0) fail('the short live playlist has no DATERANGE');
  for (const range of shortRanges) {
    // a window is written with the segment after it ended: at most one segment (1 s) early
    if (new Date(range.startDate).getTime() < windowStart - 1500) fail(`${range.id} starts before the playlist's window`);
  }
  const shortMpd = fs.readFileSync(path.join(shortDir, 'manifest.mpd'), 'utf8');
  const shortEvents = (shortMpd.match(/<Event presentationTime/g) || []).length;
  console.log(`short window MPD: ${shortEvents} Events`);
} catch (error) {
  fail(error.stack || String(error));
} finally {
  fs.rmSync(temp, { recursive: true, force: true });
}

for (const failure of failures) console.log(`FAIL: ${failure}`);
if (failures.length === 0) console.log('PASS: reactions windows in the HLS DATERANGEs, the MPD EventStream and ID3 in emsg, exact');
process.exit(failures.length ? 1 : 0);

// Browser reactions test: hls.js in headless Chromium plays a live channel
// with viewer reactions and fires each reactions window, both as its
// DATERANGE (enableDateRangeMetadataCues) and as the ID3 tag in the
// segments' emsg boxes (enableEmsgMetadataCues, hls.js's default), as
// metadata TextTrack cues near the window's media time, with the exact
// counts.
//
// reactions_channel (built next to this file) runs, in real time,
// videotestsrc ! reactions ! abrladder (180p, 1 s GOP) ! abrsink mode=live,
// reactions added on a fixed schedule; it reports every `reactions-window`
// message (id, start, counts) on stdout. The output is served over HTTP
// while it grows; hls.js starts once the playlist lists 3 segments.
//
// hls.js makes one cue per DATERANGE attribute; the test keeps the
// X-REACTIONS cues: the cue's id is the DATERANGE ID, its value.data the
// payload. From the ID3 tags it makes one cue per frame: the test keeps the
// TXXX frames described "com.onair.reactions" (value.info), value.data the
// payload, matched to the window starting nearest their startTime. Pass, for
// each of the two kinds and every window hls.js made a cue of while playing
// (at least 8 of them):
// - its payload, decodeURIComponent'd, is the window's counts exactly;
// - its startTime is the window's start on the media timeline (the first
//   segment starts at running time ~0 at media time fragments[0].start):
//   within 0.25 s;
// - its `enter` fired with currentTime within 0.5 s of that time;
// and no fatal hls.js error, playback started.
//
// Run by meson (suite "browser"); by hand:
//   GST_PLUGIN_PATH=build/plugins node tests/browser/reactions.mjs build/tests/browser/reactions_channel
// Exit: 0 pass, 1 fail, 77 skip (no Chromium or npm packages).

import fs from 'node:fs';
import path from 'node:path';

import {
  findRequirements,
  firstLine,
  launchChromium,
  log,
  playerPage,
  runTest,
  scratchDir,
  sleep,
  startJsonLines,
  startServer,
  summarizeRequests,
} from './harness.mjs';

const CHANNEL_SECONDS = 24;
const START_SEGMENTS = 3;
const WATCH_SECONDS = 14; // of playback
const TOLERANCE = 0.5; // s between the window's media time and the cue's enter
const PLACEMENT = 0.25; // s between the window's media time and the cue's startTime
const MIN_CUES = 8;

function findProducer() {
  const candidates = [
    process.argv[2],
    process.env.ONAIR_BUILD_ROOT && path.join(process.env.ONAIR_BUILD_ROOT, 'tests', 'browser', 'reactions_channel'),
  ].filter(Boolean);
  for (const candidate of candidates) if (fs.existsSync(candidate)) return path.resolve(candidate);
  throw new Error(`reactions_channel not found (tried ${candidates.join(', ') || 'nothing'})`);
}

function startProducer(producer, dir) {
  const args = ['--output', dir, '--seconds', String(CHANNEL_SECONDS), '--playlist-length', '0'];
  const state = startJsonLines(producer, args, (event, st) => {
    if (event.event === 'window') st.windows.push(event);
  }, { windows: [] });
  return state;
}

async function waitForSegments(dir, producer, count, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  const playlist = path.join(dir, '180p', 'index.m3u8');
  while (Date.now() < deadline) {
    if (producer.exit !== null) throw new Error(`reactions_channel exited (${producer.exit}) early:\n${producer.stderr}`);
    if (fs.existsSync(path.join(dir, 'master.m3u8')) && fs.existsSync(playlist)) {
      const segments = fs.readFileSync(playlist, 'utf8').split('\n').filter((l) => l.startsWith('#EXTINF')).length;
      if (segments >= count) return;
    }
    await sleep(100);
  }
  throw new Error(`no playlist with ${count} segments after ${timeoutMs / 1000} s:\n${producer.stderr}`);
}

const PAGE = playerPage('hls.js reactions', '/lib/hls.js', `
  report.version = Hls.version;
  if (!Hls.isSupported()) throw new Error('Hls.isSupported() is false (no MediaSource?)');
  Object.assign(report, { cues: [], started: null });
  video.addEventListener('playing', () => { if (report.started === null) report.started = video.currentTime; });
  const seen = new Set();
  setInterval(() => {
    for (const track of video.textTracks) {
      if (track.kind !== 'metadata' || !track.cues) continue;
      if (track.mode === 'disabled') track.mode = 'hidden';
      for (const cue of track.cues) {
        if (seen.has(cue)) continue;
        seen.add(cue);
        const entry = { id: cue.id, key: cue.value && cue.value.key, info: cue.value && cue.value.info,
          data: cue.value && String(cue.value.data), enter: null, cue };
        report.cues.push(entry);
        cue.addEventListener('enter', () => { entry.enter = entry.enter ?? video.currentTime; });
      }
    }
  }, 20);
  const hls = new Hls({ enableWorker: true, enableDateRangeMetadataCues: true });
  window.hls = hls;
  hls.on(Hls.Events.MANIFEST_PARSED, () => startPlaying());
  hls.on(Hls.Events.ERROR, (event, data) => {
    if (data.fatal) report.errors.push(data.type + '/' + data.details);
  });
  window.collect = () => {
    const level = hls.levels[hls.currentLevel >= 0 ? hls.currentLevel : 0];
    const fragments = (level && level.details && level.details.fragments) || [];
    return {
      ...report,
      cues: report.cues.map(({ cue, ...rest }) => ({ ...rest, startTime: cue.startTime, endTime: cue.endTime })),
      firstFragment: fragments.length ? { sn: fragments[0].sn, start: fragments[0].start } : null,
      currentTime: video.currentTime,
    };
  };
  hls.loadSource('/media/master.m3u8');
  hls.attachMedia(video);
`);

const fmt = (value) => (typeof value === 'number' && Number.isFinite(value) ? value.toFixed(3) : String(value));

async function main() {
  const requirements = findRequirements(['hls.js']);
  const producerPath = findProducer();
  const tempDir = scratchDir('onair-reactions-');
  const mediaDir = path.join(tempDir, 'out');
  fs.mkdirSync(mediaDir);
  const server = await startServer(mediaDir, {
    pages: { '/hls.html': PAGE },
    files: { '/lib/hls.js': requirements.players['hls.js'] },
  });
  const browser = await launchChromium(requirements.playwright);
  const context = await browser.newContext();
  const page = await context.newPage();
  const failures = [];
  page.on('pageerror', (error) => failures.push(`page error: ${error.message}`));

  const producer = startProducer(producerPath, mediaDir);
  await waitForSegments(mediaDir, producer, START_SEGMENTS, 60_000);
  let state = null;
  try {
    await page.goto(server.base + '/hls.html', { waitUntil: 'load', timeout: 30_000 });
    const started = Date.now();
    while (Date.now() - started < 60_000) {
      state = await page.evaluate(() => window.collect());
      if (state.errors.length) break;
      if (state.started !== null && state.currentTime >= state.started + WATCH_SECONDS) break;
      await sleep(250);
    }
  } catch (error) {
    failures.push(`driving the page failed: ${firstLine(error)}`);
  }
  await context.close().catch(() => {});
  await Promise.race([producer.done, sleep(CHANNEL_SECONDS * 1000 + 30_000)]);
  if (producer.exit !== 0) failures.push(`reactions_channel failed (exit ${producer.exit}):\n${producer.stderr}`);
  if (!state) return failures;

  log(`hls.js ${state.version}; played from ${fmt(state.started)} to ${fmt(state.currentTime)} s; ` +
    `first fragment ${JSON.stringify(state.firstFragment)}; requests: ${summarizeRequests(server.requests)}`);
  for (const error of state.errors) failures.push(`hls.js fatal error: ${error}`);
  if (state.started === null) failures.push('the video never started playing');
  if (!state.firstFragment || state.firstFragment.sn !== 0) failures.push('hls.js does not list segment 0');
  const origin = state.firstFragment ? state.firstFragment.start : 0; // running time ~0
  const check = (label, cues, windowOf, decode) => {
    let checked = 0;
    const lates = [];
    for (const cue of cues) {
      const window = windowOf(cue);
      if (!window) {
        failures.push(`${label} cue ${cue.id} at ${fmt(cue.startTime)} s: no such window reported by the element`);
        continue;
      }
      const at = origin + window.start;
      let counts = null;
      try {
        counts = JSON.parse(decode(cue.data));
      } catch (error) {
        failures.push(`${label} cue ${window.id}: payload ${cue.data} does not decode`);
      }
      if (counts && JSON.stringify(counts) !== JSON.stringify(window.counts)) {
        failures.push(`${label} cue ${window.id}: ${JSON.stringify(counts)}, the element counted ${JSON.stringify(window.counts)}`);
      }
      if (Math.abs(cue.startTime - at) > PLACEMENT) {
        failures.push(`${label} cue ${window.id}: startTime ${fmt(cue.startTime)} s, the window starts at media time ${fmt(at)} s`);
      }
      if (cue.enter === null) continue; // before playback started or after it stopped
      checked++;
      lates.push(cue.enter - at);
      if (Math.abs(cue.enter - at) > TOLERANCE) {
        failures.push(`${label} cue ${window.id}: enter fired at ${fmt(cue.enter)} s, the window starts at media time ${fmt(at)} s`);
      }
    }
    log(`${cues.length} ${label} cues of ${producer.windows.length} windows; ${checked} entered while playing; ` +
      `enter - window media time: min ${fmt(Math.min(...lates))} s, max ${fmt(Math.max(...lates))} s`);
    if (checked < MIN_CUES) failures.push(`only ${checked} ${label} cues fired while playing (want ${MIN_CUES})`);
  };
  check('DATERANGE X-REACTIONS', state.cues.filter((cue) => cue.key === 'X-REACTIONS'),
    (cue) => producer.windows.find((w) => w.id === cue.id), decodeURIComponent);
  // the window starting nearest the cue: windows are 0.5 s apart
  const nearest = (cue) => producer.windows.reduce((best, w) =>
    (!best || Math.abs(origin + w.start - cue.startTime) < Math.abs(origin + best.start - cue.startTime) ? w : best), null);
  check('ID3 TXXX', state.cues.filter((cue) => cue.key === 'TXXX' && cue.info === 'com.onair.reactions'), nearest,
    (data) => data);
  return failures;
}

await runTest(main, {
  overallMs: 240_000,
  passMessage: `hls.js fired every reactions window as DATERANGE and ID3 metadata cues within ${TOLERANCE} s of its media time, counts exact`,
});

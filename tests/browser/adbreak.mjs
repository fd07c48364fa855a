// Browser ad-break test: hls.js in headless Chromium plays a live channel
// across a replace-mode ad break without a stall, and fires the break's
// DATERANGE metadata within 0.5 s of the splice.
//
// live_break (built next to this file) runs a live channel in real time:
// videotestsrc (a ball on black) ! adsplice mode=replace ! abrladder ! abrsink
// mode=live, audio through adsplice, with one break scheduled by
// "splice-out-at" whose creative is a solid green MP4 generated here. The
// output directory is served over HTTP on 127.0.0.1 while it grows; hls.js
// starts on master.m3u8 once it lists 3 segments, about 9 s before the break,
// and crosses the break live.
//
// How the splice is timed: in the page, requestVideoFrameCallback looks at
// every frame the video element presents and records the media time at
// which the picture turns green (the creative: the OUT splice) and back (the
// IN splice). hls.js turns each EXT-X-DATERANGE into TextTrack cues on a
// "metadata" track (enableDateRangeMetadataCues), one per attribute, whose
// id is the DATERANGE ID and whose start is START-DATE mapped to media time
// through EXT-X-PROGRAM-DATE-TIME; the cue of SCTE35-OUT lasts until the end
// of the break once the IN tag gives its DURATION. The test records
// video.currentTime (and performance.now()) when that cue's `enter` and
// `exit` events fire. Pass:
// - `enter` within 0.5 s of the first creative frame and `exit` within 0.5 s
//   of the first program frame after it, both in media time (currentTime in
//   the handler against the frame's mediaTime) and in wall-clock time (the
//   handler against the frame's presentationTime);
// - the EXT-X-CUE-OUT and -IN segments start within 0.5 s of those frames;
// - the cue's id is the break-id adsplice posted on the bus;
// - playback goes on to 4 s past the break's end with no `waiting` event and
//   no hls.js stall error after it first started playing, currentTime never
//   still for 1.5 s while playing, no fatal error and no missing file.
//
// Run by meson (suite "browser"); by hand:
//   GST_PLUGIN_PATH=build/plugins node tests/browser/adbreak.mjs build/tests/browser/live_break
// ONAIR_ADBREAK_MODE=signal runs adsplice mode=signal instead (no creative,
// the program passes through): the test must then fail, which checks the test.
//
// Environment: as playback.mjs (GST_PLUGIN_PATH, ONAIR_SOURCE_ROOT,
// ONAIR_NODE_DIR, ONAIR_CHROMIUM), ONAIR_BUILD_ROOT (finds live_break when
// not given), ONAIR_ADBREAK_MODE.
// Exit: 0 pass, 1 fail, 77 skip (no Chromium or npm packages).

import fs from 'node:fs';
import path from 'node:path';

import {
  findRequirements,
  firstLine,
  launchChromium,
  log,
  missingFiles,
  playerPage,
  run,
  runTest,
  scratchDir,
  sleep,
  startJsonLines,
  startServer,
  summarizeRequests,
} from './harness.mjs';

const BREAK_AT = 12; // s of running time
const BREAK_DURATION = 6;
const BREAK_ID = 4242; // splice_event_id
const CHANNEL_SECONDS = 34; // then EOS
const CREATIVE_SECONDS = 8; // longer than the break: cut at its end
const PAST_BREAK = 4; // s of playback required after the break's end
const TOLERANCE = 0.5; // s between a splice and its metadata event
const LONGEST_FREEZE = 1.5; // s of currentTime standing still while playing
const START_SEGMENTS = 3; // in the playlist before the player starts
const PLAY_TIMEOUT_MS = 90_000;
const MODE = process.env.ONAIR_ADBREAK_MODE || 'replace';

// hls.js reports these when playback stalls or has to be nudged past one.
const STALL_ERRORS = new Set(['bufferStalledError', 'bufferNudgeOnStall', 'bufferSeekOverHole']);

function findProducer() {
  const candidates = [
    process.argv[2],
    process.env.ONAIR_BUILD_ROOT && path.join(process.env.ONAIR_BUILD_ROOT, 'tests', 'browser', 'live_break'),
  ].filter(Boolean);
  for (const candidate of candidates) if (fs.existsSync(candidate)) return path.resolve(candidate);
  throw new Error(`live_break not found (tried ${candidates.join(', ') || 'nothing'}): give its path as argument`);
}

// A solid green clip with a tone: what the break shows instead of the program.
async function writeCreative(file) {
  const frames = CREATIVE_SECONDS * 30;
  const args = [
    '-q',
    'videotestsrc', `num-buffers=${frames}`, 'pattern=solid-color', 'foreground-color=0xff00ff00',
    '!', 'video/x-raw,width=320,height=180,framerate=30/1',
    '!', 'x264enc', 'speed-preset=ultrafast', 'key-int-max=30', '!', 'h264parse', '!', 'mp4mux', 'name=m',
    '!', 'filesink', `location=${file}`,
    'audiotestsrc', `num-buffers=${Math.ceil((CREATIVE_SECONDS * 48000) / 1024)}`, 'samplesperbuffer=1024',
    'freq=880', 'volume=0.2', '!', 'audio/x-raw,rate=48000,channels=2',
    '!', 'audioconvert', '!', 'avenc_aac', '!', 'aacparse', '!', 'm.',
  ];
  const result = await run('gst-launch-1.0', args, { timeoutMs: 120_000 });
  if (result.code !== 0 || !fs.existsSync(file)) {
    throw new Error(`writing the creative failed (exit ${result.code ?? result.signal}):\n${result.output}`);
  }
}

// The live channel, running in the background; its JSON lines are collected.
function startProducer(producer, dir, creative) {
  const args = [
    '--output', dir, '--creative', creative, '--mode', MODE,
    '--seconds', String(CHANNEL_SECONDS), '--break-at', String(BREAK_AT),
    '--break-duration', String(BREAK_DURATION), '--break-id', String(BREAK_ID),
    '--gop', '1', '--playlist-length', '0',
  ];
  const state = startJsonLines(producer, args, (event, st) => {
    event.wall = (Date.now() - st.started) / 1000;
    st.events.push(event);
  }, { events: [] });
  state.find = (name) => state.events.find((event) => event.event === name);
  return state;
}

// The first rendition playlist once it lists `count` segments.
async function waitForSegments(dir, producer, count, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (producer.exit !== null) throw new Error(`live_break exited (${producer.exit}) early:\n${producer.stderr}`);
    const master = path.join(dir, 'master.m3u8');
    if (fs.existsSync(master)) {
      const variant = fs.readFileSync(master, 'utf8').split('\n').find((line) => line && !line.startsWith('#'));
      const playlist = variant && path.join(dir, variant);
      if (playlist && fs.existsSync(playlist)) {
        const segments = fs.readFileSync(playlist, 'utf8').split('\n').filter((l) => l.startsWith('#EXTINF')).length;
        if (segments >= count) return;
      }
    }
    await sleep(100);
  }
  throw new Error(`no playlist with ${count} segments in ${dir} after ${timeoutMs / 1000} s:\n${producer.stderr}`);
}

const PAGE = playerPage('hls.js ad break', '/lib/hls.js', `
  report.version = Hls.version;
  if (!Hls.isSupported()) throw new Error('Hls.isSupported() is false (no MediaSource?)');
  Object.assign(report, {
    events: [],      // media element events: { type, currentTime, wall }
    hlsErrors: [],   // non-fatal hls.js errors: { details, currentTime, wall }
    started: null,   // wall time (ms) of the first 'playing'
    frames: { supported: 'requestVideoFrameCallback' in HTMLVideoElement.prototype, count: 0, changes: [] },
    cues: [],        // metadata cues: { id, key, startTime, endTime, seenAt, enter, exit }
    tracks: [],
    dateRanges: {},  // from LEVEL_UPDATED: id -> { startDate, startTime, duration, attributes }
    freeze: { longest: 0, at: null },
    maxTime: 0,
  });
  const now = () => performance.now();
  for (const type of ['waiting', 'playing', 'stalled', 'seeking', 'seeked', 'pause', 'ended']) {
    video.addEventListener(type, () => {
      report.events.push({ type, currentTime: video.currentTime, wall: now() });
      if (type === 'playing' && report.started === null) report.started = now();
    });
  }

  // Every presented frame: is it the creative (green)? Changes are kept.
  const canvas = document.createElement('canvas');
  canvas.width = 16;
  canvas.height = 9;
  const context = canvas.getContext('2d', { willReadFrequently: true });
  let lastGreen = null;
  const onFrame = (callbackTime, metadata) => {
    context.drawImage(video, 0, 0, canvas.width, canvas.height);
    const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
    let r = 0, g = 0, b = 0;
    for (let i = 0; i < pixels.length; i += 4) {
      r += pixels[i];
      g += pixels[i + 1];
      b += pixels[i + 2];
    }
    const n = pixels.length / 4;
    [r, g, b] = [r / n, g / n, b / n].map(Math.round);
    const green = g > 120 && r < 100 && b < 100;
    report.frames.count++;
    if (green !== lastGreen) {
      report.frames.changes.push({ green, mediaTime: metadata.mediaTime, currentTime: video.currentTime,
        wall: metadata.presentationTime, rgb: [r, g, b] });
      lastGreen = green;
    }
    video.requestVideoFrameCallback(onFrame);
  };
  if (report.frames.supported) video.requestVideoFrameCallback(onFrame);

  // Metadata cues (hls.js adds them as the playlists arrive): enter and exit
  // are recorded with the media time at which they fire.
  const seen = new Set();
  const watchCues = () => {
    for (const track of video.textTracks) {
      if (!report.tracks.some((t) => t.track === track)) {
        report.tracks.push({ track, kind: track.kind, label: track.label });
      }
      if (track.kind !== 'metadata' || !track.cues) continue;
      for (const cue of track.cues) {
        if (seen.has(cue)) continue;
        seen.add(cue);
        const entry = { id: cue.id, key: cue.value && cue.value.key, startTime: cue.startTime, endTime: cue.endTime,
          seenAt: video.currentTime, enter: null, exit: null, cue };
        report.cues.push(entry);
        cue.addEventListener('enter', () => {
          entry.enter = entry.enter || { currentTime: video.currentTime, wall: now() };
        });
        cue.addEventListener('exit', () => {
          entry.exit = entry.exit || { currentTime: video.currentTime, wall: now() };
        });
      }
    }
  };
  setInterval(watchCues, 50);

  // currentTime must keep moving while the video plays.
  let lastTime = -1, lastMove = now();
  setInterval(() => {
    const t = video.currentTime;
    report.maxTime = Math.max(report.maxTime, t);
    if (report.started === null || video.paused || video.ended || t !== lastTime) {
      lastTime = t;
      lastMove = now();
      return;
    }
    const still = (now() - lastMove) / 1000;
    if (still > report.freeze.longest) report.freeze = { longest: still, at: t };
  }, 100);

  const hls = new Hls({ enableWorker: true, enableDateRangeMetadataCues: true });
  window.hls = hls;
  hls.on(Hls.Events.MANIFEST_PARSED, (event, data) => {
    report.levels = data.levels.map((level) => ({ width: level.width, height: level.height, bitrate: level.bitrate }));
    startPlaying();
  });
  hls.on(Hls.Events.LEVEL_UPDATED, (event, data) => {
    for (const [id, range] of Object.entries(data.details.dateRanges || {})) {
      report.dateRanges[id] = { startDate: range.startDate && range.startDate.toISOString(), startTime: range.startTime,
        duration: range.duration, attributes: Object.keys(range.attr || {}) };
    }
  });
  hls.on(Hls.Events.LEVEL_SWITCHED, (event, data) => report.switches.push(hls.levels[data.level].height + 'p'));
  hls.on(Hls.Events.ERROR, (event, data) => {
    const text = hlsErrorText(data);
    if (data.fatal) report.errors.push(text);
    report.hlsErrors.push({ details: data.details, text, fatal: !!data.fatal, currentTime: video.currentTime, wall: now() });
  });

  // The OUT and IN segments as hls.js placed them on the media timeline.
  window.collect = () => {
    const level = hls.levels[hls.currentLevel >= 0 ? hls.currentLevel : 0];
    const fragments = (level && level.details && level.details.fragments) || [];
    const tagged = (name) => {
      const fragment = fragments.find((f) => (f.tagList || []).some((tag) => tag[0] === name));
      return fragment ? { sn: fragment.sn, cc: fragment.cc, start: fragment.start } : null;
    };
    for (const entry of report.cues) {
      entry.startTime = entry.cue.startTime;
      entry.endTime = entry.cue.endTime;
    }
    return {
      ...report,
      cues: report.cues.map(({ cue, ...rest }) => rest),
      tracks: report.tracks.map(({ track, ...rest }) => rest),
      outFragment: tagged('EXT-X-CUE-OUT'),
      inFragment: tagged('EXT-X-CUE-IN'),
      maxTime: Math.max(report.maxTime, video.currentTime),
      currentTime: video.currentTime, paused: video.paused, ended: video.ended, readyState: video.readyState,
    };
  };

  hls.loadSource('/media/master.m3u8');
  hls.attachMedia(video);
`);

const fmt = (value) => (typeof value === 'number' && Number.isFinite(value) ? value.toFixed(3) : String(value));

// The creative as the viewer saw it: the first green frame and the first
// frame after the green run.
function creativeSpan(changes) {
  const first = changes.findIndex((change) => change.green);
  if (first < 0) return null;
  const back = changes.slice(first + 1).find((change) => !change.green);
  return {
    out: changes[first].mediaTime,
    outWall: changes[first].wall,
    in: back ? back.mediaTime : null,
    inWall: back ? back.wall : null,
  };
}

async function watch(page, producer) {
  const started = Date.now();
  let state = null;
  while (Date.now() - started < PLAY_TIMEOUT_MS) {
    state = await page.evaluate(() => window.collect());
    if (state.errors.length > 0) break;
    const span = creativeSpan(state.frames.changes);
    if (span && span.in !== null && state.currentTime >= span.in + PAST_BREAK) break;
    // Without a creative (signal mode, or a broken splice), play past where the break would end.
    if (producer.exit !== null && (state.ended || state.currentTime >= BREAK_AT + BREAK_DURATION + PAST_BREAK + 2)) break;
    await sleep(250);
  }
  return { state, seconds: (Date.now() - started) / 1000 };
}

async function main() {
  const requirements = findRequirements(['hls.js']);
  const producerPath = findProducer();
  const tempDir = scratchDir('onair-adbreak-');
  const mediaDir = path.join(tempDir, 'out');
  fs.mkdirSync(mediaDir);
  const creative = path.join(tempDir, 'green.mp4');
  await writeCreative(creative);
  log(`creative: ${creative} (${fs.statSync(creative).size} bytes, ${CREATIVE_SECONDS} s of green)`);

  const server = await startServer(mediaDir, {
    pages: { '/hls.html': PAGE },
    files: { '/lib/hls.js': requirements.players['hls.js'] },
  });
  log(`serving on ${server.base}`);
  const browser = await launchChromium(requirements.playwright);
  const context = await browser.newContext();
  const page = await context.newPage();
  const failures = [];
  const consoleLines = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') consoleLines.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => failures.push(`page error: ${error.message}`));

  const producer = startProducer(producerPath, mediaDir, creative);
  await waitForSegments(mediaDir, producer, START_SEGMENTS, 60_000);
  log(`playlist has ${START_SEGMENTS} segments after ${((Date.now() - producer.started) / 1000).toFixed(1)} s; ` +
    `playing ${server.base}/hls.html`);

  let state = null;
  let seconds = 0;
  try {
    await page.goto(server.base + '/hls.html', { waitUntil: 'load', timeout: 30_000 });
    ({ state, seconds } = await watch(page, producer));
  } catch (error) {
    failures.push(`driving the page failed: ${firstLine(error)}`);
  }
  await context.close().catch(() => {});
  await Promise.race([producer.done, sleep(CHANNEL_SECONDS * 1000 + 60_000)]);

  // What happened.
  const breakStart = producer.find('break-start');
  const breakEnd = producer.find('break-end');
  log(`channel: exit ${producer.exit}; ${producer.events.map((e) => e.event + (e['running-time'] !== undefined ? ` at ${fmt(e['running-time'])} s` : '') + ` (wall ${e.wall.toFixed(1)} s)`).join(', ')}`);
  if (producer.exit !== 0) failures.push(`live_break failed (exit ${producer.exit}):\n${producer.stderr}`);
  if (!breakStart || !breakEnd) failures.push('adsplice posted no break start and end');
  if (!state) return failures;

  log(`player: hls.js ${state.version}; levels ${state.levels.map((l) => `${l.height}p`).join(', ')}; ` +
    `played ${state.switches.join(' -> ') || '(no switch reported)'}`);
  log(`  reached ${fmt(state.currentTime)} s (max ${fmt(state.maxTime)}) after ${seconds.toFixed(1)} s; ` +
    `paused=${state.paused} ended=${state.ended}`);
  log(`  requests: ${summarizeRequests(server.requests)}`);
  log(`  media events: ${state.events.map((e) => `${e.type}@${fmt(e.currentTime)}`).join(' ') || 'none'}`);
  for (const error of state.hlsErrors) log(`  hls.js ${error.fatal ? 'FATAL' : 'non-fatal'} at ${fmt(error.currentTime)}: ${error.text}`);
  log(`  frames: ${state.frames.supported ? `${state.frames.count} seen; changes: ` +
    state.frames.changes.map((c) => `${c.green ? 'creative' : 'program'}@${fmt(c.mediaTime)} rgb(${c.rgb})`).join(', ')
    : 'requestVideoFrameCallback not supported'}`);
  log(`  OUT segment: ${JSON.stringify(state.outFragment)}; IN segment: ${JSON.stringify(state.inFragment)}`);
  log(`  date ranges: ${JSON.stringify(state.dateRanges)}`);
  for (const cue of state.cues) {
    log(`  cue ${cue.id} ${cue.key}: [${fmt(cue.startTime)}, ${fmt(cue.endTime)}] added at ${fmt(cue.seenAt)}; ` +
      `enter at ${cue.enter ? fmt(cue.enter.currentTime) : '-'}, exit at ${cue.exit ? fmt(cue.exit.currentTime) : '-'}`);
  }
  log(`  longest freeze while playing: ${fmt(state.freeze.longest)} s at ${fmt(state.freeze.at)} s`);

  // Playback.
  for (const error of state.errors) failures.push(`hls.js fatal error: ${error}`);
  failures.push(...missingFiles(server.requests));
  if (state.started === null) failures.push('the video never started playing');
  const afterStart = (wall) => state.started !== null && wall > state.started;
  for (const event of state.events.filter((e) => e.type === 'waiting' && afterStart(e.wall))) {
    failures.push(`playback stalled ('waiting') at ${fmt(event.currentTime)} s`);
  }
  for (const error of state.hlsErrors.filter((e) => STALL_ERRORS.has(e.details) && afterStart(e.wall))) {
    failures.push(`hls.js reported ${error.details} at ${fmt(error.currentTime)} s`);
  }
  if (state.freeze.longest > LONGEST_FREEZE) {
    failures.push(`currentTime stood still for ${fmt(state.freeze.longest)} s at ${fmt(state.freeze.at)} s while playing`);
  }

  // The break as seen: the creative's picture, then the program again.
  const span = creativeSpan(state.frames.changes);
  if (!state.frames.supported) failures.push('requestVideoFrameCallback is missing: cannot see the splice');
  else if (!span) failures.push(`the picture never turned to the creative (mode ${MODE})`);
  else if (span.in === null) failures.push(`playback never left the creative (it began at ${fmt(span.out)} s)`);
  else {
    log(`splice as seen: OUT at ${fmt(span.out)} s, IN at ${fmt(span.in)} s (${fmt(span.in - span.out)} s of creative)`);
    if (Math.abs(span.in - span.out - BREAK_DURATION) > TOLERANCE) {
      failures.push(`the creative showed for ${fmt(span.in - span.out)} s, not the break's ${BREAK_DURATION} s`);
    }
    // The CUE-OUT and CUE-IN segments start where the picture changes.
    for (const [name, fragment, at] of [['CUE-OUT', state.outFragment, span.out], ['CUE-IN', state.inFragment, span.in]]) {
      if (!fragment) failures.push(`hls.js lists no segment with EXT-X-${name}`);
      else if (Math.abs(fragment.start - at) > TOLERANCE) {
        failures.push(`the EXT-X-${name} segment starts at ${fmt(fragment.start)} s, the picture changes at ${fmt(at)} s`);
      }
    }
    if (state.maxTime < span.in + PAST_BREAK) {
      failures.push(`playback reached ${fmt(state.maxTime)} s, not ${PAST_BREAK} s past the break's end (${fmt(span.in)} s)`);
    }
  }

  // The break's metadata.
  const ids = Object.keys(state.dateRanges);
  if (breakStart && !ids.includes(breakStart['break-id'])) {
    failures.push(`no DATERANGE with adsplice's break-id ${breakStart['break-id']} (hls.js has ${ids.join(', ') || 'none'})`);
  }
  if (ids.length > 1) failures.push(`one break, ${ids.length} DATERANGE IDs: ${ids.join(', ')}`);
  const outCue = state.cues.find((cue) => cue.key === 'SCTE35-OUT');
  if (!outCue) {
    failures.push('hls.js made no SCTE35-OUT cue');
  } else {
    if (breakStart && outCue.id !== breakStart['break-id']) {
      failures.push(`the SCTE35-OUT cue's id is ${outCue.id}, adsplice's break is ${breakStart['break-id']}`);
    }
    if (!state.cues.some((cue) => cue.key === 'SCTE35-IN' && cue.id === outCue.id)) {
      failures.push(`hls.js made no SCTE35-IN cue for ${outCue.id}`);
    }
    if (!outCue.enter) failures.push('the SCTE35-OUT cue never fired enter');
    if (!outCue.exit) failures.push('the SCTE35-OUT cue never fired exit (the break has no known end)');
    // Each edge of the break: the cue's event against the picture change,
    // in media time and in wall-clock time.
    const edges = [
      { label: 'OUT', event: outCue.enter, did: 'fired', at: span && span.out, wall: span && span.outWall,
        frame: 'first creative frame', cue: `cue start ${fmt(outCue.startTime)} s`, fragment: state.outFragment },
      { label: 'IN', event: outCue.exit, did: 'ended', at: span && span.in, wall: span && span.inWall,
        frame: 'first program frame', cue: `cue end ${fmt(outCue.endTime)} s`, fragment: state.inFragment },
    ];
    for (const edge of edges) {
      if (!span || edge.at === null || !edge.event) continue;
      const late = edge.event.currentTime - edge.at;
      const wallLate = (edge.event.wall - edge.wall) / 1000;
      log(`${edge.label}: cue ${edge.label === 'OUT' ? 'enter' : 'exit'} at ${fmt(edge.event.currentTime)} s, ` +
        `${fmt(late)} s after the ${edge.frame} (${fmt(wallLate)} s after it was presented, wall clock) ` +
        `(${edge.cue}, ${edge.label} segment start ${fmt(edge.fragment && edge.fragment.start)} s)`);
      if (Math.abs(late) > TOLERANCE) {
        failures.push(`the SCTE35-OUT cue ${edge.did} ${fmt(late)} s from the splice ` +
          `${edge.label === 'OUT' ? '' : 'back '}(${edge.frame} at ${fmt(edge.at)} s)`);
      }
      if (Math.abs(wallLate) > TOLERANCE) {
        failures.push(`the SCTE35-OUT cue ${edge.did} ${fmt(wallLate)} s (wall clock) from the ${edge.frame}'s presentation`);
      }
    }
  }

  if (failures.length > 0) {
    if (consoleLines.length > 0) {
      log('  browser console:');
      for (const line of consoleLines.slice(-30)) log(`    ${line}`);
    }
    log(`  channel stderr (last lines):\n    ${producer.stderr.trim().split('\n').slice(-15).join('\n    ')}`);
  }
  return failures;
}

await runTest(main, {
  overallMs: 400_000,
  passMessage: `hls.js played across the ${BREAK_DURATION} s break; its DATERANGE cue fired within ${TOLERANCE} s of both splices`,
});

// Browser playback test: what abrsink writes must play in real players.
//
// Produces a short VOD ladder (abrladder ! abrsink) in a temporary directory,
// serves it over HTTP on 127.0.0.1, and plays it in Debian's headless Chromium
// (driven by playwright-core) with hls.js (master.m3u8) and with dash.js
// (manifest.mpd). Each player must reach 5 s of playback with every rung of the
// ladder listed, an audio track, no fatal error and no missing file.
//
// Run by meson (suite "browser"); by hand:
//   GST_PLUGIN_PATH=build/plugins node tests/browser/playback.mjs [DIR]
// With DIR, an existing output directory is played instead of a fresh one.
//
// Environment: GST_PLUGIN_PATH (the built plugin), ONAIR_SOURCE_ROOT,
// ONAIR_NODE_DIR (holds node_modules; default tests/node),
// ONAIR_CHROMIUM (default /usr/bin/chromium).
// Exit: 0 pass, 1 fail, 77 skip (no Chromium or npm packages).

import fs from 'node:fs';
import path from 'node:path';

import {
  findRequirements,
  firstLine,
  launchChromium,
  listOutput,
  log,
  missingFiles,
  playerPage,
  run,
  runTest,
  scratchDir,
  startServer,
  summarizeRequests,
} from './harness.mjs';

const TARGET_SECONDS = 5;
const PLAY_TIMEOUT_MS = 60_000;
const PRODUCE_TIMEOUT_MS = 240_000;
const LADDER = '720p:2000,360p:600,144p:150';
const EXPECTED_RUNGS = LADDER.split(',').length;

async function produceVod(dir) {
  const args = [
    '-e',
    'videotestsrc', 'num-buffers=300', 'pattern=ball',
    '!', 'video/x-raw,width=1280,height=720,framerate=30/1',
    '!', 'abrladder', 'name=l', `ladder=${LADDER}`, 'gop-duration=2',
    '!', 'abrsink', `location=${dir}`, 'mode=vod',
    'audiotestsrc', 'num-buffers=470', '!', 'l.audio',
  ];
  log(`producing VOD: gst-launch-1.0 ${args.join(' ')}`);
  log(`  GST_PLUGIN_PATH=${process.env.GST_PLUGIN_PATH || '(unset)'}`);
  const started = Date.now();
  const result = await run('gst-launch-1.0', args, { timeoutMs: PRODUCE_TIMEOUT_MS, env: process.env });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.code !== 0) {
    throw new Error(`gst-launch-1.0 failed (exit ${result.code ?? result.signal}) after ${seconds} s:\n${result.output}`);
  }
  log(`  done in ${seconds} s`);
  for (const file of ['master.m3u8', 'manifest.mpd']) {
    if (!fs.existsSync(path.join(dir, file))) {
      throw new Error(`gst-launch-1.0 succeeded but wrote no ${file}; it printed:\n${result.output}`);
    }
  }
}

const HLS_PAGE = playerPage('hls.js', '/lib/hls.js', `
  report.version = Hls.version;
  if (!Hls.isSupported()) throw new Error('Hls.isSupported() is false (no MediaSource?)');
  const hls = new Hls({ enableWorker: true });
  window.hls = hls;
  hls.on(Hls.Events.MANIFEST_PARSED, (event, data) => {
    report.levels = data.levels.map((level) => ({
      width: level.width, height: level.height, bitrate: level.bitrate,
      codecs: [level.videoCodec, level.audioCodec].filter(Boolean).join(','),
    }));
    report.audioTracks = (data.audioTracks || []).map((track) => ({ name: track.name, group: track.groupId }));
    startPlaying();
  });
  hls.on(Hls.Events.AUDIO_TRACKS_UPDATED, (event, data) => {
    report.audioTracks = data.audioTracks.map((track) => ({ name: track.name, group: track.groupId }));
  });
  hls.on(Hls.Events.LEVEL_SWITCHED, (event, data) => report.switches.push(hls.levels[data.level].height + 'p'));
  hls.on(Hls.Events.ERROR, (event, data) => (data.fatal ? report.errors : report.warnings).push(hlsErrorText(data)));
  hls.loadSource('/media/master.m3u8');
  hls.attachMedia(video);
`);

const DASH_PAGE = playerPage('dash.js', '/lib/dash.js', `
  const player = dashjs.MediaPlayer().create();
  window.player = player;
  report.version = player.getVersion();
  player.updateSettings({ debug: { logLevel: dashjs.Debug.LOG_LEVEL_WARNING } });
  const describe = (event) => {
    const error = event.error || event.event || event;
    return (error.code !== undefined ? error.code + ' ' : '') + (error.message || JSON.stringify(error));
  };
  player.on(dashjs.MediaPlayer.events.ERROR, (event) => report.errors.push(describe(event)));
  if (dashjs.MediaPlayer.events.PLAYBACK_ERROR) {
    player.on(dashjs.MediaPlayer.events.PLAYBACK_ERROR, (event) => report.errors.push('playback: ' + describe(event)));
  }
  player.on(dashjs.MediaPlayer.events.STREAM_INITIALIZED, () => {
    // dash.js 5 lists representations, dash.js 4 bitrate infos.
    const list = (type) => player.getRepresentationsByType
      ? player.getRepresentationsByType(type) : player.getBitrateInfoListFor(type);
    report.levels = (list('video') || []).map((rep) => ({
      width: rep.width, height: rep.height, bitrate: rep.bandwidth || rep.bitrate, codecs: rep.codecs || '',
    }));
    report.audioTracks = (player.getTracksFor('audio') || []).map((track) => ({ name: track.id || track.lang || '', codecs: track.codec || '' }));
  });
  player.on(dashjs.MediaPlayer.events.QUALITY_CHANGE_RENDERED, (event) => {
    if (event.mediaType !== 'video') return;
    const rep = event.newRepresentation;
    report.switches.push(rep && rep.height ? rep.height + 'p' : 'quality ' + event.newQuality);
  });
  player.initialize(video, '/media/manifest.mpd', true);
`);

async function play(browser, server, name, pagePath) {
  const failures = [];
  const context = await browser.newContext();
  const page = await context.newPage();
  const consoleLines = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') {
      consoleLines.push(`${message.type()}: ${message.text()}`);
    }
  });
  page.on('pageerror', (error) => failures.push(`page error: ${error.message}`));
  const firstRequest = server.requests.length;

  log(`\n[${name}] ${server.base}${pagePath}`);
  const started = Date.now();
  let state = { time: 0, report: { errors: [], warnings: [], levels: [], audioTracks: [], switches: [] } };
  try {
    await page.goto(server.base + pagePath, { waitUntil: 'load', timeout: 30_000 });
    while (Date.now() - started < PLAY_TIMEOUT_MS) {
      state = await page.evaluate(() => {
        const video = document.getElementById('video');
        return { time: video.currentTime, paused: video.paused, readyState: video.readyState, report: window.report };
      });
      if (state.time >= TARGET_SECONDS || state.report.errors.length > 0 || failures.length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } catch (error) {
    failures.push(`driving the page failed: ${firstLine(error)}`);
  }
  const pageBroken = failures.length > 0;
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const { report } = state;

  log(`  player: ${name} ${report.version || ''}`);
  log(`  levels (${report.levels.length}): ${report.levels.map((l) => `${l.width}x${l.height} ${Math.round(l.bitrate / 1000)} kbit/s [${l.codecs}]`).join(', ') || 'none'}`);
  log(`  audio tracks (${report.audioTracks.length}): ${report.audioTracks.map((t) => t.name || '?').join(', ') || 'none'}`);
  log(`  levels played: ${report.switches.join(' -> ') || 'none reported'}`);
  log(`  reached ${state.time.toFixed(2)} s of playback after ${seconds} s`);
  log(`  requests: ${summarizeRequests(server.requests.slice(firstRequest)) || 'none'}`);
  for (const warning of report.warnings) log(`  non-fatal: ${warning}`);

  for (const error of report.errors) failures.push(`${name} error: ${error}`);
  failures.push(...missingFiles(server.requests.slice(firstRequest)));
  if (pageBroken) {
    // Nothing below would add to it.
  } else if (report.levels.length !== EXPECTED_RUNGS) {
    failures.push(`expected ${EXPECTED_RUNGS} video levels (ladder ${LADDER}), the player found ${report.levels.length}`);
  }
  if (!pageBroken && report.audioTracks.length < 1) failures.push('the player found no audio track');
  if (!pageBroken && state.time < TARGET_SECONDS && report.errors.length === 0) {
    failures.push(`playback reached only ${state.time.toFixed(2)} s within ${PLAY_TIMEOUT_MS / 1000} s ` +
      `(paused=${state.paused}, readyState=${state.readyState})`);
  }
  if (failures.length > 0 && consoleLines.length > 0) {
    log('  browser console:');
    for (const line of consoleLines.slice(-30)) log(`    ${line}`);
  }
  for (const failure of failures) log(`  FAIL: ${failure}`);
  if (failures.length === 0) log(`  OK: ${name} played ${TARGET_SECONDS} s`);

  await context.close().catch(() => {});
  return failures;
}

async function main() {
  const requirements = findRequirements(['hls.js', 'dash.js']);
  const existingDir = process.argv[2];
  let mediaDir;
  if (existingDir) {
    mediaDir = path.resolve(existingDir);
    log(`playing existing output ${mediaDir}`);
  } else {
    const tempDir = scratchDir('onair-browser-');
    mediaDir = path.join(tempDir, 'out');
    fs.mkdirSync(mediaDir);
    await produceVod(mediaDir);
  }
  log(`output:\n  ${listOutput(mediaDir).join('\n  ')}`);

  const server = await startServer(mediaDir, {
    pages: { '/hls.html': HLS_PAGE, '/dash.html': DASH_PAGE },
    files: { '/lib/hls.js': requirements.players['hls.js'], '/lib/dash.js': requirements.players['dash.js'] },
  });
  log(`serving on ${server.base}`);
  const browser = await launchChromium(requirements.playwright);

  const failures = [
    ...(await play(browser, server, 'hls.js', '/hls.html')),
    ...(await play(browser, server, 'dash.js', '/dash.html')),
  ];
  return failures;
}

await runTest(main, { overallMs: 500_000, passMessage: 'hls.js and dash.js both played the ladder' });

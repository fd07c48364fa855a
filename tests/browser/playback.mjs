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

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const EXIT_SKIP = 77;
const TARGET_SECONDS = 5;
const PLAY_TIMEOUT_MS = 60_000;
const PRODUCE_TIMEOUT_MS = 240_000;
const LADDER = '720p:2000,360p:600,144p:150';
const EXPECTED_RUNGS = LADDER.split(',').length;

const here = path.dirname(fileURLToPath(import.meta.url));
const sourceRoot = path.resolve(process.env.ONAIR_SOURCE_ROOT || path.join(here, '..', '..'));
const nodeDir = path.resolve(process.env.ONAIR_NODE_DIR || path.join(sourceRoot, 'tests', 'node'));
const chromiumPath = process.env.ONAIR_CHROMIUM || '/usr/bin/chromium';

const MIME_TYPES = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.mpd': 'application/dash+xml',
  '.m4s': 'video/mp4',
  '.mp4': 'video/mp4',
  '.m4a': 'audio/mp4',
  '.ts': 'video/mp2t',
  '.js': 'text/javascript; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
};

let interrupted = false;

function log(message) {
  if (!interrupted) process.stdout.write(`${message}\n`);
}

function skip(message) {
  log(`SKIP: ${message}`);
  process.exit(EXIT_SKIP);
}

// Everything that must be undone, whatever happens.
const cleanups = [];
async function cleanUp() {
  while (cleanups.length) {
    const cleanup = cleanups.pop();
    try {
      await cleanup();
    } catch (error) {
      log(`warning: clean-up failed: ${error.message}`);
    }
  }
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    log(`interrupted by ${signal}; cleaning up`);
    interrupted = true; // what fails from here on is the clean-up's doing
    await cleanUp();
    process.exit(1);
  });
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// A dist file of an npm package; several names cover the packages' major versions.
function distFile(packageName, candidates) {
  const packageDir = path.join(nodeDir, 'node_modules', packageName);
  for (const candidate of candidates) {
    const file = path.join(packageDir, candidate);
    if (fs.existsSync(file)) return file;
  }
  return null;
}

function findRequirements() {
  if (!fs.existsSync(chromiumPath)) {
    skip(`${chromiumPath} not found (apt-get install chromium, or run ./dev.sh test)`);
  }
  const require = createRequire(path.join(nodeDir, 'package.json'));
  let playwright;
  try {
    playwright = require('playwright-core');
  } catch (error) {
    skip(`playwright-core not found in ${nodeDir}/node_modules (run npm ci there, or ./dev.sh test)`);
  }
  const hlsJs = distFile('hls.js', ['dist/hls.min.js', 'dist/hls.js']);
  const dashJs = distFile('dashjs', ['dist/modern/umd/dash.all.min.js', 'dist/dash.all.min.js']);
  if (!hlsJs || !dashJs) {
    skip(`hls.js or dash.js not found in ${nodeDir}/node_modules (run npm ci there, or ./dev.sh test)`);
  }
  return { playwright, hlsJs, dashJs };
}

// Runs a command to completion, output collected; rejects on timeout.
function run(command, args, { timeoutMs, env }) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const kill = () => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL');
    cleanups.push(kill);
    const timer = setTimeout(() => {
      kill();
      reject(new Error(`${command} took longer than ${timeoutMs / 1000} s\n${output}`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command}: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

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

function listOutput(dir) {
  const lines = [];
  const walk = (relative) => {
    for (const entry of fs.readdirSync(path.join(dir, relative), { withFileTypes: true })) {
      const name = path.join(relative, entry.name);
      if (entry.isDirectory()) walk(name);
      else lines.push(`${name} (${fs.statSync(path.join(dir, name)).size} bytes)`);
    }
  };
  walk('');
  return lines.sort();
}

function playerPage(title, scriptUrl, body) {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${title}</title>
<script src="${scriptUrl}"></script></head>
<body><video id="video" muted playsinline width="640" height="360"></video>
<script>
window.report = { errors: [], warnings: [], levels: [], audioTracks: [], switches: [], version: '' };
const video = document.getElementById('video');
video.addEventListener('error', () => {
  const error = video.error;
  window.report.errors.push('video element: ' + (error ? error.code + ' ' + error.message : 'unknown error'));
});
function startPlaying() {
  video.play().catch((error) => window.report.errors.push('video.play(): ' + error.message));
}
try {
${body}
} catch (error) {
  window.report.errors.push('player setup threw: ' + error.message);
}
</script></body></html>
`;
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
  hls.on(Hls.Events.ERROR, (event, data) => {
    const entry = data.type + '/' + data.details +
      (data.reason ? ': ' + data.reason : '') + (data.error ? ': ' + data.error.message : '') +
      (data.url || (data.frag && data.frag.url) ? ' (' + (data.url || data.frag.url) + ')' : '');
    (data.fatal ? report.errors : report.warnings).push(entry);
  });
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

// Serves the output under /media, the players under /lib, pages at /hls.html and /dash.html.
function startServer(mediaDir, { hlsJs, dashJs }) {
  const requests = [];
  const server = http.createServer((request, response) => {
    const url = new URL(request.url, 'http://localhost');
    const pathname = decodeURIComponent(url.pathname);
    const send = (status, type, body) => {
      response.writeHead(status, {
        'Content-Type': type,
        'Content-Length': Buffer.byteLength(body),
        'Cache-Control': 'no-cache',
      });
      response.end(request.method === 'HEAD' ? undefined : body);
    };
    const sendFile = (file) => {
      fs.readFile(file, (error, data) => {
        if (error) {
          requests.push({ path: pathname, status: 404 });
          send(404, 'text/plain', `not found: ${pathname}\n`);
          return;
        }
        requests.push({ path: pathname, status: 200, bytes: data.length });
        send(200, MIME_TYPES[path.extname(file).toLowerCase()] || 'application/octet-stream', data);
      });
    };

    if (pathname === '/hls.html') return send(200, MIME_TYPES['.html'], HLS_PAGE);
    if (pathname === '/dash.html') return send(200, MIME_TYPES['.html'], DASH_PAGE);
    if (pathname === '/lib/hls.js') return sendFile(hlsJs);
    if (pathname === '/lib/dash.js') return sendFile(dashJs);
    if (pathname.startsWith('/media/')) {
      const file = path.resolve(mediaDir, '.' + pathname.slice('/media'.length));
      if (file.startsWith(mediaDir + path.sep)) return sendFile(file);
    }
    if (pathname === '/favicon.ico') return send(204, 'text/plain', '');
    requests.push({ path: pathname, status: 404 });
    return send(404, 'text/plain', `not found: ${pathname}\n`);
  });
  const sockets = new Set();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      cleanups.push(
        () =>
          new Promise((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      );
      resolve({ base: `http://127.0.0.1:${server.address().port}`, requests });
    });
  });
}

// Requests of one playback, grouped by folder: "720p: 1 playlist, 1 init, 5 segments".
function summarizeRequests(requests) {
  const byFolder = new Map();
  for (const { path: requestPath } of requests) {
    if (!requestPath.startsWith('/media/')) continue;
    const relative = requestPath.slice('/media/'.length);
    const folder = relative.includes('/') ? relative.split('/')[0] : '.';
    const kind = relative.endsWith('.m3u8') || relative.endsWith('.mpd')
      ? 'playlist' : /init/.test(path.basename(relative)) ? 'init' : 'segment';
    const counts = byFolder.get(folder) || { playlist: 0, init: 0, segment: 0 };
    counts[kind] += 1;
    byFolder.set(folder, counts);
  }
  return [...byFolder.entries()]
    .map(([folder, c]) => `${folder}: ${c.playlist} playlist, ${c.init} init, ${c.segment} segment`)
    .join('; ');
}

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
    // Playwright's messages carry a colored call log: keep the first line.
    failures.push(`driving the page failed: ${error.message.replace(/\x1b\[[0-9;]*m/g, '').split('\n')[0]}`);
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
  for (const { path: missing } of server.requests.slice(firstRequest).filter((r) => r.status === 404)) {
    failures.push(`the player asked for ${missing}, which does not exist`);
  }
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
  const requirements = findRequirements();
  const existingDir = process.argv[2];
  let mediaDir;
  if (existingDir) {
    mediaDir = path.resolve(existingDir);
    log(`playing existing output ${mediaDir}`);
  } else {
    const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'onair-browser-'));
    cleanups.push(() => fs.rmSync(tempDir, { recursive: true, force: true }));
    mediaDir = path.join(tempDir, 'out');
    fs.mkdirSync(mediaDir);
    await produceVod(mediaDir);
  }
  log(`output:\n  ${listOutput(mediaDir).join('\n  ')}`);

  const server = await startServer(mediaDir, requirements);
  log(`serving on ${server.base}`);

  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'onair-chromium-'));
  cleanups.push(() => fs.rmSync(userDataDir, { recursive: true, force: true }));
  // Playwright gives Chromium a temporary profile; a temporary HOME keeps the
  // rest of what it writes (caches, crash reports) out of the real one too.
  const browser = await withTimeout(
    requirements.playwright.chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--autoplay-policy=no-user-gesture-required',
      ],
      env: { ...process.env, HOME: userDataDir },
    }),
    60_000,
    'starting Chromium',
  );
  cleanups.push(() => withTimeout(browser.close(), 20_000, 'closing Chromium'));
  log(`browser: Chromium ${browser.version()}`);

  const failures = [
    ...(await play(browser, server, 'hls.js', '/hls.html')),
    ...(await play(browser, server, 'dash.js', '/dash.html')),
  ];
  return failures;
}

const overall = setTimeout(async () => {
  log(`FAIL: the whole test took longer than 500 s`);
  await cleanUp();
  process.exit(1);
}, 500_000);

let exitCode = 0;
try {
  const failures = await main();
  if (failures.length > 0) {
    log(`\nFAIL: ${failures.length} problem(s):\n  ${failures.join('\n  ')}`);
    exitCode = 1;
  } else {
    log('\nPASS: hls.js and dash.js both played the ladder');
  }
} catch (error) {
  log(`\nFAIL: ${error.message}`);
  exitCode = 1;
} finally {
  clearTimeout(overall);
  await cleanUp();
}
process.exit(exitCode);

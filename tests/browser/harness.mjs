// What the browser tests share: logging and exit codes, clean-up on exit or
// signal, the npm players and Debian's Chromium (skip when missing), running
// a command, an HTTP server for an output directory, and starting headless
// Chromium through playwright-core.
//
// Environment: ONAIR_SOURCE_ROOT, ONAIR_NODE_DIR (holds node_modules; default
// tests/node), ONAIR_CHROMIUM (default /usr/bin/chromium).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const EXIT_SKIP = 77;

const here = path.dirname(fileURLToPath(import.meta.url));
export const sourceRoot = path.resolve(process.env.ONAIR_SOURCE_ROOT || path.join(here, '..', '..'));
export const nodeDir = path.resolve(process.env.ONAIR_NODE_DIR || path.join(sourceRoot, 'tests', 'node'));
export const chromiumPath = process.env.ONAIR_CHROMIUM || '/usr/bin/chromium';

export const MIME_TYPES = {
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

export function log(message) {
  if (!interrupted) process.stdout.write(`${message}\n`);
}

export function skip(message) {
  log(`SKIP: ${message}`);
  process.exit(EXIT_SKIP);
}

// Everything that must be undone, whatever happens: run last pushed first.
export const cleanups = [];
export async function cleanUp() {
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

export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// A dist file of an npm package; several names cover the packages' major versions.
function distFile(packageName, candidates) {
  const packageDir = path.join(nodeDir, 'node_modules', packageName);
  for (const candidate of candidates) {
    const file = path.join(packageDir, candidate);
    if (fs.existsSync(file)) return file;
  }
  return null;
}

const PLAYERS = {
  'hls.js': { package: 'hls.js', files: ['dist/hls.min.js', 'dist/hls.js'] },
  'dash.js': { package: 'dashjs', files: ['dist/modern/umd/dash.all.min.js', 'dist/dash.all.min.js'] },
};

// Chromium, playwright-core and the named players (keys of PLAYERS), or exit 77.
// Returns { playwright, players: { 'hls.js': file, … } }.
export function findRequirements(playerNames) {
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
  const players = {};
  for (const name of playerNames) {
    const file = distFile(PLAYERS[name].package, PLAYERS[name].files);
    if (!file) skip(`${name} not found in ${nodeDir}/node_modules (run npm ci there, or ./dev.sh test)`);
    players[name] = file;
  }
  return { playwright, players };
}

// Runs a command to completion, output collected; rejects on timeout.
export function run(command, args, { timeoutMs, env = process.env }) {
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

// Every file under dir with its size, sorted.
export function listOutput(dir) {
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

// Serves mediaDir under /media (read at each request, so a live output can
// grow), `pages` (path -> HTML text) and `files` (path -> file on disk).
// Every request is recorded in `requests` ({ path, status, bytes }).
export function startServer(mediaDir, { pages = {}, files = {} }) {
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

    if (Object.hasOwn(pages, pathname)) return send(200, MIME_TYPES['.html'], pages[pathname]);
    if (Object.hasOwn(files, pathname)) return sendFile(files[pathname]);
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
export function summarizeRequests(requests) {
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

// A failure for every file the player asked for and the server did not have.
export function missingFiles(requests) {
  return requests.filter((r) => r.status === 404).map((r) => `the player asked for ${r.path}, which does not exist`);
}

// A page with a muted <video id="video"> and the player's script; `body` sets
// the player up. window.report gathers what the test reads: `errors` (fatal),
// `warnings`, `levels`, `audioTracks`, `switches`, `version`; startPlaying()
// starts the video; hlsErrorText(data) is an hls.js ERROR event's data as one
// line (type/details, reason, error, URL).
export function playerPage(title, scriptUrl, body) {
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
function hlsErrorText(data) {
  return data.type + '/' + data.details +
    (data.reason ? ': ' + data.reason : '') + (data.error ? ': ' + data.error.message : '') +
    (data.url || (data.frag && data.frag.url) ? ' (' + (data.url || data.frag.url) + ')' : '');
}
try {
${body}
} catch (error) {
  window.report.errors.push('player setup threw: ' + error.message);
}
</script></body></html>
`;
}

// A new directory under the system's temporary one, removed at clean-up.
export function scratchDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// Headless Chromium, closed at clean-up.
export async function launchChromium(playwright) {
  const userDataDir = scratchDir('onair-chromium-');
  // Playwright gives Chromium a temporary profile; a temporary HOME keeps the
  // rest of what it writes (caches, crash reports) out of the real one too.
  const browser = await withTimeout(
    playwright.chromium.launch({
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
  return browser;
}

// Playwright's messages carry a colored call log: the first line, plain.
// A program that prints JSON lines (a live channel), run in the background:
// each line parsed goes to onEvent; other output is kept in state.stderr.
// state.done resolves when it exits (state.exit: its code or signal); it is
// killed at clean-up if still running. `fields` start the state.
export function startJsonLines(program, args, onEvent, fields = {}) {
  log(`channel: ${program} ${args.join(' ')}`);
  const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const state = { ...fields, stderr: '', exit: null, started: Date.now() };
  let pending = '';
  child.stdout.on('data', (chunk) => {
    pending += chunk;
    let newline;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      let event;
      try {
        event = JSON.parse(line);
      } catch {
        state.stderr += `(stdout) ${line}\n`;
        continue;
      }
      onEvent(event, state);
    }
  });
  child.stderr.on('data', (chunk) => (state.stderr += chunk));
  state.done = new Promise((resolve) => {
    child.on('error', (error) => {
      state.exit = `cannot run: ${error.message}`;
      resolve();
    });
    child.on('close', (code, signal) => {
      state.exit = code ?? signal;
      resolve();
    });
  });
  cleanups.push(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'));
  return state;
}

export function firstLine(error) {
  return error.message.replace(/\x1b\[[0-9;]*m/g, '').split('\n')[0];
}

// Runs main() (which returns a list of failures) within overallMs, cleans up
// and exits 0 (no failure) or 1.
export async function runTest(main, { overallMs, passMessage }) {
  const overall = setTimeout(async () => {
    log(`FAIL: the whole test took longer than ${overallMs / 1000} s`);
    await cleanUp();
    process.exit(1);
  }, overallMs);

  let exitCode = 0;
  try {
    const failures = await main();
    if (failures.length > 0) {
      log(`\nFAIL: ${failures.length} problem(s):\n  ${failures.join('\n  ')}`);
      exitCode = 1;
    } else {
      log(`\nPASS: ${passMessage}`);
    }
  } catch (error) {
    log(`\nFAIL: ${error.message}`);
    exitCode = 1;
  } finally {
    clearTimeout(overall);
    await cleanUp();
  }
  process.exit(exitCode);
}

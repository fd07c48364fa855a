// onair — onaird's answers checked against schemas/openapi.yaml: the real
// daemon (embedded PostgreSQL in a scratch directory, a free port) is asked
// every route, successes and errors; each answer's status must be documented
// for its operation and its body must match the documented schema (JSON
// Schema 2020-12 through ajv). Prints TAP.
//
// Usage: node test_openapi.mjs ONAIRD
// ONAIR_SOURCE_ROOT (default: two levels up), ONAIR_NODE_DIR (node_modules).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const sourceRoot = path.resolve(process.env.ONAIR_SOURCE_ROOT || path.join(here, '..', '..'));
const nodeDir = path.resolve(process.env.ONAIR_NODE_DIR || path.join(sourceRoot, 'tests', 'node'));
const require = createRequire(path.join(nodeDir, 'package.json'));
const Ajv2020 = require('ajv/dist/2020').default;
const addFormats = require('ajv-formats');
const YAML = require('yaml');

const onaird = process.argv[2];
if (!onaird) {
  console.error('usage: test_openapi.mjs ONAIRD');
  process.exit(2);
}

const spec = YAML.parse(fs.readFileSync(path.join(sourceRoot, 'schemas', 'openapi.yaml'), 'utf8'));
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ ...spec, $id: 'openapi' });

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

// The operation of the spec that a concrete path and method belong to.
function operationOf(method, concrete) {
  const pathname = new URL(concrete, 'http://x').pathname;
  for (const [template, item] of Object.entries(spec.paths)) {
    // {path} spans segments (the signed media URLs).
    const pattern = new RegExp('^' + template.replace(/\{path\}/g, '.+').replace(/\{[^}]+\}/g, '[^/]+') + '$');
    if (pattern.test(pathname) && item[method.toLowerCase()]) return { template, operation: item[method.toLowerCase()] };
  }
  return null;
}

function resolve(object) {
  while (object && object.$ref) {
    object = object.$ref.replace(/^#\//, '').split('/').reduce((node, key) => node[key], spec);
  }
  return object;
}

let count = 0;
let failed = 0;
function check(ok, name, diagnostics) {
  count++;
  if (ok) console.log(`ok ${count} - ${name}`);
  else {
    failed++;
    console.log(`not ok ${count} - ${name}`);
    if (diagnostics) console.log(String(diagnostics).split('\n').map((line) => '# ' + line).join('\n'));
  }
}

let base;
// Polls a JSON resource (with the current token, unchecked) until accept(body) holds; the last body.
async function poll(url, accept, seconds) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    let body = null;
    try {
      const response = await fetch(base + url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      body = await response.json();
      if (accept(body)) return body;
    } catch {}
    if (Date.now() > deadline) return null;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
// The bearer token sent by call() unless it is given one ('' for none).
let token = '';
// Every operation called, "METHOD template": each one in the spec must be.
const called = new Set();
// Sends a request and checks the answer against the spec.
async function call(method, url, body, expectedStatus, as = token) {
  const init = { method, headers: {} };
  if (as) init.headers.authorization = `Bearer ${as}`;
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers['content-type'] = 'application/json';
  }
  const response = await fetch(base + url, init);
  const raw = new Uint8Array(await response.arrayBuffer());
  const text = new TextDecoder().decode(raw);
  const name = `${method} ${url.slice(0, 70)} -> ${expectedStatus}`;
  const found = operationOf(method, url);
  if (!found) {
    check(false, name, 'no such operation in openapi.yaml');
    return null;
  }
  called.add(`${method} ${found.template}`);
  const documented = resolve(found.operation.responses[String(response.status)]);
  if (response.status !== expectedStatus || !documented) {
    check(false, name, `status ${response.status} (documented: ${!!documented}): ${text}`);
    return null;
  }
  const contentType = (response.headers.get('content-type') || '').split(';')[0].trim();
  if (!documented.content) {
    check(text === '', name, `an undocumented body: ${text}`);
    return null;
  }
  const media = documented.content[contentType];
  if (!media) {
    check(false, name, `undocumented content type ${contentType}`);
    return null;
  }
  if (method === 'HEAD') {
    check(text === '', name, `a body in answer to HEAD: ${text.slice(0, 100)}`);
    return null;
  }
  if (!contentType.endsWith('json') && !contentType.startsWith('image/')) {
    // Media (playlists, manifests, segments): the documented type, a body.
    check(raw.length > 0, name, 'an empty body');
    return raw;
  }
  if (contentType.startsWith('image/')) {
    // Not JSON: a JPEG starts with the SOI marker (FF D8).
    check(raw[0] === 0xff && raw[1] === 0xd8, name, `not a JPEG: ${raw.length} bytes`);
    for (const [header, spec] of Object.entries(documented.headers || {})) {
      if (spec.required) check(response.headers.get(header) !== null, `${name}: header ${header}`);
    }
    return raw;
  }
  const json = JSON.parse(text);
  // The response's schema by JSON pointer into the spec: $refs inside resolve against it.
  const pointer = (key) => key.replace(/~/g, '~0').replace(/\//g, '~1');
  const where = found.operation.responses[String(response.status)].$ref
    ? found.operation.responses[String(response.status)].$ref.slice(1)
    : `/paths/${pointer(found.template)}/${method.toLowerCase()}/responses/${response.status}`;
  const validate = ajv.compile({ $ref: `openapi#${where}/content/${pointer(contentType)}/schema` });
  const valid = validate(json);
  check(valid, name, valid ? '' : JSON.stringify(validate.errors, null, 1) + '\n' + text);
  for (const [header, spec] of Object.entries(documented.headers || {})) {
    if (spec.required) check(response.headers.get(header) !== null, `${name}: header ${header}`);
  }
  return json;
}

// An answer that is not JSON: text, or an event stream that stays open (its
// first chunk is read, then the request is aborted). Its status, content type
// and required headers must be documented; returns the text read.
async function callText(method, url, expectedStatus, { stream = false } = {}) {
  const controller = new AbortController();
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  const response = await fetch(base + url, { method, signal: controller.signal, headers });
  const name = `${method} ${url} -> ${expectedStatus} (${stream ? 'stream' : 'text'})`;
  let text = '';
  try {
    if (stream) {
      const { value } = await response.body.getReader().read();
      text = new TextDecoder().decode(value);
    } else {
      text = await response.text();
    }
  } finally {
    controller.abort();
  }
  const found = operationOf(method, url);
  if (found) called.add(`${method} ${found.template}`);
  const documented = found && resolve(found.operation.responses[String(response.status)]);
  if (response.status !== expectedStatus || !documented) {
    check(false, name, `status ${response.status} (documented: ${!!documented}): ${text}`);
    return null;
  }
  const contentType = (response.headers.get('content-type') || '').split(';')[0].trim();
  check(!!(documented.content && documented.content[contentType]), name, `undocumented content type ${contentType}`);
  for (const [header, spec] of Object.entries(documented.headers || {})) {
    if (spec.required) check(response.headers.get(header) !== null, `${name}: header ${header}`);
  }
  return { text, contentType: response.headers.get('content-type') };
}

const state = fs.mkdtempSync(path.join(os.tmpdir(), 'onair-openapi-'));
fs.chmodSync(state, 0o755);
const port = await freePort();
const daemon = spawn(onaird, ['--state', state, '--port', String(port), '--listen', '127.0.0.1'], {
  env: {
    ...process.env,
    ONAIRD_MIGRATIONS_DIR: path.join(sourceRoot, 'schemas', 'postgres'),
    ONAIRD_PIPELINES_DIR: path.join(sourceRoot, 'pipelines'),
  },
  // Its log goes to stderr: stdout is the TAP stream.
  stdio: ['ignore', process.stderr, 'inherit'],
});
let exited = false;
daemon.on('exit', () => { exited = true; });
base = `http://127.0.0.1:${port}`;

async function stop() {
  if (!exited) {
    daemon.kill('SIGTERM');
    await new Promise((resolve) => daemon.once('exit', resolve));
  }
  fs.rmSync(state, { recursive: true, force: true });
}

try {
  const deadline = Date.now() + 180000;
  for (;;) {
    if (exited) throw new Error('onaird exited before it served');
    try {
      const response = await fetch(base + '/healthz');
      if (response.status === 200) break;
    } catch {}
    if (Date.now() > deadline) throw new Error('onaird did not become healthy');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  await call('GET', '/healthz', undefined, 200);
  // The first admin token, made by onaird at its first start.
  const tokenFile = path.join(state, 'admin.token');
  while (!fs.existsSync(tokenFile)) {
    if (Date.now() > deadline) throw new Error(`onaird wrote no ${tokenFile}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  token = fs.readFileSync(tokenFile, 'utf8').trim();
  check((fs.statSync(tokenFile).mode & 0o077) === 0, 'admin.token is readable by its owner only');

  const viewer = await call('POST', '/api/v1/tokens', { name: 'viewer', role: 'viewer' }, 201);
  await call('POST', '/api/v1/tokens', { name: '', role: 'root' }, 422);
  const listed = await call('GET', '/api/v1/tokens', undefined, 200);
  check(listed && !JSON.stringify(listed).includes(viewer?.token), 'listed tokens carry no secret');
  await call('GET', '/api/v1/tokens', undefined, 401, '');
  await call('GET', '/api/v1/tokens', undefined, 403, viewer?.token);
  await call('POST', '/api/v1/videos', { title: 'x' }, 401, '');
  await call('POST', '/api/v1/videos', { title: 'x' }, 403, viewer?.token);
  const video = await call('POST', '/api/v1/videos', { title: 'Contract', tags: ['a'], visibility: 'public' }, 201);
  const id = video?.id;
  await call('POST', '/api/v1/videos', { title: 'Second', kind: 'live', channel_id: null }, 201);
  await call('GET', `/api/v1/videos/${id}`, undefined, 200);
  await call('PATCH', `/api/v1/videos/${id}`, { description: 'updated', tags: [] }, 200);
  const page = await call('GET', '/api/v1/videos?limit=1', undefined, 200);
  if (page?.next) await call('GET', page.next, undefined, 200);
  await call('GET', '/api/v1/videos?tag=a&visibility=public&kind=vod&status=pending', undefined, 200);
  for (let i = 0; i < 3; i++) await call('POST', `/api/v1/videos/${id}/comments`, { author: 'a', body: `c${i}`, media_time_ms: i * 10 }, 201);
  await call('POST', `/api/v1/videos/${id}/comments`, { author: 'a', body: 'no time' }, 201);
  const comments = await call('GET', `/api/v1/videos/${id}/comments?limit=2`, undefined, 200);
  if (comments?.next) await call('GET', comments.next, undefined, 200);
  await call('GET', `/api/v1/videos/${id}/comments?order=media_time&limit=2`, undefined, 200);

  // Seek and frames: a video packaged by abrsink into the daemon's media
  // root, marked ready in the daemon's own (embedded) database.
  const packaged = (await call('POST', '/api/v1/videos', { title: 'Packaged' }, 201))?.id;
  const media = path.join(state, 'media', 'videos', packaged);
  const made = spawnSync('gst-launch-1.0', ['-q', 'videotestsrc', 'num-buffers=120', 'pattern=ball', '!',
    'video/x-raw,width=320,height=180,framerate=30/1', '!', 'abrladder', 'ladder=180p:300', '!',
    'abrsink', `location=${media}`, 'mode=vod'], { encoding: 'utf8' });
  check(made.status === 0, 'abrsink made a fixture', made.stderr);
  const psql = spawnSync('psql', ['-v', 'ON_ERROR_STOP=1', '-q',
    `postgresql:///onair?host=${path.join(state, 'pg', 'run')}&user=onair`, '-c',
    `UPDATE videos SET status = 'ready', media_path = 'videos/${packaged}', duration_ms = 4000, renditions = ` +
    `'[{"name": "180p", "width": 320, "height": 180, "bandwidth": 300000}]' WHERE id = '${packaged}'`],
  { encoding: 'utf8' });
  check(psql.status === 0, 'the fixture video is ready', psql.stderr);
  const seek = await call('GET', `/api/v1/videos/${packaged}/seek?offset=2500&device=mobile`, undefined, 200);
  if (seek?.frame_url) await call('GET', new URL(seek.frame_url).pathname + new URL(seek.frame_url).search, undefined, 200);
  await call('GET', `/api/v1/videos/${packaged}/frames?t=100&width=64`, undefined, 200);
  await call('GET', `/api/v1/videos/${packaged}/seek?offset=4000`, undefined, 422);
  const ready = await call('GET', `/api/v1/videos/${packaged}`, undefined, 200);
  if (ready) {
    const master = new URL(ready.playback.hls).pathname;
    const playlist = await call('GET', master, undefined, 200);
    check(playlist && Buffer.from(playlist).toString().startsWith('#EXTM3U'), 'the signed master playlist is HLS');
    await call('HEAD', master, undefined, 200);
    await call('GET', new URL(ready.playback.dash).pathname, undefined, 200);
  }
  await call('GET', `/api/v1/videos/${packaged}/seek?offset=0&device=watch`, undefined, 422);
  await call('GET', `/api/v1/videos/${packaged}/seek`, undefined, 400);
  await call('GET', `/api/v1/videos/${packaged}/frames?t=9000`, undefined, 422);
  await call('GET', `/api/v1/videos/${id}/seek?offset=0`, undefined, 409);
  await call('GET', `/api/v1/videos/${id}/frames?t=0`, undefined, 409);
  await call('GET', '/api/v1/videos/01890000-0000-7000-8000-000000000000/seek?offset=0', undefined, 404);
  await call('GET', '/api/v1/videos/01890000-0000-7000-8000-000000000000/frames?t=0', undefined, 404);

  // Channels: a tiny test card, started (ad breaks and news flashes on it) and stopped; every error class.
  const small = { width: 160, height: 90, ladder: '90p:100', 'speed-preset': 'ultrafast' };
  const channel = await call('POST', '/api/v1/channels', { name: 'Contract', pipeline: 'test-card', parameters: small }, 201);
  const cid = channel?.id;
  await call('POST', '/api/v1/channels', { name: 'contract', pipeline: 'test-card' }, 409);
  await call('POST', '/api/v1/channels', { name: 'x', pipeline: 'no-such', parameters: {} }, 422);
  await call('POST', '/api/v1/channels', { name: 'x', pipeline: 'test-card', parameters: { output: '/tmp', colour: 1, width: 'wide' } }, 422);
  await call('POST', '/api/v1/channels', { name: 'x', pipeline: 'test-card' }, 403, viewer?.token);
  await call('GET', '/api/v1/channels', undefined, 200);
  await call('GET', '/api/v1/channels', undefined, 401, '');
  await call('GET', `/api/v1/channels/${cid}`, undefined, 200);
  await call('GET', '/api/v1/channels/01890000-0000-7000-8000-000000000000', undefined, 404);
  await call('GET', '/api/v1/channels/nope', undefined, 400);
  await call('PATCH', `/api/v1/channels/${cid}`, { parameters: { ...small, pattern: 'ball' } }, 200);
  await call('PATCH', `/api/v1/channels/${cid}`, { parameters: { pattern: 'plaid' } }, 422);
  await call('POST', `/api/v1/channels/${cid}/start`, undefined, 200);
  // Ad breaks on the running test card (its adsplice is name=ads).
  const live = await poll(`/api/v1/channels/${cid}`, (c) => c.state === 'live', 120);
  check(live, 'the contract channel goes live', JSON.stringify(live));
  const breaks = `/api/v1/channels/${cid}/ad-breaks`;
  await call('POST', breaks, { duration: 0 }, 422);
  await call('POST', breaks, { duration: 2, at: '2000-01-01T00:00:00Z' }, 422);
  await call('POST', breaks, { duration: 2, creatives: ['no/such.mp4'] }, 422);
  await call('POST', breaks, { duration: 2 }, 403, viewer?.token);
  await call('POST', '/api/v1/channels/01890000-0000-7000-8000-000000000000/ad-breaks', { duration: 2 }, 404);
  const running = await call('POST', breaks, { duration: 60 }, 202);
  await poll(`${breaks}/${running?.id}`, (b) => b.status === 'running', 30);
  await call('POST', breaks, { duration: 5 }, 409);
  await call('GET', `${breaks}/${running?.id}`, undefined, 200);
  await call('DELETE', `${breaks}/${running?.id}`, undefined, 202);
  await poll(`${breaks}/${running?.id}`, (b) => b.status === 'ended', 30);
  await call('DELETE', `${breaks}/${running?.id}`, undefined, 409);
  const later = await call('POST', breaks, { duration: 2, at: new Date(Date.now() + 60000).toISOString() }, 202);
  await call('DELETE', `${breaks}/${later?.id}`, undefined, 200);
  const breakPage = await call('GET', `${breaks}?limit=1`, undefined, 200);
  if (breakPage?.next) await call('GET', breakPage.next, undefined, 200);
  await call('GET', `${breaks}/01890000-0000-7000-8000-000000000000`, undefined, 404);
  await call('GET', `${breaks}/nope`, undefined, 400);
  await call('DELETE', `${breaks}/01890000-0000-7000-8000-000000000000`, undefined, 404);
  await call('GET', '/api/v1/channels/01890000-0000-7000-8000-000000000000/ad-breaks', undefined, 404);
  // News flashes on the running test card (its newsflash is name=flash).
  const flashes = `/api/v1/channels/${cid}/news-flashes`;
  await call('POST', flashes, { layer: 'ticker', text: 'x' }, 422);
  await call('POST', flashes, { layer: 'lower-third', text: '<b>unclosed' }, 422);
  await call('POST', flashes, { layer: 'crawl', text: 'x', duration: 5, expires_at: new Date(Date.now() + 60000).toISOString() }, 422);
  await call('POST', flashes, { layer: 'crawl', text: 'x' }, 403, viewer?.token);
  await call('POST', flashes, { layer: 'crawl', text: 'x' }, 401, '');
  await call('POST', '/api/v1/channels/01890000-0000-7000-8000-000000000000/news-flashes', { layer: 'crawl', text: 'x' }, 404);
  const flash = await call('POST', flashes, { layer: 'lower-third', text: '<b>Contract</b>', subtitle: 'A test', priority: 5, duration: 60 }, 201);
  await call('POST', flashes, { layer: 'crawl', text: 'Crawling', loops: 0, fade: 0 }, 201);
  await call('POST', flashes, { layer: 'fullscreen', text: 'Card', dim: 0.5, expires_at: new Date(Date.now() + 60000).toISOString() }, 201);
  await call('GET', flashes, undefined, 200);
  await poll(`${flashes}/${flash?.id}`, (f) => f.state === 'showing', 30);
  await call('GET', `${flashes}/${flash?.id}`, undefined, 200);
  await call('DELETE', `${flashes}/${flash?.id}`, undefined, 204);
  await call('DELETE', `${flashes}/${flash?.id}`, undefined, 409);
  await call('GET', `${flashes}/${flash?.id}`, undefined, 200);
  await call('DELETE', `${flashes}?layer=crawl`, undefined, 204);
  await call('DELETE', flashes, undefined, 204);
  await call('DELETE', `${flashes}?layer=ticker`, undefined, 400);
  await call('GET', `${flashes}?colour=red`, undefined, 400);
  await call('GET', `${flashes}/01890000-0000-7000-8000-000000000000`, undefined, 404);
  await call('GET', `${flashes}/nope`, undefined, 400);
  await call('DELETE', `${flashes}/01890000-0000-7000-8000-000000000000`, undefined, 404);
  await call('GET', '/api/v1/channels/01890000-0000-7000-8000-000000000000/news-flashes', undefined, 404);
  await call('DELETE', '/api/v1/channels/01890000-0000-7000-8000-000000000000/news-flashes', undefined, 404);
  // Reactions and points on the running test card (a viewer token is a viewer).
  const reactions = `/api/v1/channels/${cid}/reactions`;
  const unknownId = '01890000-0000-7000-8000-000000000000';
  const reactor = await call('POST', '/api/v1/tokens', { name: 'reactor', role: 'viewer' }, 201);
  const grants = `/api/v1/viewers/${reactor?.id}/points/grants`;
  await call('POST', reactions, { kind: '👍' }, 202, reactor?.token);
  await call('POST', reactions, { kind: '🍕' }, 422, reactor?.token);
  await call('POST', reactions, { kind: '👍', super: 'yes', colour: 1 }, 422, reactor?.token);
  await call('POST', reactions, '{"kind": ', 400, reactor?.token);
  await call('POST', reactions, { kind: '👍' }, 401, '');
  await call('POST', `/api/v1/channels/${unknownId}/reactions`, { kind: '👍' }, 404, reactor?.token);
  await call('POST', reactions, { kind: '🔥', super: true }, 409, reactor?.token);
  await call('POST', grants, { amount: 25, reason: 'contract' }, 201);
  await call('POST', grants, { amount: 25, reason: 'contract' }, 403, reactor?.token);
  await call('POST', grants, { amount: 0, reason: '' }, 422);
  await call('POST', `/api/v1/viewers/${unknownId}/points/grants`, { amount: 1, reason: 'x' }, 404);
  await call('POST', '/api/v1/viewers/nope/points/grants', { amount: 1, reason: 'x' }, 400);
  await call('POST', reactions, { kind: '🔥', super: true }, 202, reactor?.token);
  await call('POST', '/api/v1/viewers/me/watch', { channel_id: cid, seconds: 120 }, 200, reactor?.token);
  await call('POST', '/api/v1/viewers/me/watch', { channel_id: cid, seconds: 0 }, 422, reactor?.token);
  await call('POST', '/api/v1/viewers/me/watch', { seconds: 60 }, 422, reactor?.token);
  await call('POST', '/api/v1/viewers/me/watch', '{"seconds": ', 400, reactor?.token);
  await call('POST', '/api/v1/viewers/me/watch', { channel_id: cid, seconds: 60 }, 401, '');
  await call('GET', '/api/v1/viewers/me/points', undefined, 200, reactor?.token);
  await call('GET', '/api/v1/viewers/me/points', undefined, 401, '');
  const ledgerPage = await call('GET', '/api/v1/viewers/me/points/ledger?limit=1', undefined, 200, reactor?.token);
  if (ledgerPage?.next) await call('GET', ledgerPage.next, undefined, 200, reactor?.token);
  await call('GET', '/api/v1/viewers/me/points/ledger?limit=0', undefined, 400, reactor?.token);
  await call('GET', '/api/v1/viewers/me/points/ledger', undefined, 401, '');
  // The viewer's burst (default 20) spent: 429 with Retry-After.
  for (let i = 0; i < 30; i++) {
    const response = await fetch(base + reactions, { method: 'POST', headers: { authorization: `Bearer ${reactor?.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ kind: '😂' }) });
    await response.arrayBuffer();
    if (response.status === 429) break;
  }
  await call('POST', reactions, { kind: '😂' }, 429, reactor?.token);
  const timelineOf = `/api/v1/videos/${live?.video_id}/reactions`;
  const timelineBody = await call('GET', `${timelineOf}?bucket=120`, undefined, 200);
  check(timelineBody && timelineBody.super_totals['🔥'] === 1, 'the timeline counts the super reaction', JSON.stringify(timelineBody));
  await call('GET', timelineOf, undefined, 200, '');
  await call('GET', `${timelineOf}?bucket=90`, undefined, 400);
  await call('GET', `/api/v1/videos/${unknownId}/reactions`, undefined, 404);
  await call('GET', '/api/v1/videos/nope/reactions', undefined, 400);
  await call('POST', `/api/v1/channels/${cid}/rotate-key`, undefined, 200);
  await call('POST', `/api/v1/channels/${cid}/stop`, undefined, 200);
  await poll(`/api/v1/channels/${cid}`, (c) => c.state === 'stopped', 30);
  await call('POST', reactions, { kind: '👍' }, 409);
  await call('POST', '/api/v1/channels/01890000-0000-7000-8000-000000000000/start', undefined, 404);
  await call('DELETE', `/api/v1/channels/${cid}`, undefined, 204);
  await call('DELETE', `/api/v1/channels/${cid}`, undefined, 404);

  await call('POST', '/api/v1/videos', '{"title": ', 400);
  await call('POST', '/api/v1/videos', { title: 7, colour: 'red' }, 422);
  await call('POST', '/api/v1/videos', { title: 't', description: 'x'.repeat(70 * 1024) }, 413);
  await call('GET', '/api/v1/videos/not-a-uuid', undefined, 400);
  await call('GET', '/api/v1/videos/01890000-0000-7000-8000-000000000000', undefined, 404);
  await call('GET', '/api/v1/videos?limit=1000', undefined, 400);
  await call('POST', `/api/v1/videos/${id}/comments`, { author: '', body: 'b' }, 422);
  await call('POST', '/api/v1/videos/01890000-0000-7000-8000-000000000000/comments', { author: 'a', body: 'b' }, 404);
  await call('GET', `/api/v1/videos/${id}/comments?after=@@`, undefined, 400);
  // The playback URLs are signed and served under /media: no output was
  // written for this video (404); a forged signature is refused (403).
  if (video) {
    const hls = new URL(video.playback.hls).pathname;
    await call('GET', hls, undefined, 404);
    await call('GET', hls.replace(/^(\/media\/s\/\d+\/)[^/]+/, '$1' + 'A'.repeat(43)), undefined, 403);
    await call('GET', hls.replace(/^\/media\/s\/\d+\//, '/media/s/1/'), undefined, 403);
  }
  const events = await callText('GET', '/api/v1/events?types=comment.created,channel', 200, { stream: true });
  check(events?.text.startsWith('retry: '), 'the event stream starts with a retry hint', events?.text);
  await call('GET', '/api/v1/events?types=a..b', undefined, 400);
  await call('GET', '/api/v1/events?video_id=nope', undefined, 400);
  await call('GET', '/api/v1/events', undefined, 401, '');
  const metrics = await callText('GET', '/metrics', 200);
  check(metrics?.contentType === 'text/plain; version=0.0.4; charset=utf-8', 'GET /metrics: exposition format 0.0.4',
    metrics?.contentType);
  check(/^# TYPE onair_http_requests_total counter$/m.test(metrics?.text || ''), 'GET /metrics: request counter',
    metrics?.text);
  await call('DELETE', `/api/v1/videos/${id}`, undefined, 204);
  await call('DELETE', `/api/v1/videos/${id}`, undefined, 404);
  await call('DELETE', `/api/v1/tokens/${viewer?.id}`, undefined, 204);
  await call('DELETE', `/api/v1/tokens/${viewer?.id}`, undefined, 404);

  // Coverage: every operation of the contract was called at least once.
  for (const [template, item] of Object.entries(spec.paths)) {
    for (const method of ['get', 'put', 'post', 'patch', 'delete', 'head']) {
      if (item[method]) check(called.has(`${method.toUpperCase()} ${template}`), `${method.toUpperCase()} ${template} is exercised`);
    }
  }
} catch (error) {
  check(false, 'onaird answered', error.stack);
} finally {
  await stop();
}
console.log(`1..${count}`);
process.exit(failed ? 1 : 0);

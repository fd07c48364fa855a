// onair — onaird's answers checked against schemas/openapi.yaml: the real
// daemon (embedded PostgreSQL in a scratch directory, a free port) is asked
// every route, successes and errors; each answer's status must be documented
// for its operation and its body must match the documented schema (JSON
// Schema 2020-12 through ajv). Prints TAP.
//
// Usage: node test_openapi.mjs ONAIRD
// ONAIR_SOURCE_ROOT (default: two levels up), ONAIR_NODE_DIR (node_modules).
import { spawn } from 'node:child_process';
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
    const pattern = new RegExp('^' + template.replace(/\{[^}]+\}/g, '[^/]+') + '$');
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
// Sends a request and checks the answer against the spec.
async function call(method, url, body, expectedStatus) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers['content-type'] = 'application/json';
  }
  const response = await fetch(base + url, init);
  const text = await response.text();
  const name = `${method} ${url.slice(0, 70)} -> ${expectedStatus}`;
  const found = operationOf(method, url);
  if (!found) {
    check(false, name, 'no such operation in openapi.yaml');
    return null;
  }
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
  const response = await fetch(base + url, { method, signal: controller.signal });
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
  env: { ...process.env, ONAIRD_MIGRATIONS_DIR: path.join(sourceRoot, 'schemas', 'postgres') },
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

  await call('POST', '/api/v1/videos', '{"title": ', 400);
  await call('POST', '/api/v1/videos', { title: 7, colour: 'red' }, 422);
  await call('POST', '/api/v1/videos', { title: 't', description: 'x'.repeat(70 * 1024) }, 413);
  await call('GET', '/api/v1/videos/not-a-uuid', undefined, 400);
  await call('GET', '/api/v1/videos/01890000-0000-7000-8000-000000000000', undefined, 404);
  await call('GET', '/api/v1/videos?limit=1000', undefined, 400);
  await call('POST', `/api/v1/videos/${id}/comments`, { author: '', body: 'b' }, 422);
  await call('POST', '/api/v1/videos/01890000-0000-7000-8000-000000000000/comments', { author: 'a', body: 'b' }, 404);
  await call('GET', `/api/v1/videos/${id}/comments?after=@@`, undefined, 400);
  const events = await callText('GET', '/api/v1/events?types=comment.created,channel', 200, { stream: true });
  check(events?.text.startsWith('retry: '), 'the event stream starts with a retry hint', events?.text);
  await call('GET', '/api/v1/events?types=a..b', undefined, 400);
  await call('GET', '/api/v1/events?video_id=nope', undefined, 400);
  const metrics = await callText('GET', '/metrics', 200);
  check(metrics?.contentType === 'text/plain; version=0.0.4; charset=utf-8', 'GET /metrics: exposition format 0.0.4',
    metrics?.contentType);
  check(/^# TYPE onair_http_requests_total counter$/m.test(metrics?.text || ''), 'GET /metrics: request counter',
    metrics?.text);
  await call('DELETE', `/api/v1/videos/${id}`, undefined, 204);
  await call('DELETE', `/api/v1/videos/${id}`, undefined, 404);
} catch (error) {
  check(false, 'onaird answered', error.stack);
} finally {
  await stop();
}
console.log(`1..${count}`);
process.exit(failed ? 1 : 0);

// onair
// Copyright (C) 2026 onair developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The peer of the REST benchmark (bench_rest.py): onaird's two comment routes
// written the way a Node.js team would, in Fastify 5 + pg, against the same
// PostgreSQL database and schema (schemas/postgres), one process.
//
//   POST /api/v1/videos/{id}/comments    one INSERT ... RETURNING per request
//   GET  /api/v1/videos/{id}/comments    newest first (or ?order=media_time),
//                                        keyset pages, ?limit=1..200, ?after=
//
// Same answers as onaird (daemon/http/api.cpp, daemon/store/comments.cpp):
// the same validation (author 1-64 and body 1-2000 characters, media_time_ms
// an integer >= 0 or null, unknown fields refused) with the same
// application/problem+json errors naming the field, 404 for an unknown video,
// 201 with the row and a Location, the same page SQL and cursor encoding, and
// created_at as RFC 3339 in UTC with microseconds. Each statement is a named
// (prepared) statement; the pool holds 16 connections.
//
// Auth: every request must carry `Authorization: Bearer <secret>` of a live
// token of api_tokens (any role: viewer is the least), looked up by its
// SHA-256 and cached in memory for a minute, as onaird is to check it.
//
// Usage: node fastify_comments.mjs PORT DATABASE_URI
// ONAIR_NODE_DIR: where node_modules is (default tests/node). Prints
// "listening on PORT" once it serves; exits on SIGTERM/SIGINT.
import crypto from 'node:crypto';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const nodeDir = path.resolve(process.env.ONAIR_NODE_DIR || path.join(here, '..', 'node'));
const require = createRequire(path.join(nodeDir, 'package.json'));
const Fastify = require('fastify');
const pg = require('pg');

const [port, uri] = process.argv.slice(2);
if (!port || !uri) {
  console.error('usage: fastify_comments.mjs PORT DATABASE_URI');
  process.exit(2);
}

const MAX_BODY_BYTES = 64 * 1024;
const TOKEN_CACHE_MS = 60 * 1000;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

// timestamptz as the server's text ("2026-11-21 09:53:43.123456+00" in UTC
// sessions): a Date would lose the microseconds the cursors need.
pg.types.setTypeParser(1184, (text) => text);
// bigint (media_time_ms) as a number: it is < 2^53 in practice.
pg.types.setTypeParser(20, (text) => Number(text));

const pool = new pg.Pool({
  connectionString: uri,
  max: 16,
  options: '-c TimeZone=UTC -c DateStyle=ISO,YMD',
  application_name: 'fastify-peer',
});

// The statements of daemon/store/comments.cpp; the insert is one row at a time.
const insertComment = {
  name: 'comments_insert',
  text: `INSERT INTO comments (id, video_id, author, body, media_time_ms)
         VALUES (onair_uuid_v7(), $1::uuid, $2::text, $3::text, $4::bigint)
         RETURNING id, video_id, author, body, media_time_ms, created_at`,
};
const listNewest = {
  name: 'comments_list_newest',
  text: `SELECT c.id, c.video_id, c.author, c.body, c.media_time_ms, c.created_at
  FROM videos v LEFT JOIN LATERAL (
    SELECT * FROM comments
    WHERE video_id = v.id
      AND (created_at, id) < (coalesce($2::timestamptz, 'infinity'),
                              coalesce($3::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'))
    ORDER BY created_at DESC, id DESC LIMIT $4::int) c ON true
  WHERE v.id = $1::uuid`,
};
const listMediaTime = {
  name: 'comments_list_media_time',
  text: `SELECT c.id, c.video_id, c.author, c.body, c.media_time_ms, c.created_at
  FROM videos v LEFT JOIN LATERAL (
    SELECT * FROM comments
    WHERE video_id = v.id AND media_time_ms IS NOT NULL
      AND (media_time_ms, id) > (coalesce($2::bigint, -1),
                                 coalesce($3::uuid, '00000000-0000-0000-0000-000000000000'))
    ORDER BY media_time_ms, id LIMIT $4::int) c ON true
  WHERE v.id = $1::uuid`,
};
const findToken = {
  name: 'api_tokens_find',
  text: `SELECT role FROM api_tokens
         WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
};

const TITLES = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

class Problem extends Error {
  constructor(status, detail, errors) {
    super(detail);
    this.status = status;
    this.detail = detail;
    this.errors = errors;
  }
}

function sendProblem(reply, problem) {
  const body = { type: 'about:blank', title: TITLES[problem.status] || 'Error', status: problem.status };
  if (problem.detail) body.detail = problem.detail;
  if (problem.errors && problem.errors.length) body.errors = problem.errors;
  if (problem.status === 503) reply.header('Retry-After', '1');
  if (problem.status === 401) reply.header('WWW-Authenticate', 'Bearer');
  return reply.code(problem.status).type('application/problem+json').send(JSON.stringify(body));
}

// "2026-11-21 09:53:43.12+00" -> "2026-11-21T09:53:43.120000Z"
function rfc3339(text) {
  const match = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?\+00$/.exec(text);
  if (!match) return new Date(text).toISOString();
  return `${match[1]}T${match[2]}.${(match[3] || '').padEnd(6, '0')}Z`;
}

function commentJson(row) {
  return {
    id: row.id,
    video_id: row.video_id,
    author: row.author,
    body: row.body,
    media_time_ms: row.media_time_ms,
    created_at: rfc3339(row.created_at),
  };
}

// Cursors as store::Cursor: base64url (unpadded) of "kind|key|id".
function encodeCursor(kind, key, id) {
  return Buffer.from(`${kind}|${key}|${id}`, 'utf8').toString('base64url');
}

function decodeCursor(text, kind) {
  if (!text || text.length > 200 || !/^[A-Za-z0-9_-]+$/.test(text)) return null;
  const raw = Buffer.from(text, 'base64url').toString('utf8');
  const first = raw.indexOf('|');
  const second = first < 0 ? -1 : raw.indexOf('|', first + 1);
  if (second < 0) return null;
  const cursor = { kind: raw.slice(0, first), key: raw.slice(first + 1, second), id: raw.slice(second + 1) };
  if (cursor.kind !== kind || !UUID.test(cursor.id)) return null;
  if (kind === 't') {
    if (Number.isNaN(Date.parse(cursor.key))) return null;
  } else if (!/^\d+$/.test(cursor.key)) {
    return null;
  }
  return cursor;
}

// Characters as g_utf8_strlen counts them: code points.
function length(text) {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

// -- auth: SHA-256 of the secret, looked up once a minute per token

const tokens = new Map(); // hash (hex) -> { role, until }

async function authenticate(request) {
  const header = request.headers.authorization || '';
  const match = /^Bearer ([\x21-\x7e]+)$/.exec(header);
  if (!match) throw new Problem(401, 'a bearer token is required');
  const digest = crypto.createHash('sha256').update(match[1], 'utf8').digest();
  const key = digest.toString('hex');
  const now = Date.now();
  let entry = tokens.get(key);
  if (!entry || entry.until < now) {
    const result = await query(findToken, [digest]);
    entry = { role: result.rows.length ? result.rows[0].role : null, until: now + TOKEN_CACHE_MS };
    tokens.set(key, entry);
  }
  if (!entry.role) throw new Problem(401, 'the token is not valid');
  return entry.role;
}

async function query(statement, values) {
  try {
    return await pool.query({ ...statement, values });
  } catch (error) {
    if (error.code === '23503') throw new Problem(404, 'video not found');
    if (error.code && /^2[23]/.test(error.code)) throw new Problem(422, 'the value is not acceptable');
    if (!error.code || /^(08|57|53)/.test(error.code))
      throw new Problem(503, 'the database is unavailable; retry later');
    throw error;
  }
}

// -- the server

const app = Fastify({ logger: false, bodyLimit: MAX_BODY_BYTES, return503OnClosing: true });

// JSON bodies parsed here so that every error is a problem naming the fault.
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'string' }, (request, text, done) => {
  const type = (request.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
  if (type && type !== 'application/json' && !type.endsWith('+json'))
    return done(new Problem(415, 'the body must be application/json'));
  if (!text) return done(new Problem(400, 'the body is empty'));
  try {
    done(null, JSON.parse(text));
  } catch (error) {
    done(new Problem(400, `malformed JSON: ${error.message}`));
  }
});

app.setErrorHandler((error, request, reply) => {
  if (error instanceof Problem) return sendProblem(reply, error);
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return sendProblem(reply, new Problem(413, `the body is larger than ${MAX_BODY_BYTES} bytes`));
  if (error.statusCode && error.statusCode < 500) return sendProblem(reply, new Problem(error.statusCode, error.message));
  request.log.error(error);
  return sendProblem(reply, new Problem(500, 'internal error'));
});

app.setNotFoundHandler((request, reply) =>
  sendProblem(reply, new Problem(404, `no resource at ${request.url.split('?')[0]}`)));

function validId(id) {
  if (!UUID.test(id)) throw new Problem(400, 'not a valid id', [{ field: 'id', message: 'must be a UUID' }]);
}

app.post('/api/v1/videos/:id/comments', async (request, reply) => {
  await authenticate(request);
  validId(request.params.id);
  const body = request.body;
  if (body === undefined) throw new Problem(400, 'the body is empty');
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new Problem(400, 'the body must be a JSON object');
  const errors = [];
  const text = (name, min, max) => {
    const value = body[name];
    if (value === undefined) return errors.push({ field: name, message: 'is required' }), null;
    if (typeof value !== 'string') return errors.push({ field: name, message: 'must be a string' }), null;
    const n = length(value);
    if (n < min || n > max)
      return errors.push({ field: name, message: `must be ${min} to ${max} characters long` }), null;
    return value;
  };
  const author = text('author', 1, 64);
  const comment = text('body', 1, 2000);
  let mediaTime = body.media_time_ms ?? null;
  if (mediaTime !== null) {
    if (!Number.isSafeInteger(mediaTime)) {
      errors.push({ field: 'media_time_ms', message: 'must be an integer or null' });
      mediaTime = null;
    } else if (mediaTime < 0) {
      errors.push({ field: 'media_time_ms', message: 'must be at least 0' });
      mediaTime = null;
    }
  }
  for (const name of Object.keys(body)) {
    if (!['author', 'body', 'media_time_ms'].includes(name))
      errors.push({ field: name, message: 'is not a known field' });
  }
  if (errors.length) throw new Problem(422, 'the body has invalid fields', errors);

  const result = await query(insertComment, [request.params.id, author, comment, mediaTime]);
  const row = result.rows[0];
  reply.code(201).header('Location', `${base}/api/v1/videos/${row.video_id}/comments`);
  return commentJson(row);
});

app.get('/api/v1/videos/:id/comments', async (request, reply) => {
  await authenticate(request);
  validId(request.params.id);
  const params = request.query;
  const errors = [];
  for (const name of Object.keys(params)) {
    if (Array.isArray(params[name])) params[name] = params[name][params[name].length - 1];
    if (!['order', 'limit', 'after'].includes(name)) errors.push({ field: name, message: 'is not a known parameter' });
  }
  let order = 'newest';
  if (params.order !== undefined) {
    if (params.order === 'newest' || params.order === 'media_time') order = params.order;
    else errors.push({ field: 'order', message: 'must be one of newest, media_time' });
  }
  let limit = 50;
  if (params.limit !== undefined) {
    const n = /^[+-]?\d+$/.test(params.limit) ? Number(params.limit) : NaN;
    if (Number.isInteger(n) && n >= 1 && n <= 200) limit = n;
    else errors.push({ field: 'limit', message: 'must be an integer from 1 to 200' });
  }
  const kind = order === 'newest' ? 't' : 'm';
  let after = null;
  if (params.after !== undefined) {
    after = decodeCursor(params.after, kind);
    if (!after) errors.push({ field: 'after', message: 'is not a cursor of this list' });
  }
  if (errors.length) throw new Problem(400, 'invalid query parameters', errors);

  const statement = order === 'newest' ? listNewest : listMediaTime;
  const result = await query(statement, [request.params.id, after && after.key, after && after.id, limit + 1]);
  if (result.rows.length === 0) throw new Problem(404, 'video not found');
  const rows = result.rows[0].id === null ? [] : result.rows.slice(0, limit);
  const items = rows.map(commentJson);
  let nextCursor = null;
  let next = null;
  if (result.rows.length > limit) {
    const last = rows[rows.length - 1];
    nextCursor = encodeCursor(kind, kind === 't' ? rfc3339(last.created_at) : String(last.media_time_ms), last.id);
    const search = new URLSearchParams();
    for (const name of Object.keys(params).sort()) if (name !== 'after') search.append(name, params[name]);
    search.append('after', nextCursor);
    next = `/api/v1/videos/${request.params.id}/comments?${search}`;
  }
  return { items, next_cursor: nextCursor, next };
});

const base = `http://127.0.0.1:${port}`;
await app.listen({ host: '127.0.0.1', port: Number(port) });
console.log(`listening on ${port}`);

async function close() {
  await app.close();
  await pool.end();
  process.exit(0);
}
process.on('SIGTERM', close);
process.on('SIGINT', close);

#!/usr/bin/env node
// Parses an abrsink output directory with the parsers video.js players use, and
// prints the result as JSON for tests written in other languages:
//
//   {"master": <m3u8-parser manifest of DIR/master.m3u8>,
//    "media": {"<uri as written in master>": <m3u8-parser manifest>, ...},
//    "mpd": <mpd-parser parse() of DIR/manifest.mpd>}
//
// "media" holds every variant stream and every rendition (audio, ...) that the
// multivariant playlist references. Exits 1 with a message on stderr when a file
// is missing or does not parse. Parser warnings go to stderr.
//
// Usage: node tests/tools/parse_manifests.mjs DIR
// Packages come from $ONAIR_NODE_DIR/node_modules (default: tests/node).

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const MPD_URI = 'http://localhost/manifest.mpd';

function fail(message) {
  process.stderr.write(`parse_manifests: ${message}\n`);
  process.exit(1);
}

const here = path.dirname(fileURLToPath(import.meta.url));
const nodeDir = path.resolve(process.env.ONAIR_NODE_DIR || path.join(here, '..', 'node'));
const require = createRequire(path.join(nodeDir, 'package.json'));

function load(name) {
  try {
    return require(name);
  } catch (error) {
    fail(`cannot load ${name} from ${nodeDir}/node_modules (run npm ci there): ${error.message}`);
  }
}

const { Parser: M3u8Parser } = load('m3u8-parser');
const { parse: parseMpd } = load('mpd-parser');

function readText(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    fail(`cannot read ${file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
  }
}

function parsePlaylist(file) {
  const text = readText(file);
  if (!text.startsWith('#EXTM3U')) fail(`${file} does not start with #EXTM3U`);
  const parser = new M3u8Parser();
  parser.on('warn', ({ message }) => process.stderr.write(`parse_manifests: ${file}: warning: ${message}\n`));
  try {
    parser.push(text);
    parser.end();
  } catch (error) {
    fail(`${file} does not parse: ${error.message}`);
  }
  return parser.manifest;
}

// URIs of the media playlists a multivariant playlist points to, in order, once each.
function mediaUris(master) {
  const uris = [];
  for (const playlist of master.playlists || []) uris.push(playlist.uri);
  for (const groups of Object.values(master.mediaGroups || {})) {
    for (const group of Object.values(groups)) {
      for (const rendition of Object.values(group)) {
        if (rendition.uri) uris.push(rendition.uri);
      }
    }
  }
  return [...new Set(uris.filter(Boolean))];
}

function resolveLocal(dir, uri) {
  if (/^[a-z][a-z0-9+.-]*:/i.test(uri) || uri.startsWith('/')) {
    fail(`master.m3u8 references ${uri}: expected a path relative to the playlist`);
  }
  return path.join(dir, decodeURIComponent(uri.split(/[?#]/)[0]));
}

// Typed arrays (e.g. PSSH boxes) and BigInts do not survive JSON.stringify as is.
function jsonValue(key, value) {
  if (typeof value === 'bigint') return Number(value);
  if (ArrayBuffer.isView(value)) return Array.from(value);
  if (value instanceof ArrayBuffer) return Array.from(new Uint8Array(value));
  return value;
}

function main() {
  if (process.argv.length !== 3) fail('usage: parse_manifests.mjs DIR');
  const dir = path.resolve(process.argv[2]);
  if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) fail(`${dir} is not a directory`);

  const masterFile = path.join(dir, 'master.m3u8');
  const master = parsePlaylist(masterFile);
  const uris = mediaUris(master);
  if (uris.length === 0) fail(`${masterFile} references no media playlist`);

  const media = {};
  for (const uri of uris) media[uri] = parsePlaylist(resolveLocal(dir, uri));

  const mpdFile = path.join(dir, 'manifest.mpd');
  const mpdText = readText(mpdFile);
  let mpd;
  try {
    mpd = parseMpd(mpdText, { manifestUri: MPD_URI });
  } catch (error) {
    fail(`${mpdFile} does not parse: ${error.message}`);
  }

  process.stdout.write(JSON.stringify({ master, media, mpd }, jsonValue, 2) + '\n');
}

main();

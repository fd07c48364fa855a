// onair — POST /api/v1/channels/{id}/reactions at a fixed rate (open loop:
// requests are sent on schedule whatever the answers, and each latency counts
// from its scheduled time, so a stalled server is not hidden by fewer
// requests). Prints one JSON line: sent, answers by status, achieved rate,
// latency percentiles in ms.
// Usage: node reactions_load.mjs BASE CHANNEL_ID RATE SECONDS TOKENS_JSON_FILE
// SPDX-License-Identifier: LGPL-2.1-or-later
import fs from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';

const [base, cid, rateText, secondsText, tokensFile] = process.argv.slice(2);
const rate = Number(rateText);
const seconds = Number(secondsText);
const tokens = JSON.parse(fs.readFileSync(tokensFile, 'utf8'));
const kinds = ['👍', '❤️', '😂', '😮', '😢', '👏', '🔥'];
const url = `${base}/api/v1/channels/${cid}/reactions`;
const total = Math.round(rate * seconds);
const latencies = [];
const statuses = {};
const inflight = [];
let sent = 0;
const start = performance.now();

// node:http with a keep-alive pool: several times lighter on the CPU than
// fetch(), which matters on a 2-core machine shared with the daemon.
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const target = new URL(url);

function send(i) {
  const scheduled = start + (i * 1000) / rate;
  const body = JSON.stringify({ kind: kinds[i % kinds.length] });
  return new Promise((resolve) => {
    const req = http.request({
      agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST',
      headers: {
        authorization: `Bearer ${tokens[i % tokens.length]}`, 'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      },
    }, (response) => {
      response.resume();
      response.on('end', () => {
        statuses[response.statusCode] = (statuses[response.statusCode] || 0) + 1;
        latencies.push(performance.now() - scheduled);
        resolve();
      });
    });
    req.on('error', () => {
      statuses.error = (statuses.error || 0) + 1;
      resolve();
    });
    req.end(body);
  });
}

await new Promise((resolve) => {
  const tick = () => {
    const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
    while (sent < due) inflight.push(send(sent++));
    if (sent >= total) resolve();
    else setTimeout(tick, 1);
  };
  tick();
});
const sendingSeconds = (performance.now() - start) / 1000;
await Promise.all(inflight);
agent.destroy();
latencies.sort((a, b) => a - b);
const at = (q) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] : null);
console.log(JSON.stringify({
  sent, statuses, rate: sent / sendingSeconds, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: latencies.at(-1) ?? null,
}));

// Browser test: a live stream whose publisher changes its resolution
// mid-stream plays on across the change in hls.js.
//
// An FLV with a new sequence header halfway (5 s at 320x180, then 5 s at
// 640x360, one-second GOPs, AAC) goes through flvdemux into abrsink
// mode=live, as from an RTMP publisher. Its video playlist then names a
// second initialization segment after a discontinuity. hls.js (headless
// Chromium) must play past the change, with the video element reporting the
// new size, without a fatal error or a missing file.
//
// Run by meson (suite "browser"); by hand:
//   GST_PLUGIN_PATH=build/plugins node tests/browser/new_coding.mjs
// Environment and exit codes: as playback.mjs.

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

const PLAY_TIMEOUT_MS = 60_000;
const PRODUCE_TIMEOUT_MS = 120_000;
const PAST_CHANGE_SECONDS = 7; // the new coding starts at 5 s

async function gstLaunch(args) {
  log(`gst-launch-1.0 ${args.join(' ')}`);
  const result = await run('gst-launch-1.0', args, { timeoutMs: PRODUCE_TIMEOUT_MS, env: process.env });
  if (result.code !== 0) {
    throw new Error(`gst-launch-1.0 failed (exit ${result.code ?? result.signal}):\n${result.output}`);
  }
}

async function produce(dir) {
  const flv = path.join(dir, 'change.flv');
  const video = (size, pattern) => [
    'videotestsrc', 'num-buffers=150', `pattern=${pattern}`,
    '!', `video/x-raw,width=${size[0]},height=${size[1]},framerate=30/1`,
    '!', 'x264enc', 'key-int-max=30', 'bframes=0', 'speed-preset=ultrafast', '!', 'c.',
  ];
  await gstLaunch([
    '-q', 'concat', 'name=c', '!', 'h264parse', '!', 'video/x-h264,stream-format=avc',
    '!', 'flvmux', 'name=m', 'streamable=true', '!', 'filesink', `location=${flv}`,
    ...video([320, 180], 'smpte'), ...video([640, 360], 'ball'),
    'audiotestsrc', 'num-buffers=470', 'samplesperbuffer=1024', '!', 'audio/x-raw,rate=48000,channels=2',
    '!', 'avenc_aac', '!', 'aacparse', '!', 'm.',
  ]);
  const out = path.join(dir, 'out');
  await gstLaunch([
    '-q', 'filesrc', `location=${flv}`, '!', 'flvdemux', 'name=d',
    'd.video', '!', 'abrsink', 'name=s', 'mode=live', 'dash=false', 'segment-duration=1',
    'playlist-length=0', `location=${out}`, 'd.audio', '!', 's.',
  ]);
  const playlist = fs.readFileSync(path.join(out, 'video_0', 'index.m3u8'), 'utf8');
  if (!playlist.includes('#EXT-X-MAP:URI="init_1.mp4"')) {
    throw new Error(`the video playlist names no second initialization segment:\n${playlist}`);
  }
  return out;
}

const HLS_PAGE = playerPage('hls.js', '/lib/hls.js', `
  report.version = Hls.version;
  report.sizes = [];
  if (!Hls.isSupported()) throw new Error('Hls.isSupported() is false (no MediaSource?)');
  const hls = new Hls({ enableWorker: true });
  hls.on(Hls.Events.MANIFEST_PARSED, () => startPlaying());
  hls.on(Hls.Events.ERROR, (event, data) => (data.fatal ? report.errors : report.warnings).push(hlsErrorText(data)));
  video.addEventListener('resize', () => report.sizes.push(
    video.videoWidth + 'x' + video.videoHeight + ' at ' + video.currentTime.toFixed(2) + ' s'));
  hls.loadSource('/media/master.m3u8');
  hls.attachMedia(video);
`);

async function main() {
  const requirements = findRequirements(['hls.js']);
  const dir = scratchDir('onair-new-coding-');
  const out = await produce(dir);
  log(`output:\n  ${listOutput(out).join('\n  ')}`);
  const server = await startServer(out, {
    pages: { '/hls.html': HLS_PAGE },
    files: { '/lib/hls.js': requirements.players['hls.js'] },
  });
  const browser = await launchChromium(requirements.playwright);
  const page = await browser.newPage();
  const failures = [];
  page.on('pageerror', (error) => failures.push(`page error: ${error.message}`));
  let state = { time: 0, width: 0, height: 0, report: { errors: [], warnings: [], sizes: [] } };
  const started = Date.now();
  try {
    await page.goto(server.base + '/hls.html', { waitUntil: 'load', timeout: 30_000 });
    while (Date.now() - started < PLAY_TIMEOUT_MS) {
      state = await page.evaluate(() => {
        const video = document.getElementById('video');
        return { time: video.currentTime, width: video.videoWidth, height: video.videoHeight, report: window.report };
      });
      if (state.time >= PAST_CHANGE_SECONDS || state.report.errors.length > 0 || failures.length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } catch (error) {
    failures.push(`driving the page failed: ${firstLine(error)}`);
  }
  const { report } = state;
  log(`  hls.js ${report.version || ''}: reached ${state.time.toFixed(2)} s, video ${state.width}x${state.height}`);
  log(`  sizes: ${(report.sizes || []).join(', ') || 'none reported'}`);
  log(`  requests: ${summarizeRequests(server.requests) || 'none'}`);
  for (const warning of report.warnings) log(`  non-fatal: ${warning}`);
  for (const error of report.errors) failures.push(`hls.js error: ${error}`);
  failures.push(...missingFiles(server.requests));
  if (!server.requests.some((r) => r.path.endsWith('/video_0/init_1.mp4') && r.status === 200)) {
    failures.push('the player never fetched video_0/init_1.mp4, the new coding\'s initialization segment');
  }
  if (state.time < PAST_CHANGE_SECONDS && failures.length === 0) {
    failures.push(`playback reached only ${state.time.toFixed(2)} s, not past the change at 5 s`);
  }
  if (state.time >= PAST_CHANGE_SECONDS && (state.width !== 640 || state.height !== 360)) {
    failures.push(`past the change the video is ${state.width}x${state.height}, not 640x360`);
  }
  if (!(report.sizes || []).some((size) => size.startsWith('320x180'))) {
    failures.push('the video never showed the first coding (320x180)');
  }
  for (const failure of failures) log(`  FAIL: ${failure}`);
  return failures;
}

await runTest(main, { overallMs: 300_000, passMessage: 'hls.js played across the change of coding' });

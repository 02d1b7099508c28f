// Worker-message benchmark (prints figures; not a test): builds examples/message_cost.rs for
// wasm32 and runs it in headless Chromium, timing a training epoch's progress stream (938
// messages) and a 0.86 MB weights transfer, each encoded, structured-cloned (what postMessage
// does) and decoded: through the page's protocol (serde-wasm-bindgen objects, weights as a
// Uint8Array) against the alternative, JSON strings (weights as base64). Run:
//   node scripts/bench-messages.mjs
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as h from '../tests/browser/harness.mjs';

const target = process.env.CARGO_TARGET_DIR || path.join(h.REPO_ROOT, 'target');
execFileSync('cargo', ['build', '--offline', '--target', 'wasm32-unknown-unknown', '--profile', 'web', '--example', 'message_cost'], { stdio: 'inherit', cwd: h.REPO_ROOT });
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'advlab-messages-'));
execFileSync('wasm-bindgen', ['--target', 'web', '--out-dir', out, '--out-name', 'message_cost', path.join(target, 'wasm32-unknown-unknown', 'web', 'examples', 'message_cost.wasm')], { stdio: 'inherit' });
fs.writeFileSync(path.join(out, 'index.html'), `<!doctype html><script type="module">import init, { run } from './message_cost.js'; await init(); window.result = run();</script>`);
const server = await h.startStaticServer(out);
const browser = await h.launchBrowser({ webgpu: false });
try {
  const page = await browser.context.newPage();
  await page.goto(server.url);
  const r = JSON.parse(await (await page.waitForFunction(() => window.result, null, { timeout: 300_000 })).jsonValue());
  const ms = (x) => `${x.toFixed(1)} ms`;
  console.log(`progress stream of one 60,000-image epoch (${r.stream_messages} messages, encode + structured clone + decode):`);
  console.log(`  JSON strings ${ms(r.stream_ms.json)}, serde-wasm-bindgen objects ${ms(r.stream_ms.objects)} (${(r.stream_ms.json / r.stream_ms.objects).toFixed(2)}×)`);
  console.log(`weights transfer (${(r.weights_bytes / 1e6).toFixed(2)} MB safetensors):`);
  console.log(`  JSON with base64 ${ms(r.weights_ms.json)}, objects with a Uint8Array ${ms(r.weights_ms.objects)} (${(r.weights_ms.json / r.weights_ms.objects).toFixed(2)}×)`);
  console.log(`NaN in a message survives: JSON ${r.nan_survives.json}, objects ${r.nan_survives.objects}`);
} finally {
  await browser.close();
  await server.close();
  fs.rmSync(out, { recursive: true, force: true });
}

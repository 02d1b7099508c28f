// Browser-test harness for the advlab page: a tiny static server for the built site, Debian's
// headless Chromium driven by playwright-core (never a downloaded browser), and helpers for the
// page's data-testid hooks.
//
// Environment:
//   ADVLAB_SITE_DIR          directory to serve (default: <repo>/dist, made by scripts/build-site.sh)
//   ADVLAB_CHROMIUM          Chromium binary (default: /usr/bin/chromium)
//   ADVLAB_READY_TIMEOUT_MS  how long to wait for the page's `ready` hook (default: 120000)
//   ADVLAB_BROWSER_VARIANTS  comma-separated subset of "webgpu,cpu" to run (default: both)
//   ADVLAB_BROWSER_DEBUG=1   print every console message and request as it happens
//   ADVLAB_BROWSER_ARTIFACTS where to save a screenshot when a test fails (default: the temp dir)

import assert from 'node:assert/strict';
import http from 'node:http';
import { before, after } from 'node:test';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SITE_DIR = path.resolve(process.env.ADVLAB_SITE_DIR || path.join(REPO_ROOT, 'dist'));
export const CHROMIUM = process.env.ADVLAB_CHROMIUM || '/usr/bin/chromium';
export const DEBUG = process.env.ADVLAB_BROWSER_DEBUG === '1';

/** Integer from the environment, or the default. */
export function envInt(name, dflt) {
  const v = Number.parseInt(process.env[name] ?? '', 10);
  return Number.isFinite(v) && v > 0 ? v : dflt;
}

export const READY_TIMEOUT_MS = envInt('ADVLAB_READY_TIMEOUT_MS', 120_000);

/** Which browser variants to run ("webgpu", "cpu"). */
export function variants() {
  const want = (process.env.ADVLAB_BROWSER_VARIANTS || 'webgpu,cpu')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return [
    { id: 'webgpu', name: 'with WebGPU (--enable-unsafe-webgpu, SwiftShader)', webgpu: true, backend: 'webgpu' },
    { id: 'cpu', name: 'without WebGPU (CPU fallback)', webgpu: false, backend: 'cpu' },
  ].filter((v) => want.includes(v.id));
}

// Chromium's flags for the tests: no network chatter of its own (the tests must not depend on
// the network), no first-run UI. The user-data-dir is a new temporary directory
// per launch (playwright-core wants it as launchPersistentContext's argument, not as a flag).
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const WEBGPU_ARGS = ['--enable-unsafe-webgpu'];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function loadPlaywright() {
  try {
    return await import('playwright-core');
  } catch (e) {
    throw new Error(
      `playwright-core is not installed (${e.message}); run: scripts/setup.sh node-deps`,
    );
  }
}

// ------------------------------------------------------------------------------------------
// Static server

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.webmanifest': 'application/manifest+json',
  '.safetensors': 'application/octet-stream',
  '.bin': 'application/octet-stream',
  '.gz': 'application/gzip',
};

/**
 * Serves `root` on 127.0.0.1 at a free port. Returns { url, origin, port, log, close() }.
 * `log` lists { method, path, status } of every request served.
 */
export async function startStaticServer(root = SITE_DIR) {
  const rootAbs = path.resolve(root);
  const log = [];
  const server = http.createServer(async (req, res) => {
    let status = 200;
    try {
      const u = new URL(req.url, 'http://127.0.0.1');
      let rel;
      try {
        rel = decodeURIComponent(u.pathname);
      } catch {
        status = 400;
        res.writeHead(status).end('bad path');
        return;
      }
      let file = path.resolve(rootAbs, '.' + path.posix.normalize('/' + rel));
      if (file !== rootAbs && !file.startsWith(rootAbs + path.sep)) {
        status = 403;
        res.writeHead(status).end('forbidden');
        return;
      }
      let st = await fsp.stat(file).catch(() => null);
      if (st?.isDirectory()) {
        file = path.join(file, 'index.html');
        st = await fsp.stat(file).catch(() => null);
      }
      if (!st?.isFile()) {
        status = 404;
        res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found');
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        status = 405;
        res.writeHead(status, { Allow: 'GET, HEAD' }).end();
        return;
      }
      res.writeHead(status, {
        'Content-Type': MIME[path.extname(file).toLowerCase()] || 'application/octet-stream',
        'Content-Length': st.size,
        'Cache-Control': 'no-store',
        'X-Content-Type-Options': 'nosniff',
      });
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      fs.createReadStream(file)
        .on('error', () => res.destroy())
        .pipe(res);
    } catch (e) {
      status = 500;
      if (!res.headersSent) res.writeHead(status);
      res.end(String(e));
    } finally {
      log.push({ method: req.method, path: req.url, status });
      if (DEBUG) console.error(`[server] ${req.method} ${req.url} -> ${status}`);
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  const origin = `http://127.0.0.1:${port}`;
  return {
    port,
    origin,
    url: `${origin}/`,
    log,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

// ------------------------------------------------------------------------------------------
// Browser

/**
 * Launches headless Chromium with a fresh user-data-dir; with `webgpu`, adds
 * --enable-unsafe-webgpu (WebGPU through SwiftShader, on the CPU). Without it Chromium has
 * navigator.gpu but no adapter: the page's CPU-fallback case.
 */
export async function launchBrowser({ webgpu }) {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found; run: scripts/setup.sh chromium (or set ADVLAB_CHROMIUM)`);
  }
  const { chromium } = await loadPlaywright();
  const userDataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'advlab-chromium-'));
  // ADVLAB_CHROMIUM_EXTRA_ARGS: more flags, space-separated (scripts/gpu-check.sh: a real GPU).
  const extra = (process.env.ADVLAB_CHROMIUM_EXTRA_ARGS || '').split(' ').filter(Boolean);
  const args = [...CHROMIUM_ARGS, ...(webgpu ? WEBGPU_ARGS : []), ...extra];
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args,
      viewport: { width: 1280, height: 900 },
      timeout: 60_000,
    });
  } catch (e) {
    await fsp.rm(userDataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    throw e;
  }
  return {
    context,
    args,
    userDataDir,
    async close() {
      await context.close().catch(() => {});
      await fsp.rm(userDataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }).catch(() => {});
    },
  };
}

/** Throws a clear error unless the site directory holds an index.html. */
export function assertSiteBuilt(dir = SITE_DIR) {
  if (!fs.existsSync(path.join(dir, 'index.html'))) {
    throw new Error(
      `${dir}/index.html not found: build the site first (scripts/build-site.sh) or point ADVLAB_SITE_DIR at a built site`,
    );
  }
}

/** True for URLs that stay on the local test server (or never hit the network at all). */
export function isLocalUrl(url, origin) {
  let u;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (['data:', 'blob:', 'about:'].includes(u.protocol)) return true;
  if (['http:', 'https:', 'ws:', 'wss:'].includes(u.protocol)) {
    return u.host === new URL(origin).host;
  }
  return false;
}

/**
 * Serves the site, launches Chromium (with or without WebGPU) and opens the page.
 * Returns a session: { page, context, server, url, consoleErrors, pageErrors, requests,
 * failedRequests, foreignRequests(), diagnostics(), ready(), check(fn), close() }.
 */
export async function openPage({ webgpu, query = '', siteDir = SITE_DIR, gotoTimeout = 60_000, countGpuWork = false, backend = webgpu ? 'webgpu' : undefined } = {}) {
  // The WebGPU variant tests WebGPU itself: it asks for it (the page remembers the choice across
  // reloads and links), where the page's own default, Auto, would pick the CPU on SwiftShader.
  if (backend) query = `${query}${query.includes('?') ? '&' : '?'}backend=${backend}`;
  assertSiteBuilt(siteDir);
  const server = await startStaticServer(siteDir);
  let browser;
  try {
    browser = await launchBrowser({ webgpu });
  } catch (e) {
    await server.close();
    throw e;
  }
  const { context } = browser;
  const s = {
    webgpu,
    server,
    browser,
    context,
    url: server.url + query,
    startedAt: Date.now(),
    console: [], // every console message: "type: text"
    consoleErrors: [],
    pageErrors: [],
    requests: [], // every URL the page (or its workers) asked for
    failedRequests: [],
    crashed: false,
  };
  context.on('request', (r) => {
    s.requests.push(r.url());
    if (DEBUG) console.error(`[request] ${r.method()} ${r.url()}`);
  });
  context.on('requestfailed', (r) => {
    s.failedRequests.push(`${r.url()}: ${r.failure()?.errorText ?? 'failed'}`);
  });
  // Every Content-Security-Policy violation of the page becomes a console error (s.check fails on it).
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) =>
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile}:${e.lineNumber}`),
    );
  });
  if (countGpuWork) await context.addInitScript(gpuCounterInit, gpuCounterShim.toString());
  const page = context.pages()[0] ?? (await context.newPage());
  s.page = page;
  page.on('console', (m) => {
    const line = `${m.type()}: ${m.text()}`;
    s.console.push(line);
    if (m.type() === 'error') s.consoleErrors.push(m.text());
    if (DEBUG) console.error(`[console] ${line}`);
  });
  page.on('pageerror', (e) => {
    s.pageErrors.push(e.stack || e.message || String(e));
    if (DEBUG) console.error(`[pageerror] ${e.message}`);
  });
  page.on('websocket', (ws) => s.requests.push(ws.url()));
  page.on('crash', () => {
    s.crashed = true;
  });

  s.foreignRequests = () => s.requests.filter((u) => !isLocalUrl(u, server.origin));

  s.diagnostics = () => {
    const lines = [
      `--- browser diagnostics (${webgpu ? 'WebGPU flag on' : 'no WebGPU flag'}, ${s.url}, ${(
        (Date.now() - s.startedAt) /
        1000
      ).toFixed(1)} s after start)`,
      `chromium args: ${browser.args.join(' ')}`,
    ];
    if (s.crashed) lines.push('THE PAGE CRASHED');
    const section = (title, items, max = 40) => {
      lines.push(`${title} (${items.length}):`);
      for (const it of items.slice(-max)) lines.push(`  ${it}`);
    };
    section('uncaught exceptions', s.pageErrors);
    section('console errors', s.consoleErrors);
    section('console (last 40 messages)', s.console);
    section('failed requests', s.failedRequests);
    section('requests to other hosts', s.foreignRequests());
    section(
      'served',
      server.log.map((r) => `${r.status} ${r.method} ${r.path}`),
    );
    lines.push('--- end of diagnostics');
    return lines.join('\n');
  };

  // Runs fn; on failure prints the diagnostics (console errors etc.) and rethrows.
  // (The full report is printed once per session; later failures refer back to it.)
  let reported = false;
  s.cspViolations = () => s.console.filter((line) => /Content Security Policy|CSP violation/i.test(line));
  s.check = async (fn) => {
    try {
      const result = await fn();
      // The page's Content-Security-Policy (scripts/csp.mjs) must never block anything it does.
      assert.deepEqual(s.cspViolations(), [], 'Content-Security-Policy violations');
      return result;
    } catch (e) {
      if (!reported) {
        console.error(s.diagnostics());
        const shot = path.join(
          process.env.ADVLAB_BROWSER_ARTIFACTS || os.tmpdir(),
          `advlab-${webgpu ? 'webgpu' : 'cpu'}-${Date.now()}.png`,
        );
        await fsp.mkdir(path.dirname(shot), { recursive: true }).catch(() => {});
        await withTimeout(s.page.screenshot({ path: shot, fullPage: true }), 15_000, 'screenshot').then(
          () => console.error(`screenshot of the page: ${shot}`),
          (err) => console.error(`(no screenshot: ${err.message})`),
        );
      }
      else console.error(`(browser diagnostics of this session: see above) ${e.message.split('\n')[0]}`);
      reported = true;
      throw e;
    }
  };

  let readyPromise;
  s.ready = (timeout = READY_TIMEOUT_MS) => {
    readyPromise ??= waitForReady(s, timeout);
    return readyPromise;
  };

  s.close = async () => {
    await browser.close();
    await server.close();
  };

  try {
    await page.goto(s.url, { waitUntil: 'domcontentloaded', timeout: gotoTimeout });
  } catch (e) {
    console.error(s.diagnostics());
    await s.close();
    throw e;
  }
  return s;
}

// ------------------------------------------------------------------------------------------
// Counting GPU work (benchmarks): independent of the hardware, unlike time on SwiftShader.

/**
 * Runs in the page before its own scripts (openPage's `countGpuWork`): the page starts its workers
 * from a `blob:` loader script, so a wrapped `Blob` puts {@link gpuCounterShim} in front of every
 * loader (the CSP lets blob: workers run; the shim is part of the worker's own script).
 */
function gpuCounterInit(shimSource) {
  const shim = `(${shimSource})();\n`;
  const Original = window.Blob;
  window.Blob = class extends Original {
    constructor(parts, options) {
      if (Array.isArray(parts) && parts.some((p) => typeof p === 'string' && p.includes('self.advlabWorker'))) parts = [shim, ...parts];
      super(parts, options);
    }
  };
}

/**
 * Runs first in each worker: counts the WebGPU calls that cost GPU work or a round trip
 * (compute dispatches, queue submissions, buffer readbacks via mapAsync, uploads, buffers and
 * pipelines created) in `self.advlabGpu.counts`, and snapshots the counts whenever the worker
 * answers an attack (`attacks`: one per `Attacked`) or reports training progress (`training`:
 * the batches done so far, at each `TrainProgress`).
 */
function gpuCounterShim() {
  const counts = { dispatches: 0, submits: 0, readbacks: 0, uploads: 0, buffers: 0, pipelines: 0 };
  const gpu = (self.advlabGpu = { counts, attacks: [], training: [] });
  const wrap = (cls, method, key) => {
    const proto = self[cls]?.prototype;
    const original = proto?.[method];
    if (typeof original !== 'function') return;
    proto[method] = function (...args) {
      counts[key] += 1;
      return original.apply(this, args);
    };
  };
  wrap('GPUComputePassEncoder', 'dispatchWorkgroups', 'dispatches');
  wrap('GPUComputePassEncoder', 'dispatchWorkgroupsIndirect', 'dispatches');
  wrap('GPUQueue', 'submit', 'submits');
  wrap('GPUQueue', 'writeBuffer', 'uploads');
  wrap('GPUBuffer', 'mapAsync', 'readbacks');
  wrap('GPUDevice', 'createBuffer', 'buffers');
  wrap('GPUDevice', 'createComputePipeline', 'pipelines');
  wrap('GPUDevice', 'createComputePipelineAsync', 'pipelines');
  const post = self.postMessage.bind(self);
  self.postMessage = (message, transfer) => {
    if (message && typeof message === 'object') {
      if ('Attacked' in message) gpu.attacks.push({ ...counts });
      const progress = message.TrainProgress;
      const last = progress?.batches?.[progress.batches.length - 1];
      if (last) gpu.training.push({ epoch: last.epoch, done: (last.epoch - 1) * last.batches + last.batch, counts: { ...counts } });
    }
    return transfer === undefined ? post(message) : post(message, transfer);
  };
}

/** Destroys every WebGPU device the engine worker holds (its loader keeps them in
 * `self.advlabGpuDevices`), as a driver reset would lose them; returns how many. */
export async function destroyGpuDevices(page) {
  for (const worker of page.workers()) {
    const n = await worker.evaluate(() => {
      if (self.advlabWorker !== 'worker') return null;
      const devices = self.advlabGpuDevices || [];
      devices.forEach((d) => d.destroy());
      return devices.length;
    }).catch(() => null);
    if (n !== null) return n;
  }
  return 0;
}

/** The engine worker's GPU work counts so far (openPage's `countGpuWork`), or null before it started. */
export async function gpuWork(page) {
  for (const worker of page.workers()) {
    const work = await worker.evaluate(() => (self.advlabWorker === 'worker' && self.advlabGpu ? self.advlabGpu : null)).catch(() => null);
    if (work) return work;
  }
  return null;
}

// ------------------------------------------------------------------------------------------
// Page hooks

export const byTestId = (id) => `[data-testid="${id}"]`;

/** Waits until an element with data-testid=id is in the DOM; returns its locator. */
export async function waitForTestId(page, id, timeout = 30_000) {
  const loc = page.locator(byTestId(id)).first();
  await loc.waitFor({ state: 'attached', timeout });
  return loc;
}

/** Number of elements with data-testid=id. */
export const countTestId = (page, id) => page.locator(byTestId(id)).count();

/** Trimmed text of the first element with data-testid=id, or null if there is none. */
export async function textOfTestId(page, id) {
  return page.evaluate((sel) => {
    const el = document.querySelector(sel);
    return el ? (el.textContent ?? '').trim() : null;
  }, byTestId(id));
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Waits for the `ready` hook. Fails early, with the message, when `error` shows up first, when
 * the page throws an uncaught exception (a Rust panic ends up there) or when the page crashes.
 * Resolves to the milliseconds it took from the start of the session.
 */
export async function waitForReady(s, timeout = READY_TIMEOUT_MS) {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (s.crashed) throw new Error('the page crashed before `ready` appeared');
    if (s.pageErrors.length) {
      throw new Error(`uncaught exception in the page before \`ready\`: ${s.pageErrors[0]}`);
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new Error(`\`ready\` did not appear within ${timeout / 1000} s`);
    }
    let state;
    try {
      state = await withTimeout(
        s.page.evaluate(
          ([readySel, errorSel]) => ({
            ready: !!document.querySelector(readySel),
            error: document.querySelector(errorSel)?.textContent?.trim() ?? null,
          }),
          [byTestId('ready'), byTestId('error')],
        ),
        Math.max(left, 1000),
        'page.evaluate (main thread busy?)',
      );
    } catch (e) {
      if (Date.now() >= deadline) {
        throw new Error(`\`ready\` did not appear within ${timeout / 1000} s (${e.message})`);
      }
      if (/context was destroyed|navigat/i.test(e.message)) {
        await sleep(250); // the page navigated (e.g. reloaded itself): ask again
        continue;
      }
      throw e;
    }
    if (state.error !== null) {
      throw new Error(`the page shows \`error\`: ${JSON.stringify(state.error)}`);
    }
    if (state.ready) return Date.now() - s.startedAt;
    await sleep(250);
  }
}

/** What navigator.gpu offers in this browser: "no navigator.gpu", "no adapter" or adapter info. */
export async function probeWebGpu(page) {
  return page.evaluate(async () => {
    if (!('gpu' in navigator) || !navigator.gpu) return 'no navigator.gpu';
    try {
      const a = await navigator.gpu.requestAdapter();
      if (!a) return 'no adapter';
      const i = a.info || {};
      return `adapter ${[i.vendor, i.architecture, i.description].filter(Boolean).join(' / ') || '(no info)'}`;
    } catch (e) {
      return `requestAdapter threw: ${e}`;
    }
  });
}

/**
 * Reads prob-0..prob-9 (data-value) and prediction (text, data-confidence) in one go.
 * Returns { probs: number[10] (NaN where missing), prediction: { text, confidence } | null }.
 */
export async function readPrediction(page) {
  return page.evaluate(() => {
    const q = (id) => document.querySelector(`[data-testid="${id}"]`);
    const probs = [];
    for (let k = 0; k < 10; k++) {
      const el = q(`prob-${k}`);
      const v = el?.getAttribute('data-value');
      probs.push(v == null || v === '' ? Number.NaN : Number(v));
    }
    const p = q('prediction');
    const prediction = p
      ? {
          text: (p.textContent ?? '').trim(),
          confidence: p.hasAttribute('data-confidence') ? Number(p.getAttribute('data-confidence')) : null,
        }
      : null;
    return { probs, prediction };
  });
}

/** Draws a "1" (a vertical stroke) on the draw-canvas hook with pointer/mouse events. */
export async function drawOne(page) {
  const canvas = await waitForTestId(page, 'draw-canvas', 10_000);
  await canvas.scrollIntoViewIfNeeded();
  const box = await canvas.boundingBox();
  if (!box) throw new Error('draw-canvas has no layout box (hidden?)');
  const x = box.x + box.width * 0.5;
  const y0 = box.y + box.height * 0.2;
  const y1 = box.y + box.height * 0.8;
  await page.mouse.move(x, y0);
  await page.mouse.down();
  for (let i = 1; i <= 16; i++) await page.mouse.move(x, y0 + ((y1 - y0) * i) / 16);
  await page.mouse.up();
}

export const argmax = (xs) => xs.reduce((best, v, i) => (v > xs[best] ? i : best), 0);
export { sleep };

/** Runs the native CLI (built by `cargo test --release` / `cargo build --release`) and parses its JSON. */
export function cli(args) {
  const target = process.env.CARGO_TARGET_DIR || path.join(os.homedir(), '.cache', 'advlab', 'target');
  const bin = path.join(target, 'release', 'advlab');
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run cargo build --release first`);
  return JSON.parse(execFileSync(bin, args, { cwd: REPO_ROOT, encoding: 'utf8' }));
}

/**
 * Inside a `describe`: opens the page for `variant` before its tests and closes it after them.
 * Returns the session (a stand-in that forwards to the one `openPage` gives once it exists).
 */
export function useSession(variant) {
  let session;
  before(async () => {
    session = await openPage({ webgpu: variant.webgpu });
  }, { timeout: 120_000 });
  after(async () => {
    await session?.close();
  });
  return new Proxy({}, { get: (_, key) => session?.[key] });
}

/** Sets the input with data-testid=id and fires `change`, as a user's edit does. */
export async function fill(page, id, value) {
  await page.fill(byTestId(id), value);
  await page.dispatchEvent(byTestId(id), 'change');
}

/**
 * Records the page's main-thread tasks from now on (a Chrome trace); the returned function ends
 * the recording and gives the tasks that kept the main thread busy for over `limitMs` of CPU time,
 * as `{ cpu, wall }` in ms. CPU time, not wall time (what the `longtask` API reports): on a loaded
 * machine a short task can wait for a core and last long on the wall clock, which says nothing
 * about the page.
 */
export async function watchLongTasks(page, limitMs = 50) {
  const cdp = await page.context().newCDPSession(page);
  const events = [];
  cdp.on('Tracing.dataCollected', (e) => events.push(...e.value));
  await cdp.send('Tracing.start', { categories: 'devtools.timeline,disabled-by-default-devtools.timeline,__metadata', transferMode: 'ReportEvents' });
  return async () => {
    const complete = new Promise((resolve) => cdp.once('Tracing.tracingComplete', resolve));
    await cdp.send('Tracing.end');
    await complete;
    await cdp.detach();
    const thread = (e) => `${e.pid}:${e.tid}`;
    const main = new Set(events.filter((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map(thread));
    return events
      .filter((e) => e.name === 'RunTask' && e.ph === 'X' && main.has(thread(e)))
      .map((e) => ({ cpu: Math.round((e.tdur ?? e.dur) / 1000), wall: Math.round(e.dur / 1000) }))
      .filter((t) => t.cpu > limitMs);
  };
}

/** Shows test image `index` and waits until it is the input and no attack result is left. */
export async function showTestImage(page, index, timeout = 60_000) {
  await page.fill(byTestId('sample-input'), String(index));
  await page.press(byTestId('sample-input'), 'Enter');
  await page.waitForFunction(
    (i) => document.querySelector('[data-testid="sample-input"]').value === String(i) && document.querySelector('[data-testid="sample-label"]') && !document.querySelector('[data-testid="adv-prediction"]'),
    index,
    { timeout },
  );
}

/** Picks the model (when given), the attack and ε in the attack lab, as a user would. */
export async function chooseAttack(page, { model, attack, eps }) {
  if (model) await page.selectOption(byTestId('model-select'), model);
  await page.selectOption(byTestId('attack-select'), attack);
  await page.fill(byTestId('eps-input'), String(eps));
}

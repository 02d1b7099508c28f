// TensorFlow.js benchmark (prints figures; NOT a test, and not part of the test suite): TF.js
// 4.22 in the same headless Chromium as our page benchmarks (tests/browser/harness.mjs, with the
// WebGPU flag, so WebGL and WebGPU run on SwiftShader, on the CPU), on our own weights
// (www/models/{mlp,cnn}-standard.safetensors, forward pass written with tf ops) and the MNIST test
// images, so docs/performance.md can put advlab's figures beside TF.js's, measured the same hour. For each TF.js
// backend (wasm, webgl, and webgpu when it starts):
//   - clean accuracy on the first 100 test images, checked against `advlab eval` (printed first);
//   - PGD-40 on one image (ε 0.3 L∞, step 0.01, random start, CE loss, tf.grad): median of 11
//     runs on test images 0..10 after 2 warm-ups, timed in the page up to `await adv.data()`;
//   - training examples/s at batch 128 with Adam 1e-3 (plain cross-entropy): MLP 20 batches,
//     CNN 5 batches, each after 3 warm-up batches, reading the loss back every batch.
// The wasm backend keeps its default thread count (the page is not cross-origin isolated, so it
// runs single-threaded SIMD). Run it on an otherwise idle machine, interleaved with
// `node scripts/bench-page.mjs --cpu-only` when comparing: the machine's speed drifts.
//
// Run: node scripts/bench-tfjs.mjs [--backends wasm,webgl,webgpu]
// On first use it installs TF.js (with its wasm and webgpu backends) into ~/.cache/advlab/tfjs
// with `npm install --no-save --prefix`; nothing in the repository's package.json changes.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import * as h from '../tests/browser/harness.mjs';

const TFJS_VERSION = '4.22.0';
const TFJS_DIR = path.join(os.homedir(), '.cache', 'advlab', 'tfjs');
// `--backends wasm,webgl` measures only those (default: all three).
const backendsArg = process.argv.indexOf('--backends');
const BACKENDS = backendsArg >= 0 ? process.argv[backendsArg + 1].split(',') : ['wasm', 'webgl', 'webgpu'];
const MODELS = ['mlp-standard', 'cnn-standard'];
const TEST_IMAGES = 100;
const BATCH = 128;
const TRAIN = { mlp: { warmup: 3, timed: 20 }, cnn: { warmup: 3, timed: 5 } };
const PGD = { warmup: 2, runs: 11 };

// ------------------------------------------------------------------------------------------
// Temporary directories (the site, Chromium's profile), removed on every way out.
const temporary = new Set();
function cleanUp() {
  for (const dir of temporary) fs.rmSync(dir, { recursive: true, force: true });
  temporary.clear();
}
process.on('exit', cleanUp);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    cleanUp();
    process.exit(128 + os.constants.signals[signal]);
  });
}

// ------------------------------------------------------------------------------------------
// Files: TF.js, the project's settings, MNIST, the site to serve

const TFJS_FILES = {
  'tf.min.js': '@tensorflow/tfjs/dist/tf.min.js',
  'tf-backend-wasm.min.js': '@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js',
  'tfjs-backend-wasm.wasm': '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm',
  'tfjs-backend-wasm-simd.wasm': '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm',
  'tfjs-backend-wasm-threaded-simd.wasm': '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm',
  'tf-backend-webgpu.min.js': '@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.min.js',
};

function ensureTfjs() {
  const modules = path.join(TFJS_DIR, 'node_modules');
  const version = () => JSON.parse(fs.readFileSync(path.join(modules, '@tensorflow/tfjs/package.json'), 'utf8')).version;
  const present = () => Object.values(TFJS_FILES).every((f) => fs.existsSync(path.join(modules, f)));
  if (!present() || version() !== TFJS_VERSION) {
    console.log(`installing TF.js ${TFJS_VERSION} into ${TFJS_DIR} (first use)`);
    const pkgs = ['tfjs', 'tfjs-backend-wasm', 'tfjs-backend-webgpu'].map((p) => `@tensorflow/${p}@${TFJS_VERSION}`);
    execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', TFJS_DIR, ...pkgs], { stdio: 'inherit' });
    if (!present()) throw new Error(`npm install did not give the TF.js files under ${modules}`);
  }
  return modules;
}

/** ADVLAB_DATA and CARGO_TARGET_DIR as scripts/lib.sh sets them. */
function projectSettings() {
  const out = execFileSync('bash', ['-c', 'source scripts/lib.sh && printf "%s\\n%s" "$ADVLAB_DATA" "$CARGO_TARGET_DIR"'], { cwd: h.REPO_ROOT, encoding: 'utf8' });
  const [data, target] = out.split('\n');
  return { data, target };
}

/** The bytes after the header of an MNIST IDX file (plain or .gz), checked against its magic. */
function readIdx(dir, name, magic, count) {
  const file = [path.join(dir, name), path.join(dir, `${name}.gz`)].find((f) => fs.existsSync(f));
  if (!file) throw new Error(`${path.join(dir, name)} not found: run scripts/setup.sh data (or set ADVLAB_DATA)`);
  let bytes = fs.readFileSync(file);
  if (file.endsWith('.gz')) bytes = zlib.gunzipSync(bytes);
  if (bytes.readUInt32BE(0) !== magic) throw new Error(`${file}: not an IDX file of magic ${magic}`);
  const header = magic === 2051 ? 16 : 8;
  const size = magic === 2051 ? 784 : 1;
  if (bytes.readUInt32BE(4) < count) throw new Error(`${file} holds fewer than ${count} items`);
  return bytes.subarray(header, header + count * size);
}

/** A temporary site: the page, TF.js, our weights, test and training images as raw bytes. */
function buildSite(modules, dataDir) {
  const site = fs.mkdtempSync(path.join(os.tmpdir(), 'advlab-tfjs-site-'));
  temporary.add(site);
  for (const [name, rel] of Object.entries(TFJS_FILES)) fs.symlinkSync(path.join(modules, rel), path.join(site, name));
  for (const m of MODELS) fs.symlinkSync(path.join(h.REPO_ROOT, 'www/models', `${m}.safetensors`), path.join(site, `${m}.safetensors`));
  const trainCount = BATCH * Math.max(...Object.values(TRAIN).map((t) => t.warmup + t.timed));
  fs.writeFileSync(path.join(site, 'test-images.u8'), readIdx(dataDir, 't10k-images-idx3-ubyte', 2051, TEST_IMAGES));
  fs.writeFileSync(path.join(site, 'test-labels.u8'), readIdx(dataDir, 't10k-labels-idx1-ubyte', 2049, TEST_IMAGES));
  fs.writeFileSync(path.join(site, 'train-images.u8'), readIdx(dataDir, 'train-images-idx3-ubyte', 2051, trainCount));
  fs.writeFileSync(path.join(site, 'train-labels.u8'), readIdx(dataDir, 'train-labels-idx1-ubyte', 2049, trainCount));
  fs.writeFileSync(path.join(site, 'lab.js'), `window.lab = (${pageLab.toString()})();\n`);
  const scripts = ['tf.min.js', 'tf-backend-wasm.min.js', 'tf-backend-webgpu.min.js', 'lab.js'];
  fs.writeFileSync(
    path.join(site, 'index.html'),
    `<!doctype html><meta charset="utf-8"><title>advlab TF.js bench</title>\n${scripts.map((s) => `<script src="${s}"></script>`).join('\n')}\n`,
  );
  return site;
}

// ------------------------------------------------------------------------------------------
// In the page (serialised into lab.js: it may use nothing from this module)

function pageLab() {
  /* global tf */
  const EPS = 0.3;
  const STEP = 0.01;
  let data;
  const params = {};

  async function bytes(url) {
    const r = await fetch(url);
    if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
    return new Uint8Array(await r.arrayBuffer());
  }

  /** Tensors of a safetensors file: { name: { shape, values: Float32Array } }. */
  function safetensors(buf) {
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const n = Number(view.getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + n)));
    const out = {};
    for (const [name, t] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      if (t.dtype !== 'F32') throw new Error(`${name}: dtype ${t.dtype}, expected F32`);
      const [from, to] = t.data_offsets.map((o) => 8 + n + o);
      const values = new Float32Array((to - from) / 4);
      for (let i = 0; i < values.length; i++) values[i] = view.getFloat32(from + 4 * i, true);
      out[name] = { shape: t.shape, values };
    }
    return out;
  }

  /** PyTorch layout → TF.js (NHWC): linear [out,in] → [in,out], conv [out,in,kh,kw] → [kh,kw,in,out]. */
  function toTf(kind, t) {
    const raw = (name) => tf.tensor(t[name].values, t[name].shape);
    const linear = (name) => tf.tidy(() => raw(name).transpose());
    const conv = (name) => tf.tidy(() => raw(name).transpose([2, 3, 1, 0]));
    if (kind === 'mlp') return { w1: linear('fc1.weight'), b1: raw('fc1.bias'), w2: linear('fc2.weight'), b2: raw('fc2.bias') };
    // fc1 reads the conv output flattened as (c, h, w) in PyTorch, as (h, w, c) in NHWC.
    const fc1 = tf.tidy(() => {
      const [hidden, flat] = t['fc1.weight'].shape;
      const c = t['conv2.weight'].shape[0];
      const side = Math.round(Math.sqrt(flat / c));
      return raw('fc1.weight').reshape([hidden, c, side, side]).transpose([2, 3, 1, 0]).reshape([flat, hidden]);
    });
    return {
      c1: conv('conv1.weight'), cb1: raw('conv1.bias'), c2: conv('conv2.weight'), cb2: raw('conv2.bias'),
      w1: fc1, b1: raw('fc1.bias'), w2: linear('fc2.weight'), b2: raw('fc2.bias'),
    };
  }

  /** Logits [N, 10] of images x [N, 784] in [0,1]. */
  function forward(p, x) {
    if (p.c1) {
      const block = (h, w, b) => tf.maxPool(tf.relu(tf.add(tf.conv2d(h, w, 1, 'same'), b)), 2, 2, 'valid');
      const h = block(block(tf.reshape(x, [-1, 28, 28, 1]), p.c1, p.cb1), p.c2, p.cb2);
      x = tf.reshape(h, [h.shape[0], -1]);
    }
    return tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x, p.w1), p.b1)), p.w2), p.b2);
  }

  const loss = (p, x, labels) => tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 10), forward(p, x));
  const image = (i) => data.testX.subarray(784 * i, 784 * (i + 1));

  /** Sets the backend, loads weights and images; the backend's description or the failure. */
  async function setup(backend, models) {
    if (backend === 'wasm') tf.wasm.setWasmPaths(`${location.origin}/`);
    let ok = false;
    try {
      ok = await tf.setBackend(backend);
      await tf.ready();
    } catch (e) {
      return { ok: false, error: String(e) };
    }
    if (!ok || tf.getBackend() !== backend) return { ok: false, error: `tf.setBackend('${backend}') failed (active: ${tf.getBackend()})` };
    const [testX, testY, trainX, trainY] = await Promise.all(['test-images', 'test-labels', 'train-images', 'train-labels'].map((f) => bytes(`${f}.u8`)));
    const floats = (u8) => Float32Array.from(u8, (v) => v / 255);
    data = { testX: floats(testX), testY: Int32Array.from(testY), trainX: floats(trainX), trainY: Int32Array.from(trainY) };
    for (const m of models) params[m] = toTf(m.split('-')[0], safetensors(await bytes(`${m}.safetensors`)));
    const flag = (name) => tf.env().getAsync(name).catch(() => null);
    return {
      device: await device(backend),
      ok: true,
      backend: tf.getBackend(),
      version: tf.version.tfjs,
      simd: backend === 'wasm' ? await flag('WASM_HAS_SIMD_SUPPORT') : null,
      threads: backend === 'wasm' ? (tf.wasm.getThreadsCount?.() ?? null) : null,
      isolated: self.crossOriginIsolated,
    };
  }

  /** What the WebGL or WebGPU backend runs on (SwiftShader without a GPU). */
  async function device(backend) {
    if (backend === 'webgl') {
      const gl = document.createElement('canvas').getContext('webgl2');
      const ext = gl?.getExtension('WEBGL_debug_renderer_info');
      return gl ? gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER) : null;
    }
    if (backend === 'webgpu') {
      const info = (await navigator.gpu.requestAdapter())?.info ?? {};
      return [info.vendor, info.architecture, info.description].filter(Boolean).join(' / ') || null;
    }
    return null;
  }

  /** Correctly classified images among the first test images, and their mean cross-entropy. */
  async function correct(model) {
    const n = data.testY.length;
    const [predicted, mean] = tf.tidy(() => {
      const x = tf.tensor2d(data.testX, [n, 784]);
      const labels = tf.tensor1d(data.testY, 'int32');
      return [forward(params[model], x).argMax(1), loss(params[model], x, labels)];
    });
    const p = await predicted.data();
    const l = (await mean.data())[0];
    tf.dispose([predicted, mean]);
    return { correct: p.reduce((k, v, i) => k + (v === data.testY[i] ? 1 : 0), 0), loss: l };
  }

  /** One PGD run on test image i: { ms, misclassified }. Timed from the image to the adversarial image read back. */
  async function pgd(model, i, steps) {
    const p = params[model];
    const t0 = performance.now();
    const x0 = tf.tensor2d(image(i), [1, 784]);
    const label = tf.tensor1d([data.testY[i]], 'int32');
    const grad = tf.grad((x) => loss(p, x, label));
    const lo = tf.tidy(() => x0.sub(EPS).maximum(0)); // the ε-ball ∩ [0,1]
    const hi = tf.tidy(() => x0.add(EPS).minimum(1));
    let x = tf.tidy(() => x0.add(tf.randomUniform(x0.shape, -EPS, EPS)).clipByValue(0, 1));
    for (let s = 0; s < steps; s++) {
      const next = tf.tidy(() => x.add(grad(x).sign().mul(STEP)).maximum(lo).minimum(hi));
      x.dispose();
      x = next;
    }
    await x.data();
    const ms = performance.now() - t0;
    const predicted = tf.tidy(() => forward(p, x).argMax(1));
    const misclassified = (await predicted.data())[0] !== data.testY[i];
    tf.dispose([x0, label, lo, hi, x, predicted]);
    return { ms, misclassified };
  }

  /** Training examples/s at batch `batch` (Adam 1e-3, from our weights), the loss read back each batch. */
  async function train(model, batch, warmup, timed) {
    const vars = Object.fromEntries(Object.entries(params[model]).map(([k, v]) => [k, tf.variable(v.clone())]));
    const adam = tf.train.adam(1e-3);
    let last;
    const step = async (b) => {
      const xs = tf.tensor2d(data.trainX.subarray(784 * batch * b, 784 * batch * (b + 1)), [batch, 784]);
      const ys = tf.tensor1d(data.trainY.subarray(batch * b, batch * (b + 1)), 'int32');
      const l = adam.minimize(() => loss(vars, xs, ys), true, Object.values(vars));
      last = (await l.data())[0];
      tf.dispose([xs, ys, l]);
    };
    try {
      for (let b = 0; b < warmup; b++) await step(b);
      const t0 = performance.now();
      for (let b = warmup; b < warmup + timed; b++) await step(b);
      const ms = performance.now() - t0;
      return { perSecond: (batch * timed * 1000) / ms, loss: last };
    } finally {
      adam.dispose();
      tf.dispose(Object.values(vars));
    }
  }

  return { setup, correct, pgd, train };
}

// ------------------------------------------------------------------------------------------
// Driving the page

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (v, digits = 1) => (v == null ? 'n/a' : v.toFixed(digits));

/** A fresh page on `backend`; { page, info, messages } (info.ok false when the backend did not start). */
async function openLab(context, url, backend) {
  const page = await context.newPage();
  const messages = [];
  page.on('console', (m) => ['error', 'warning'].includes(m.type()) && messages.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => messages.push(`pageerror: ${e.message}`));
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction(() => window.lab && window.tf, null, { timeout: 30_000 });
  const info = await page.evaluate(([b, models]) => window.lab.setup(b, models), [backend, MODELS]);
  return { page, info, messages };
}

/** What `advlab eval` says: correct images among the first TEST_IMAGES, or a reason it could not run. */
function cliCorrect(settings, model) {
  const bin = path.join(settings.target, 'release', 'advlab');
  if (!fs.existsSync(bin)) return { reason: `${bin} not built` };
  const args = ['eval', '--weights', `www/models/${model}.safetensors`, '--attack', 'none', '--limit', String(TEST_IMAGES), '--json'];
  let out;
  try {
    out = JSON.parse(execFileSync(bin, args, { cwd: h.REPO_ROOT, encoding: 'utf8', env: { ...process.env, ADVLAB_DATA: settings.data } }));
  } catch (e) {
    return { reason: `advlab eval failed (${e.message.split('\n')[0]})` };
  }
  return { correct: Math.round(out.clean_accuracy * out.n), n: out.n, loss: out.clean_loss };
}

function describe(info) {
  const parts = [`tf.getBackend() = ${info.backend}`];
  if (info.device) parts.push(`on ${info.device}`);
  if (info.backend === 'wasm') {
    parts.push(`SIMD ${info.simd === null ? 'unknown' : info.simd ? 'yes' : 'no'}`);
    parts.push(`${info.threads ?? '?'} thread(s)`, info.isolated ? 'cross-origin isolated' : 'not cross-origin isolated');
  }
  return parts.join(', ');
}

async function main() {
  const modules = ensureTfjs();
  const settings = projectSettings();
  const site = buildSite(modules, settings.data);
  const server = await h.startStaticServer(site);
  let browser;
  try {
    browser = await h.launchBrowser({ webgpu: true });
    temporary.add(browser.userDataDir);
    const { context } = browser;

    // 1. Correctness: TF.js's clean accuracy on each backend against the CLI's.
    const cli = Object.fromEntries(MODELS.map((m) => [m, cliCorrect(settings, m)]));
    const working = [];
    const mismatches = [];
    for (const backend of BACKENDS) {
      const lab = await openLab(context, server.url, backend);
      if (!lab.info.ok) {
        console.log(`tfjs ${backend}: skipped, the backend did not start (${lab.info.error})`);
        for (const m of lab.messages.slice(0, 5)) console.log(`  ${m}`);
        await lab.page.close();
        continue;
      }
      working.push(backend);
      for (const m of MODELS) {
        const tfjs = await lab.page.evaluate((model) => window.lab.correct(model), m);
        const ref = cli[m];
        const cliText = ref.reason ? `CLI: ${ref.reason}, not compared` : `advlab eval ${ref.correct}/${ref.n} (loss ${ref.loss.toFixed(5)})`;
        console.log(`tfjs ${backend}: ${m} clean accuracy on the first ${TEST_IMAGES} test images: TF.js ${tfjs.correct}/${TEST_IMAGES} (loss ${tfjs.loss.toFixed(5)}), ${cliText}`);
        if (ref.reason) continue;
        if (Math.abs(tfjs.correct - ref.correct) > 1) mismatches.push(`${backend} ${m}: TF.js ${tfjs.correct}, advlab ${ref.correct}`);
        // Same images right is a weak check at 100%; the mean loss says the logits match too.
        if (Math.abs(tfjs.loss - ref.loss) > 0.01 * ref.loss + 1e-5) console.log(`  note: the mean losses differ by more than 1%`);
      }
      await lab.page.close();
    }
    if (mismatches.length) {
      throw new Error(`TF.js and advlab disagree on clean accuracy by more than 1 image (${mismatches.join('; ')}): the weights are not loaded as ours (layout, flatten order?); no figures measured`);
    }
    if (!working.length) throw new Error('no TF.js backend started');

    // 2. Figures, a fresh page per backend.
    const results = {};
    for (const backend of working) {
      const lab = await openLab(context, server.url, backend);
      if (!lab.info.ok) throw new Error(`${backend} started once but not twice: ${lab.info.error}`);
      const r = (results[backend] = {});
      console.log(`tfjs ${backend}: TF.js ${lab.info.version}, ${describe(lab.info)}`);
      for (const m of MODELS) {
        for (let w = 0; w < PGD.warmup; w++) await lab.page.evaluate((model) => window.lab.pgd(model, 0, 40), m);
        const runs = [];
        for (let i = 0; i < PGD.runs; i++) runs.push(await lab.page.evaluate(([model, img]) => window.lab.pgd(model, img, 40), [m, i]));
        r[`${m} pgd`] = median(runs.map((x) => x.ms));
        const fooled = runs.filter((x) => x.misclassified).length;
        console.log(`tfjs ${backend}: ${m} PGD-40 one image median ${fmt(r[`${m} pgd`])} ms (${runs.length} runs, ${fooled}/${runs.length} misclassified)`);
      }
      for (const m of MODELS) {
        const { warmup, timed } = TRAIN[m.split('-')[0]];
        try {
          const t = await lab.page.evaluate(([model, b, w, n]) => window.lab.train(model, b, w, n), [m, BATCH, warmup, timed]);
          r[`${m} train`] = t.perSecond;
          console.log(`tfjs ${backend}: ${m} training ${fmt(t.perSecond, 0)} examples/s (batch ${BATCH}, Adam 1e-3, ${timed} timed batches after ${warmup}, last loss ${t.loss.toFixed(4)})`);
        } catch (e) {
          r[`${m} train`] = null;
          console.log(`tfjs ${backend}: ${m} training failed: ${e.message.split('\n')[0].replace(/^page\.evaluate: (Error: )?/, '')}`);
        }
      }
      await lab.page.close();
    }

    const cells = working.map((b) => {
      const r = results[b];
      return `${b} ${fmt(r['mlp-standard pgd'])} / ${fmt(r['cnn-standard pgd'])} ms, ${fmt(r['mlp-standard train'], 0)} / ${fmt(r['cnn-standard train'], 0)} ex/s`;
    });
    console.log(`summary TF.js ${TFJS_VERSION} (PGD-40 one image mlp / cnn, training batch ${BATCH} mlp / cnn): ${cells.join(' | ')}`);
  } finally {
    await browser?.close();
    await server.close();
    cleanUp();
  }
}

main().catch((e) => {
  cleanUp();
  console.error(`bench-tfjs: ${e.message}`);
  process.exit(1);
});

// Page benchmark (prints figures; not a test): for WebGPU (SwiftShader where there is no GPU) and the CPU backend,
// page open → `ready`, what the first view downloads (gzip), one live prediction, the first
// attack (which starts the engine worker), FGSM and PGD-40 on test images 0–2 with cnn-standard
// (in the worker), and the longest main-thread task while they ran. On WebGPU it also counts the
// GPU work (independent of the hardware, unlike SwiftShader's times): compute dispatches, queue
// submissions and buffer readbacks per PGD step, per attack and per training step. Run after
// scripts/build-site.sh:
//   node scripts/bench-page.mjs [--no-gpu-work] [--webgpu-only | --cpu-only]
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import * as h from '../tests/browser/harness.mjs';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Click → result times of `runs` attacks (ms); `.engine` holds the engine's own times (`attack-time`). */
async function attackMs(page, method, runs = 3, first = 0) {
  await page.selectOption(h.byTestId('attack-select'), method);
  await page.fill(h.byTestId('eps-input'), '0.3');
  await page.waitForFunction(() => !document.querySelector('[data-testid="attack-run"]').disabled);
  const times = [];
  const engine = [];
  for (let i = 0; i < runs; i++) {
    // Changing the input clears the last result; re-pick the image, then time click → result.
    await h.showTestImage(page, first + i);
    await page.waitForFunction(() => !document.querySelector('[data-testid="attack-run"]').disabled);
    // Timed in the page, from the click event to the frame after the result is in the DOM
    // (Playwright's own round trips are not the page's latency).
    const timed = page.evaluate((sel) => new Promise((resolve) => {
      let t0;
      document.querySelector('[data-testid="attack-run"]').addEventListener('click', () => { t0 = performance.now(); }, { capture: true, once: true });
      const observer = new MutationObserver(() => {
        if (t0 !== undefined && document.querySelector(sel)) {
          observer.disconnect();
          requestAnimationFrame(() => resolve(performance.now() - t0));
        }
      });
      observer.observe(document.body, { childList: true, subtree: true });
    }), h.byTestId('adv-prediction'));
    await page.click(h.byTestId('attack-run'));
    times.push(await timed);
    engine.push(Number(await page.getAttribute(h.byTestId('attack-time'), 'data-value')));
  }
  times.engine = engine;
  return times;
}

const countGpuWork = !process.argv.includes('--no-gpu-work');

/** Counts `after − before`, per `per` (rounded to 0.1). */
const perStep = (after, before, per = 1) =>
  Object.fromEntries(Object.keys(after).map((k) => [k, Math.round(((after[k] - before[k]) / per) * 10) / 10]));
const show = (c) => `${c.dispatches} dispatches, ${c.submits} submissions, ${c.readbacks} readbacks (${c.uploads} uploads, ${c.buffers} buffers and ${c.pipelines} pipelines created)`;

/** GPU work of one attack on test image `image` with `steps` steps: the counts it added. */
async function attackWork(page, steps, image) {
  await h.fill(page, 'steps-input', String(steps));
  await h.showTestImage(page, image);
  await page.waitForFunction(() => !document.querySelector('[data-testid="attack-run"]').disabled);
  const before = (await h.gpuWork(page)).counts;
  const answered = (await h.gpuWork(page)).attacks.length;
  await page.click(h.byTestId('attack-run'));
  await page.waitForSelector(h.byTestId('adv-prediction'), { timeout: 600_000 });
  const work = await h.gpuWork(page);
  if (work.attacks.length !== answered + 1) throw new Error('the engine answered more than one attack');
  return perStep(work.attacks[answered], before);
}

/** GPU work per training step (batch 64) of `model` on `limit` images, from the progress reports of epoch 1. */
async function trainingWork(page, model, limit) {
  await page.selectOption(h.byTestId('train-model-select'), model);
  await page.selectOption(h.byTestId('train-defense-select'), 'none');
  await h.fill(page, 'train-epochs', '1');
  await h.fill(page, 'train-limit', String(limit));
  await h.fill(page, 'train-batch', '64');
  const from = (await h.gpuWork(page)).training.length;
  await page.click(h.byTestId('train-start'));
  await page.waitForFunction(() => ['finished', 'failed', 'stopped'].includes(document.querySelector('[data-testid="train-status"]')?.dataset.value), null, { timeout: 1_800_000 });
  // The first report holds the run's start-up (model, data, first kernels); the rest are steps.
  const reports = (await h.gpuWork(page)).training.slice(from).filter((r) => r.epoch === 1);
  if (reports.length < 3) return null;
  const [first, last] = [reports[1], reports[reports.length - 1]];
  return perStep(last.counts, first.counts, last.done - first.done);
}

const backends = process.argv.includes('--webgpu-only') ? [true] : process.argv.includes('--cpu-only') ? [false] : [true, false];
for (const webgpu of backends) {
  const s = await h.openPage({ webgpu, countGpuWork: webgpu && countGpuWork });
  try {
    const readyMs = await s.ready();
    const firstView = new Set(s.server.log.map((r) => r.path.split('?')[0]));
    let gzip = 0;
    for (const p of firstView) {
      const file = path.join(h.SITE_DIR, decodeURIComponent(p === '/' ? '/index.html' : p));
      if (fs.existsSync(file) && fs.statSync(file).isFile()) gzip += zlib.gzipSync(fs.readFileSync(file), { level: 9 }).length;
    }
    // One live prediction: a stroke until the probabilities change; and the prediction's own
    // round trip to the worker (the page's `prediction-latency`).
    const predictMs = [];
    const inferenceMs = [];
    for (let i = 0; i < 5; i++) {
      await s.page.click(h.byTestId('clear-drawing'));
      await s.page.waitForFunction(() => !document.querySelector('[data-testid="prediction"]'));
      const t0 = performance.now();
      await h.drawOne(s.page);
      await s.page.waitForSelector(h.byTestId('prediction'));
      predictMs.push(performance.now() - t0);
      await h.sleep(300);
      inferenceMs.push(Number(await s.page.getAttribute(h.byTestId('prediction-latency'), 'data-value')));
    }
    await s.page.selectOption(h.byTestId('model-select'), 'cnn-standard');
    const longTasks = await h.watchLongTasks(s.page);
    // The first attack starts the engine worker (download, compile, backend, model).
    const [first] = await attackMs(s.page, 'fgsm', 1, 9);
    const fgsm = await attackMs(s.page, 'fgsm');
    const pgd = await attackMs(s.page, 'pgd');
    await s.page.selectOption(h.byTestId('model-select'), 'mlp-standard');
    const mlpPgd = await attackMs(s.page, 'pgd', 5, 3);
    await s.page.selectOption(h.byTestId('model-select'), 'cnn-standard');
    const longest = Math.max(0, ...(await longTasks()).map((t) => t.cpu));
    const backend = await h.textOfTestId(s.page, 'backend');
    console.log(`${backend}: ready ${readyMs} ms; first view ${(gzip / 1e6).toFixed(2)} MB gzip (${[...firstView].join(' ')});`);
    console.log(`  one-image inference (MLP), request → answer from the prediction worker, median of 5: ${median(inferenceMs).toFixed(1)} ms`);
    console.log(`  draw a stroke → prediction (MLP), median of 5: ${median(predictMs).toFixed(0)} ms (includes the 16 pointer moves)`);
    console.log(`  first attack (starts the engine worker): ${first.toFixed(0)} ms`);
    console.log(`  cnn-standard, test images 0–2, click → result: FGSM median ${median(fgsm).toFixed(0)} ms, PGD-40 median ${median(pgd).toFixed(0)} ms`);
    console.log(`    of which in the engine (attack-time): FGSM ${median(fgsm.engine).toFixed(0)} ms, PGD-40 ${median(pgd.engine).toFixed(0)} ms`);
    console.log(`  mlp-standard, test images 3–7, PGD-40: click → result median ${median(mlpPgd).toFixed(0)} ms, in the engine ${median(mlpPgd.engine).toFixed(0)} ms`);
    console.log(`  longest main-thread task meanwhile (CPU time): ${longest ? `${longest.toFixed(0)} ms` : 'none over 50 ms'}`);
    if (webgpu && countGpuWork && backend === 'webgpu') {
      // PGD on cnn-standard with 40 and with 20 steps: the difference is 20 steps' work.
      await s.page.selectOption(h.byTestId('attack-select'), 'pgd');
      const pgd40 = await attackWork(s.page, 40, 3);
      const pgd20 = await attackWork(s.page, 20, 4);
      console.log(`  GPU work, PGD-40 on one image (cnn-standard): ${show(pgd40)}`);
      console.log(`  GPU work per PGD step: ${show(perStep(pgd40, pgd20, 20))}`);
      for (const [model, limit] of [['mlp', 2000], ['cnn', 2560]]) {
        const work = await trainingWork(s.page, model, limit);
        console.log(`  GPU work per training step (${model}, batch 64): ${work ? show(work) : 'too few progress reports'}`);
      }
    }
  } finally {
    await s.close();
  }
}

// Page benchmark (prints figures; not a test): for WebGPU (SwiftShader here) and the CPU backend,
// page open → `ready`, what the first view downloads (gzip), one live prediction, the first
// attack (which starts the engine worker), FGSM and PGD-40 on test images 0–2 with cnn-standard
// (in the worker), and the longest main-thread task while they ran. Run after
// scripts/build-site.sh:
//   node scripts/bench-page.mjs
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import * as h from '../tests/browser/harness.mjs';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function attackMs(page, method, runs = 3, first = 0) {
  await page.selectOption(h.byTestId('attack-select'), method);
  await page.fill(h.byTestId('eps-input'), '0.3');
  await page.waitForFunction(() => !document.querySelector('[data-testid="attack-run"]').disabled);
  const times = [];
  for (let i = 0; i < runs; i++) {
    // Changing the input clears the last result; re-pick the image, then time click → result.
    await h.showTestImage(page, first + i);
    await page.waitForFunction(() => !document.querySelector('[data-testid="attack-run"]').disabled);
    const t0 = performance.now();
    await page.click(h.byTestId('attack-run'));
    await page.waitForSelector(h.byTestId('adv-prediction'), { timeout: 300_000 });
    times.push(performance.now() - t0);
  }
  return times;
}

for (const webgpu of [true, false]) {
  const s = await h.openPage({ webgpu });
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
    const longest = Math.max(0, ...(await longTasks()));
    const backend = await h.textOfTestId(s.page, 'backend');
    console.log(`${backend}: ready ${readyMs} ms; first view ${(gzip / 1e6).toFixed(2)} MB gzip (${[...firstView].join(' ')});`);
    console.log(`  one-image inference (MLP), request → answer from the prediction worker, median of 5: ${median(inferenceMs).toFixed(1)} ms`);
    console.log(`  draw a stroke → prediction (MLP), median of 5: ${median(predictMs).toFixed(0)} ms (includes the 16 pointer moves)`);
    console.log(`  first attack (starts the engine worker): ${first.toFixed(0)} ms`);
    console.log(`  cnn-standard, test images 0–2, click → result: FGSM median ${median(fgsm).toFixed(0)} ms, PGD-40 median ${median(pgd).toFixed(0)} ms`);
    console.log(`  longest main-thread task meanwhile: ${longest ? `${longest.toFixed(0)} ms` : 'none over 50 ms'}`);
  } finally {
    await s.close();
  }
}

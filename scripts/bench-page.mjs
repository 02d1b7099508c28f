// Page benchmark (prints figures; not a test): for WebGPU (SwiftShader here) and the CPU backend,
// page open → `ready`, one live prediction, FGSM and PGD-40 on test image 0 with cnn-standard (in
// the worker), and what the first view downloads (gzip). Run after scripts/build-site.sh:
//   node scripts/bench-page.mjs
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import * as h from '../tests/browser/harness.mjs';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function attackMs(page, method) {
  await page.selectOption(h.byTestId('attack-select'), method);
  await page.fill(h.byTestId('eps-input'), '0.3');
  await page.waitForFunction(() => !document.querySelector('[data-testid="attack-run"]').disabled);
  const times = [];
  for (let i = 0; i < 3; i++) {
    // Changing the input clears the last result; re-pick the image, then time click → result.
    await page.fill(h.byTestId('sample-input'), String(i));
    await page.press(h.byTestId('sample-input'), 'Enter');
    await page.waitForFunction(() => !document.querySelector('[data-testid="adv-prediction"]'));
    await page.waitForSelector(h.byTestId('sample-label'));
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
    // One live prediction: a stroke until the probabilities change.
    const predictMs = [];
    for (let i = 0; i < 5; i++) {
      await s.page.click(h.byTestId('clear-drawing'));
      await s.page.waitForFunction(() => !document.querySelector('[data-testid="prediction"]'));
      const t0 = performance.now();
      await h.drawOne(s.page);
      await s.page.waitForSelector(h.byTestId('prediction'));
      predictMs.push(performance.now() - t0);
    }
    await s.page.selectOption(h.byTestId('model-select'), 'cnn-standard');
    const fgsm = await attackMs(s.page, 'fgsm');
    const pgd = await attackMs(s.page, 'pgd');
    const backend = await h.textOfTestId(s.page, 'backend');
    console.log(`${backend}: ready ${readyMs} ms; first view ${(gzip / 1e6).toFixed(2)} MB gzip (${[...firstView].join(' ')});`);
    console.log(`  draw a stroke → prediction (MLP), median of 5: ${median(predictMs).toFixed(0)} ms (includes the 16 pointer moves)`);
    console.log(`  cnn-standard, test images 0–2, click → result: FGSM median ${median(fgsm).toFixed(0)} ms, PGD-40 median ${median(pgd).toFixed(0)} ms`);
  } finally {
    await s.close();
  }
}

// Evaluation-sweep benchmark (prints figures; not a test): the evaluate panel's sweep on the CPU
// backend, click → table, with the page believing the machine has 1, 2, … cores
// (`navigator.hardwareConcurrency`, which sets how many sweep workers split it; 1 = the engine
// alone), up to the cores this machine has. The same table every time is checked. Run after
// scripts/build-site.sh:
//   node scripts/bench-sweep.mjs [--models cnn-standard,cnn-robust] [--attacks pgd] [--eps 0.1,0.3] [--limit 1000] [--cores 1,2,4]
import os from 'node:os';
import * as h from '../tests/browser/harness.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const models = arg('models', 'cnn-standard').split(',');
const attacks = arg('attacks', 'pgd').split(',');
const eps = arg('eps', '0.1, 0.3');
const limit = Number(arg('limit', '1000'));
const machine = os.availableParallelism();
const coreCounts = arg('cores', [1, 2, 4, 8].filter((c) => c <= machine).join(',')).split(',').map(Number);

async function sweep(s) {
  for (const id of await s.page.$$eval('[data-testid^="eval-model-"]', (xs) => xs.map((x) => x.dataset.testid))) {
    if (models.includes(id.replace('eval-model-', ''))) await s.page.check(h.byTestId(id));
    else await s.page.uncheck(h.byTestId(id));
  }
  for (const id of await s.page.$$eval('[data-testid^="eval-attack-"]', (xs) => xs.map((x) => x.dataset.testid))) {
    if (attacks.includes(id.replace('eval-attack-', ''))) await s.page.check(h.byTestId(id));
    else await s.page.uncheck(h.byTestId(id));
  }
  await h.fill(s.page, 'eval-eps', eps);
  await h.fill(s.page, 'eval-limit', String(limit));
  const t0 = performance.now();
  await s.page.click(h.byTestId('eval-run'));
  await s.page.waitForFunction(() => {
    const p = document.querySelector('[data-testid="eval-progress"]');
    return document.querySelector('[data-testid="eval-results"]') && p && Number(p.dataset.value) >= 1;
  }, null, { timeout: 3_600_000 });
  const ms = performance.now() - t0;
  const workers = Number(await s.page.getAttribute(h.byTestId('eval-progress'), 'data-workers'));
  const table = await s.page.$$eval(`${h.byTestId('eval-results')} tbody tr`, (rs) => rs.map((r) => `${r.dataset.model} ${r.dataset.attack} ${r.dataset.eps} ${r.dataset.value}`).join('\n'));
  return { ms, workers, table };
}

console.log(`sweep: ${models.join(', ')} × ${attacks.join(', ')} at ε ${eps} on ${limit} test images, CPU backend; this machine has ${machine} cores`);
let first;
for (const cores of coreCounts) {
  const s = await h.openPage({ webgpu: false });
  try {
    await s.context.addInitScript((n) => Object.defineProperty(Navigator.prototype, 'hardwareConcurrency', { get: () => n }), cores);
    await s.page.reload();
    await s.ready();
    // Twice: the first run also starts the workers (wasm compile, test set, models).
    const cold = await sweep(s);
    const warm = await sweep(s);
    first ??= warm;
    const same = warm.table === first.table && cold.table === first.table;
    console.log(`  ${cores} core(s) → ${warm.workers} worker(s): ${(cold.ms / 1000).toFixed(1)} s first run, ${(warm.ms / 1000).toFixed(1)} s again; speed-up ${(first.ms / warm.ms).toFixed(2)}×; ${same ? 'same table' : 'A DIFFERENT TABLE'}`);
  } finally {
    await s.close();
  }
}

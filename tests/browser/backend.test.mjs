// The Auto backend in the built page (dist/): with a hardware WebGPU adapter the engine times
// each kind of job on both backends when it first starts and runs each on the faster one; with a
// software adapter (SwiftShader, WebGPU's fallback adapter in headless Chromium) it times the CPU only and runs
// everything there. The figures are shown (hook `calibration`: data-attack, data-training,
// data-evaluation) and remembered for the adapter, so a reload does not measure again. Without
// WebGPU, Auto is the CPU.
// Run: node --test tests/browser/

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from './harness.mjs';

const READY_MS = h.READY_TIMEOUT_MS;
const ATTACK_MS = 120_000;

/** The calibration hook's picks and its table's rows, or null without one. */
const calibration = (page) =>
  page.evaluate((sel) => {
    const c = document.querySelector(sel);
    if (!c) return null;
    const rows = [...c.querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent.trim()));
    const note = c.querySelector('p')?.textContent ?? '';
    const took = note.match(/Measured in (\d+) ms/)?.[1];
    return { attack: c.dataset.attack, training: c.dataset.training, evaluation: c.dataset.evaluation, rows, took, software: /software/.test(note) };
  }, h.byTestId('calibration'));

/** Runs FGSM on test image `index` and waits for the result. */
async function attackOnce(page, index) {
  await h.chooseAttack(page, { attack: 'fgsm', eps: 0.3 });
  await h.showTestImage(page, index, ATTACK_MS);
  await page.locator(h.byTestId('attack-run')).click({ timeout: ATTACK_MS });
  await h.waitForTestId(page, 'adv-prediction', ATTACK_MS);
}

for (const v of h.variants()) {
  describe(`advlab Auto backend ${v.name}`, () => {
    test(v.webgpu ? 'Auto sees that SwiftShader is a software adapter, runs every job on the CPU, shows why, and remembers it' : 'Auto without WebGPU runs on the CPU without measuring', { timeout: READY_MS * 2 + 4 * ATTACK_MS }, async (t) => {
      const s = await h.openPage({ webgpu: v.webgpu, backend: 'auto' });
      try {
        await s.check(async () => {
          await s.ready();
          assert.equal(await s.page.inputValue(h.byTestId('backend-select')), 'auto');
          // Before the engine has measured, the hook already says the CPU: SwiftShader is a
          // software adapter (a hardware one would say WebGPU until measured).
          assert.equal(await h.textOfTestId(s.page, 'backend'), 'cpu');
          assert.equal(await calibration(s.page), null, 'nothing measured before the engine starts');
          const started = Date.now();
          await attackOnce(s.page, 0);
          t.diagnostic(`first attack (engine start${v.webgpu ? ' and calibration' : ''}) took ${Date.now() - started} ms`);
          assert.equal(await h.textOfTestId(s.page, 'backend'), 'cpu');
          if (!v.webgpu) {
            assert.equal(await calibration(s.page), null, 'nothing measured without WebGPU');
            return;
          }
          const measured = await calibration(s.page);
          t.diagnostic(`calibration: ${JSON.stringify(measured)}`);
          assert.ok(measured, 'the calibration is shown');
          assert.deepEqual([measured.attack, measured.training, measured.evaluation], ['cpu', 'cpu', 'cpu']);
          assert.equal(measured.rows.length, 3);
          assert.ok(measured.software, 'the table says the adapter is a software one');
          for (const row of measured.rows) {
            assert.match(row[1], /^\d+(\.\d)? ms$/, `the CPU's time is measured: ${row}`);
            assert.equal(row[2], 'not measured', `WebGPU is not measured on a software adapter: ${row}`);
            assert.equal(row[3], 'CPU');
          }
          // A reload remembers it: the backend is known before the engine starts, and the same
          // figures are shown (nothing was measured again).
          await s.page.reload({ waitUntil: 'domcontentloaded' });
          await h.waitForTestId(s.page, 'ready', READY_MS);
          await s.page.waitForFunction(() => document.querySelector('[data-testid="backend"]')?.textContent === 'cpu', null, { timeout: 10_000 });
          assert.deepEqual(await calibration(s.page), measured, 'the remembered calibration');
          await attackOnce(s.page, 1);
          assert.deepEqual(await calibration(s.page), measured, 'the engine did not measure again');
          // Forcing a backend still works, and Auto comes back as it was.
          await s.page.selectOption(h.byTestId('backend-select'), 'webgpu');
          await attackOnce(s.page, 2);
          assert.equal(await h.textOfTestId(s.page, 'backend'), 'webgpu');
          await s.page.selectOption(h.byTestId('backend-select'), 'auto');
          await attackOnce(s.page, 3);
          assert.equal(await h.textOfTestId(s.page, 'backend'), 'cpu');
        });
      } finally {
        await s.close();
      }
    });
  });
}

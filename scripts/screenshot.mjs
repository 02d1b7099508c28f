// Takes the screenshots of README.md and docs/page.md from the real page: builds nothing, serves dist/, opens it in
// headless Chromium (CPU backend), draws a digit and attacks it with PGD (www/screenshot.png),
// trains an MLP with fgsm-rs for three epochs on 10,000 images (www/screenshot-train.png) and runs
// the default evaluation sweep (www/screenshot-eval.png).
//   node scripts/screenshot.mjs            (after scripts/build-site.sh)
import path from 'node:path';
import * as h from '../tests/browser/harness.mjs';

const out = path.join(h.REPO_ROOT, 'www', 'screenshot.png');
const s = await h.openPage({ webgpu: false });
try {
  await s.page.setViewportSize({ width: 1100, height: 1000 });
  await s.ready();
  const canvas = await h.waitForTestId(s.page, 'draw-canvas');
  await canvas.scrollIntoViewIfNeeded();
  const box = await canvas.boundingBox();
  // A "7": a top bar, then a slanted stroke down.
  const at = (fx, fy) => [box.x + box.width * fx, box.y + box.height * fy];
  const stroke = async (points) => {
    await s.page.mouse.move(...at(...points[0]));
    await s.page.mouse.down();
    for (const p of points.slice(1)) await s.page.mouse.move(...at(...p), { steps: 12 });
    await s.page.mouse.up();
  };
  await stroke([[0.25, 0.22], [0.75, 0.22], [0.45, 0.82]]);
  await h.waitForTestId(s.page, 'prediction');
  await s.page.selectOption(h.byTestId('attack-select'), 'pgd');
  await s.page.fill(h.byTestId('eps-input'), '0.2');
  await s.page.waitForFunction(() => !document.querySelector('[data-testid="attack-run"]').disabled);
  await s.page.click(h.byTestId('attack-run'));
  await h.waitForTestId(s.page, 'adv-prediction', 60_000);
  await h.sleep(500);
  const lab = await s.page.locator('#lab').boundingBox();
  await s.page.screenshot({ path: out, fullPage: true, clip: { x: 0, y: 0, width: 1100, height: lab.y + lab.height + 16 } });
  console.log(`wrote ${out}`);

  // Element screenshots: the sticky header would cover their top.
  await s.page.addStyleTag({ content: '.app-header { position: static !important; }' });
  await s.page.selectOption(h.byTestId('train-defense-select'), 'fgsm-rs');
  await h.fill(s.page, 'train-eps', '0.1');
  await h.fill(s.page, 'train-epochs', '3');
  await h.fill(s.page, 'train-limit', '10000');
  await s.page.click(h.byTestId('train-start'));
  await s.page.waitForFunction(() => ['finished', 'stopped', 'failed'].includes(document.querySelector('[data-testid="train-status"]')?.dataset.value), null, { timeout: 600_000 });
  await h.sleep(500);
  const train = path.join(h.REPO_ROOT, 'www', 'screenshot-train.png');
  await s.page.locator('#train').screenshot({ path: train });
  console.log(`wrote ${train}`);

  await s.page.click(h.byTestId('eval-run'));
  await h.waitForTestId(s.page, 'eval-gallery', 600_000);
  await h.sleep(500);
  const evaluation = path.join(h.REPO_ROOT, 'www', 'screenshot-eval.png');
  await s.page.locator('#evaluate').screenshot({ path: evaluation });
  console.log(`wrote ${evaluation}`);
} finally {
  await s.close();
}

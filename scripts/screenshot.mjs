// Takes the README's screenshot from the real page: builds nothing, serves dist/, opens it in
// headless Chromium (CPU backend), draws a digit, attacks it with PGD and saves www/screenshot.png.
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
  await s.page.screenshot({ path: out, fullPage: true });
  console.log(`wrote ${out}`);
} finally {
  await s.close();
}

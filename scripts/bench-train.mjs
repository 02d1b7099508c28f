// Training benchmark (prints figures; not a test): examples/s of one epoch at batch 128 in the
// page's training worker, for the MLP and the CNN with `none`, `fgsm-rs` and `pgd` (10 steps), on
// WebGPU (SwiftShader in headless Chromium without a GPU: a GPU emulated on the CPU) and on the CPU backend. Each
// configuration trains on a subset sized for the backend and is read when its last batch is done
// (the per-epoch checks are not timed). Run after scripts/build-site.sh:
//   node scripts/bench-train.mjs            (ADVLAB_BROWSER_VARIANTS=cpu|webgpu to pick one)
// The native figures come from `advlab bench`.
import * as h from '../tests/browser/harness.mjs';

// Training images per configuration: enough batches of 128 to time, little enough for SwiftShader.
const SUBSET = {
  webgpu: { mlp: { none: 2560, 'fgsm-rs': 1280, pgd: 512 }, cnn: { none: 512, 'fgsm-rs': 256, pgd: 128 } },
  cpu: { mlp: { none: 20480, 'fgsm-rs': 10240, pgd: 2560 }, cnn: { none: 1280, 'fgsm-rs': 640, pgd: 256 } },
};

async function examplesPerSecond(webgpu, arch, defense, limit) {
  // A fresh browser each time: a run in progress would otherwise resume on the next page load.
  const s = await h.openPage({ webgpu });
  try {
    await s.ready();
    await s.page.selectOption(h.byTestId('train-model-select'), arch);
    await s.page.selectOption(h.byTestId('train-defense-select'), defense);
    await h.fill(s.page, 'train-eps', '0.3');
    await h.fill(s.page, 'train-epochs', '1');
    await h.fill(s.page, 'train-batch', '128');
    await h.fill(s.page, 'train-limit', String(limit));
    await s.page.click(h.byTestId('train-start'));
    await s.page.waitForFunction(
      () => {
        const p = document.querySelector('[data-testid="train-progress"]');
        const e = document.querySelector('[data-testid="train-error"]');
        // The speed shows while the run trains: keep the last value seen (a fast run may be
        // finished, and its speed gone, by the poll that sees progress 1).
        const speed = document.querySelector('[data-testid="train-speed"]')?.dataset.value;
        if (speed) window.advlabLastSpeed = Number(speed);
        return e || (p && Number(p.dataset.value) >= 1);
      },
      null,
      { timeout: 1_800_000, polling: 50 },
    );
    const error = await h.textOfTestId(s.page, 'train-error');
    if (error) throw new Error(error);
    return await s.page.evaluate(() => window.advlabLastSpeed ?? 0);
  } finally {
    await s.close();
  }
}

for (const v of h.variants()) {
  const key = v.webgpu ? 'webgpu' : 'cpu';
  console.log(`${v.name}: training examples/s, batch 128, one epoch`);
  for (const arch of ['mlp', 'cnn']) {
    const cells = [];
    for (const defense of ['none', 'fgsm-rs', 'pgd']) {
      const limit = SUBSET[key][arch][defense];
      const rate = await examplesPerSecond(v.webgpu, arch, defense, limit);
      cells.push(`${defense} ${rate.toFixed(0)} (${limit} images)`);
    }
    console.log(`  ${arch}: ${cells.join('; ')}`);
  }
}

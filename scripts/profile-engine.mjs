// Where the live attack's time goes in the page (prints a profile; not a test): samples the
// engine worker with V8's CPU profiler (through a Chrome trace) while the page runs PGD-40 on
// one image, 8 times, on the CPU backend, and prints the functions with the most self time as a
// share of the worker's busy time. The shipped worker has no function names (`wasm-opt` drops
// them), so this script first builds one that keeps them: the engine worker at the page's `web`
// profile, through wasm-bindgen but without wasm-opt, put into a copy of dist/ under /tmp. Run
// after scripts/build-site.sh:
//   node scripts/profile-engine.mjs [cnn-standard | mlp-standard | …] [--top N]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as h from '../tests/browser/harness.mjs';

const args = process.argv.slice(2);
const model = args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a)) || 'cnn-standard';
const topIndex = args.indexOf('--top');
const top = topIndex >= 0 ? Number(args[topIndex + 1]) : 25;

/** A copy of the site whose engine worker keeps its function names. */
function siteWithNames() {
  h.assertSiteBuilt();
  const site = fs.mkdtempSync(path.join(os.tmpdir(), 'advlab-profile-'));
  fs.cpSync(h.SITE_DIR, site, { recursive: true });
  const build = [
    'source scripts/lib.sh',
    'cargo build --offline --target wasm32-unknown-unknown --profile web --bin worker --features webgpu',
    `wasm-bindgen --target no-modules --out-dir "${site}" "$CARGO_TARGET_DIR/wasm32-unknown-unknown/web/worker.wasm"`,
  ].join(' && ');
  console.log('building the engine worker with its function names …');
  execFileSync('bash', ['-c', build], { cwd: h.REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  return site;
}

/** Self samples per function name of the busiest profiled thread. */
function selfTimes(events) {
  const profiles = new Map();
  for (const e of events) {
    if (e.name !== 'ProfileChunk') continue;
    const key = `${e.pid}:${e.id}`;
    const profile = profiles.get(key) || { nodes: new Map(), samples: [] };
    for (const node of e.args.data.cpuProfile?.nodes || []) profile.nodes.set(node.id, node);
    profile.samples.push(...(e.args.data.cpuProfile?.samples || []));
    profiles.set(key, profile);
  }
  const idle = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);
  let busiest = new Map();
  let busiestCount = 0;
  for (const profile of profiles.values()) {
    const counts = new Map();
    let busy = 0;
    for (const id of profile.samples) {
      const name = profile.nodes.get(id)?.callFrame?.functionName || '(anonymous)';
      if (idle.has(name)) continue;
      busy++;
      counts.set(name, (counts.get(name) || 0) + 1);
    }
    if (busy > busiestCount) [busiest, busiestCount] = [counts, busy];
  }
  return { counts: busiest, busy: busiestCount };
}

const site = siteWithNames();
const s = await h.openPage({ webgpu: false, backend: 'cpu', siteDir: site });
try {
  await s.ready();
  await h.chooseAttack(s.page, { model, attack: 'pgd', eps: 0.3 });
  const attack = async (index) => {
    await h.showTestImage(s.page, index);
    await s.page.click(h.byTestId('attack-run'));
    await h.waitForTestId(s.page, 'adv-prediction', 120_000);
  };
  // Two warm-up attacks (the engine starts, the model loads), then 8 profiled ones.
  for (const i of [0, 1]) await attack(i);
  const cdp = await s.page.context().newCDPSession(s.page);
  const events = [];
  cdp.on('Tracing.dataCollected', (e) => events.push(...e.value));
  await cdp.send('Tracing.start', { categories: 'disabled-by-default-v8.cpu_profiler,__metadata', transferMode: 'ReportEvents' });
  const engineMs = [];
  for (let i = 2; i < 10; i++) {
    await attack(i);
    engineMs.push(Number(await s.page.getAttribute(h.byTestId('attack-time'), 'data-value')));
  }
  const done = new Promise((resolve) => cdp.once('Tracing.tracingComplete', resolve));
  await cdp.send('Tracing.end');
  await done;
  const { counts, busy } = selfTimes(events);
  engineMs.sort((a, b) => a - b);
  console.log(`${model}, PGD-40 on one image, CPU backend: ${busy} busy samples in the engine worker over 8 attacks (attack-time median ${engineMs[4].toFixed(0)} ms)`);
  console.log('self time, share of the worker\'s busy time:');
  for (const [name, n] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((100 * n) / busy).toFixed(1).padStart(6)}%  ${name.replace(/::h[0-9a-f]{16}$/, '').slice(0, 140)}`);
  }
} finally {
  await s.close();
  fs.rmSync(site, { recursive: true, force: true });
}

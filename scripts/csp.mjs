// trunk post_build hook (Trunk.toml): puts the page's Content-Security-Policy into the built
// index.html as a <meta> tag (static hosts send no headers). Scripts run only from the site itself
// plus trunk's inline loader, allowed by the SHA-256 of its exact text (it names hashed file
// names, so the hash is computed on every build); wasm may compile ('wasm-unsafe-eval'); workers
// and connections go to the site and blob: URLs only; nothing reaches another host.
//
// Usage: node scripts/csp.mjs [index.html]   (default: $TRUNK_STAGING_DIR/index.html)
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const file = process.argv[2] ?? path.join(process.env.TRUNK_STAGING_DIR ?? 'dist', 'index.html');
const html = fs.readFileSync(file, 'utf8');
if (html.includes('http-equiv="Content-Security-Policy"')) {
  console.error(`csp: ${file} already has a Content-Security-Policy`);
  process.exit(1);
}

// Inline scripts: <script ...>text</script> without a src attribute.
const hashes = [];
for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
  if (/\bsrc\s*=/.test(m[1])) continue;
  hashes.push(`'sha256-${crypto.createHash('sha256').update(m[2], 'utf8').digest('base64')}'`);
}

export const policy = [
  "default-src 'self'",
  `script-src 'self' 'wasm-unsafe-eval' ${hashes.join(' ')}`.trim(),
  "worker-src 'self' blob:",
  "connect-src 'self' blob:",
  "img-src 'self' data: blob:",
  // leptos sets style attributes (progress bars, chart colours).
  "style-src 'self' 'unsafe-inline'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'none'",
].join('; ');

const charset = /<meta\s+charset="utf-8"\s*\/?>/i;
if (!charset.test(html)) {
  console.error(`csp: no <meta charset="utf-8"> in ${file} to put the policy after`);
  process.exit(1);
}
// Right after the charset, before any script: a policy applies only to what follows it.
const out = html.replace(charset, (tag) => `${tag}\n    <meta http-equiv="Content-Security-Policy" content="${policy}" />`);
fs.writeFileSync(file, out);
console.log(`csp: ${file}: ${hashes.length} inline script(s) allowed by hash`);

#!/usr/bin/env node
// Three bundles: the extension (Node, CommonJS, `vscode` external), the CLI (Node, CommonJS, runnable)
// and the dashboard webview (browser, IIFE). `--production` minifies; `--watch` rebuilds on change;
// `--metafile` writes esbuild metafiles next to the bundles (the bench reads them for bundle sizes).
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const production = args.has('--production');
const watch = args.has('--watch');

const common = {
  bundle: true,
  sourcemap: true,
  minify: production,
  logLevel: 'warning',
  metafile: true,
  absWorkingDir: root,
  legalComments: 'none',
};

/** @type {esbuild.BuildOptions[]} */
export const bundles = [
  {
    ...common,
    entryPoints: { extension: 'src/extension/extension.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
    // Activation benchmark probes: when the bundle started and finished evaluating.
    banner: { js: 'var __kdBundleStart = performance.now();' },
    footer: { js: 'var __kdBundleEnd = performance.now();' },
    // Heavy modules (client-node, the sandbox) are split out as lazily required chunks: see
    // src/extension/lazy.ts. CommonJS has no code splitting, so they are separate entry points.
  },
  {
    ...common,
    entryPoints: { cli: 'src/cli/main.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
  },
  {
    ...common,
    entryPoints: { webview: 'src/webview/main.ts' },
    outdir: 'dist',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    loader: { '.css': 'css' },
  },
];

// Optional extra Node entry points the extension loads lazily (each a separate CJS file in dist/).
const lazyDir = path.join(root, 'src', 'extension', 'lazy');
if (fs.existsSync(lazyDir)) {
  for (const f of fs.readdirSync(lazyDir)) {
    if (!f.endsWith('.ts')) continue;
    bundles.push({ ...bundles[0], entryPoints: { [`lazy-${f.slice(0, -3)}`]: path.join('src/extension/lazy', f) } });
  }
}

async function main() {
  fs.mkdirSync(path.join(root, 'dist'), { recursive: true });
  if (watch) {
    const ctxs = await Promise.all(bundles.map((b) => esbuild.context(b)));
    await Promise.all(ctxs.map((c) => c.watch()));
    console.log('[build] watching…');
    return;
  }
  const started = Date.now();
  const results = await Promise.all(bundles.map((b) => esbuild.build(b)));
  const sizes = {};
  for (const r of results) {
    for (const [out, meta] of Object.entries(r.metafile.outputs)) {
      if (out.endsWith('.map')) continue;
      sizes[path.basename(out)] = meta.bytes;
    }
  }
  fs.writeFileSync(path.join(root, 'dist', 'sizes.json'), JSON.stringify({ production, sizes }, null, 2));
  try { fs.chmodSync(path.join(root, 'dist', 'cli.js'), 0o755); } catch { /* not built */ }
  console.log(`[build] ${Object.keys(sizes).length} bundles in ${Date.now() - started} ms${production ? ' (production)' : ''}`);
}

main().catch((err) => {
  console.error(err.message ?? err);
  process.exit(1);
});

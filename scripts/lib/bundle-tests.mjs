// Compiles in-VS-Code test files (TypeScript) to CommonJS next to a mocha entry, so the extension host
// can load them. Packages stay external and resolve from the repo's node_modules at run time.
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';

export async function bundleTests({ root, entry, suiteGlobDir, outDir }) {
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(path.join(outDir, 'suite'), { recursive: true });
  const common = {
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: 'inline',
    packages: 'external',
    external: ['vscode'],
    logLevel: 'warning',
  };
  await esbuild.build({ ...common, entryPoints: [entry], outfile: path.join(outDir, 'index.js') });
  const files = listTests(path.join(root, suiteGlobDir));
  if (files.length) {
    await esbuild.build({
      ...common,
      entryPoints: Object.fromEntries(files.map((f) => [path.basename(f, '.ts'), f])),
      outdir: path.join(outDir, 'suite'),
    });
  }
  return files;
}

export function listTests(dir) {
  if (!fs.existsSync(dir)) return [];
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listTests(p));
    else if (e.name.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

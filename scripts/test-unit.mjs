#!/usr/bin/env node
// Runs test/unit (mocha in plain Node; TypeScript through tsx, no separate compile step).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runMocha } from './lib/run-mocha.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const spec = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const counts = await runMocha({ root, label: 'unit', spec: spec.length ? spec : ['test/unit/**/*.test.ts'] });
process.exitCode = counts.ok ? 0 : 1;

#!/usr/bin/env node
// For contributors with internet: runs the same host suite (test/host) in desktop VS Code downloaded by
// @vscode/test-electron. CI cannot download VS Code and uses scripts/test-host.mjs (code-server) instead.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTests } from '@vscode/test-electron';
import { bundleTests } from './lib/bundle-tests.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { stdio: 'inherit', cwd: root });
const outDir = path.join(root, 'out', 'host');
await bundleTests({ root, entry: 'test/host/index.ts', suiteGlobDir: 'test/host/suite', outDir });
const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'kd-electron-ws-'));
fs.cpSync(path.join(root, 'test', 'fixtures', 'workspace'), workspace, { recursive: true });
try {
  await runTests({
    version: process.env.KD_VSCODE_VERSION ?? '1.100.3',
    extensionDevelopmentPath: root,
    extensionTestsPath: path.join(outDir, 'index.js'),
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust'],
    extensionTestsEnv: { KD_TEST_WORKSPACE: workspace },
  });
} catch (err) {
  console.error(`[test-electron] ${err.message ?? err}`);
  process.exitCode = 1;
} finally {
  fs.rmSync(workspace, { recursive: true, force: true });
}

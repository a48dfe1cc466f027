#!/usr/bin/env node
// Packages the extension (`npm run package`), installs the .vsix with `code-server --install-extension`
// into a clean extensions folder, and checks in a real extension host that the installed copy activates.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import util from 'node:util';
import { fileURLToPath } from 'node:url';
import { codeServerEntry, installCodeServer } from './install-code-server.mjs';
import { launchBrowser, startCodeServer, workbenchUrl } from './lib/code-server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const vsix = path.join(root, 'out', 'kube-delivery.vsix');
const record = (passed, failed) => {
  fs.mkdirSync(path.join(root, 'test-results'), { recursive: true });
  fs.writeFileSync(path.join(root, 'test-results', 'vsix.json'), JSON.stringify({ passed, failed }));
  console.log(`vsix: ${passed} passed, ${failed} failed`);
};

async function main() {
  installCodeServer();
  execFileSync('npm', ['run', '--silent', 'package'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  const size = fs.statSync(vsix).size;
  console.log(`[test-vsix] packaged ${path.relative(root, vsix)} (${(size / 1024).toFixed(0)} KB)`);
  const extensionsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kd-vsix-ext-'));
  const configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kd-vsix-cfg-'));
  const out = execFileSync(process.execPath, [codeServerEntry, '--extensions-dir', extensionsDir, '--install-extension', vsix, '--force'], {
    cwd: root,
    env: { ...process.env, XDG_CONFIG_HOME: configDir, XDG_DATA_HOME: configDir },
    encoding: 'utf8',
  });
  console.log(`[test-vsix] ${out.trim().split('\n').pop()}`);
  const installed = fs.readdirSync(extensionsDir).filter((d) => d.startsWith('kube-delivery.kube-delivery'));
  if (installed.length !== 1) throw new Error(`expected the extension in ${extensionsDir}, found ${fs.readdirSync(extensionsDir).join(', ')}`);

  const server = await startCodeServer({ label: 'vsix', extensionsDir, env: { KD_REPO_ROOT: root } });
  const browser = await launchBrowser('vsix');
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'kd-vsix-ws-'));
  fs.cpSync(path.join(root, 'examples'), workspace, { recursive: true });
  let result;
  try {
    const page = await browser.context.newPage();
    let done;
    const exited = new Promise((r) => (done = r));
    await page.exposeFunction('codeAutomationExit', (code) => done(code));
    page.on('console', (msg) => {
      const parts = msg.args().map((a) => a.toString().replace(/^JSHandle@/, ''));
      if (parts[0]?.startsWith('%c')) parts.splice(0, 2);
      const text = parts.length ? util.format(...parts) : '';
      if (text.startsWith('KD-HOST-RESULT ')) result = JSON.parse(text.slice(15));
      else if (/^\s+[✔✘]/.test(text)) console.log(text);
    });
    const probe = path.join(root, 'test', 'vsix-probe');
    await page.goto(workbenchUrl(server, { folder: workspace, extensionDevelopmentPath: probe, extensionTestsPath: path.join(probe, 'index.js') }));
    let timer;
    const code = await Promise.race([exited, new Promise((r) => (timer = setTimeout(() => r('timeout'), 5 * 60_000)))]);
    clearTimeout(timer);
    if (code !== 0) console.error(`[test-vsix] probe exit ${code}; server log ${server.logFile}`);
  } finally {
    await browser.close();
    await server.stop();
    for (const d of [extensionsDir, configDir, workspace, server.dirs.base]) fs.rmSync(d, { recursive: true, force: true });
  }
  record(result?.passed ?? 0, result ? result.failed : 1);
  process.exitCode = result && result.failed === 0 && result.passed > 0 ? 0 : 1;
}

main().catch((err) => {
  console.error(`[test-vsix] ${err.message}`);
  record(0, 1);
  process.exitCode = 1;
});

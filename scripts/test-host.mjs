#!/usr/bin/env node
// Runs test/host (mocha inside the extension host of a real VS Code: code-server 4.100.3 driven by
// headless Chromium). The extension loads from the working tree through the `payload` URL parameter; the
// exit code arrives through `window.codeAutomationExit`. Then a self-check: a deliberately failing
// fixture must make the same runner report failure, so a broken harness cannot pass silently.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import util from 'node:util';
import { fileURLToPath } from 'node:url';
import { bundleTests } from './lib/bundle-tests.mjs';
import { launchBrowser, startCodeServer, workbenchUrl } from './lib/code-server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const skipBuild = args.includes('--no-build');
const skipSelfCheck = args.includes('--no-self-check');
const grep = args.find((a) => a.startsWith('--grep='))?.slice('--grep='.length);
const resultsDir = path.join(root, 'test-results', 'host');

function formatConsole(msg) {
  const parts = msg.args().map((a) => a.toString().replace(/^JSHandle@/, ''));
  // The extension host's console arrives as ('%c INFO', 'color: …', format, ...args).
  if (parts[0]?.startsWith('%c')) parts.splice(0, 2);
  return parts.length ? util.format(...parts) : '';
}

/** Runs one compiled test bundle in a fresh code-server + browser page; resolves with the outcome. */
export async function runInHost({ testsDir, label, workspaceTemplate, timeoutMs = 15 * 60_000, env = {}, trust = true }) {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), `kd-ws-${label}-`));
  if (workspaceTemplate && fs.existsSync(workspaceTemplate)) fs.cpSync(workspaceTemplate, workspace, { recursive: true });
  const server = await startCodeServer({ label, trust, env: { KD_TEST_WORKSPACE: workspace, ...env } });
  const browser = await launchBrowser(label);
  const lines = [];
  let result;
  try {
    const page = await browser.context.newPage();
    let resolveExit;
    const exited = new Promise((r) => (resolveExit = r));
    await page.exposeFunction('codeAutomationExit', (code) => resolveExit(code));
    page.on('console', async (msg) => {
      const text = await Promise.resolve(formatConsole(msg)).catch(() => msg.text());
      if (!text) return;
      lines.push(text);
      if (text.startsWith('KD-HOST-RESULT ')) result = JSON.parse(text.slice('KD-HOST-RESULT '.length));
      if (process.env.KD_VERBOSE || /passing|failing|✔|✓|[0-9]+\)|Error|KD-HOST/.test(text)) console.log(`  [${label}] ${text}`);
    });
    page.on('pageerror', (err) => lines.push(`pageerror: ${err.message}`));
    const url = workbenchUrl(server, {
      folder: workspace,
      extensionDevelopmentPath: root,
      extensionTestsPath: path.join(testsDir, 'index.js'),
    });
    await page.goto(url);
    let timer;
    const code = await Promise.race([
      exited,
      new Promise((r) => (timer = setTimeout(() => r('timeout'), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (code === 'timeout') {
      fs.mkdirSync(resultsDir, { recursive: true });
      const shot = path.join(resultsDir, `${label}-timeout.png`);
      await page.screenshot({ path: shot }).catch(() => undefined);
      console.error(`[test-host] ${label}: no exit code within ${timeoutMs / 1000} s; screenshot ${shot}`);
    }
    const ok = code === 0;
    const serverLog = path.join(resultsDir, `${label}-code-server.log`);
    if (!ok) {
      fs.mkdirSync(resultsDir, { recursive: true });
      fs.copyFileSync(server.logFile, serverLog);
    }
    return { code: code === 'timeout' ? 124 : code, result, lines, serverLog };
  } finally {
    await browser.close();
    await server.stop();
    fs.rmSync(server.dirs.base, { recursive: true, force: true });
    fs.rmSync(workspace, { recursive: true, force: true });
  }
}

async function main() {
  if (!skipBuild) execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { stdio: 'inherit', cwd: root });
  const outDir = path.join(root, 'out', 'host');
  const files = await bundleTests({ root, entry: 'test/host/index.ts', suiteGlobDir: 'test/host/suite', outDir });
  console.log(`[test-host] ${files.length} suite file(s) compiled`);
  const started = Date.now();
  const main = await runInHost({
    testsDir: outDir,
    label: 'host',
    workspaceTemplate: path.join(root, 'test', 'fixtures', 'workspace'),
    env: grep ? { KD_HOST_GREP: grep } : {},
  });
  const counts = main.result ?? { passed: 0, failed: 0 };
  let failed = counts.failed;
  let ok = main.code === 0 && counts.failed === 0 && counts.passed > 0;
  if (!ok) {
    fs.mkdirSync(resultsDir, { recursive: true });
    const logCopy = main.serverLog;
    fs.writeFileSync(path.join(resultsDir, 'console.log'), main.lines.join('\n'));
    console.error(`[test-host] FAILED (exit ${main.code}); console: ${path.join(resultsDir, 'console.log')}; server log: ${logCopy}`);
    if (!main.result) failed = Math.max(1, failed);
  }
  console.log(`[test-host] main suite: exit ${main.code} in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  let selfCheckPassed = 0;
  if (!skipSelfCheck) {
    const failOut = path.join(root, 'out', 'host-failing');
    await bundleTests({ root, entry: 'test/host/index.ts', suiteGlobDir: 'test/host/failing', outDir: failOut });
    const check = await runInHost({ testsDir: failOut, label: 'host-selfcheck', workspaceTemplate: path.join(root, 'test', 'fixtures', 'workspace'), timeoutMs: 5 * 60_000 });
    if (check.code !== 0 && check.result?.failed === 1) {
      selfCheckPassed = 1;
      console.log(`[test-host] self-check: the deliberately failing fixture made the runner exit ${check.code} (as it must)`);
    } else {
      failed += 1;
      ok = false;
      console.error(`[test-host] self-check FAILED: the failing fixture gave exit ${check.code}, result ${JSON.stringify(check.result)}`);
    }
  }
  const passed = counts.passed + selfCheckPassed;
  console.log(`host: ${passed} passed, ${failed} failed${counts.pending ? `, ${counts.pending} skipped` : ''}`);
  fs.mkdirSync(path.join(root, 'test-results'), { recursive: true });
  fs.writeFileSync(path.join(root, 'test-results', 'host.json'), JSON.stringify({ passed, failed, pending: counts.pending ?? 0 }));
  process.exitCode = ok ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err) => {
    console.error(`[test-host] ${err.stack ?? err}`);
    process.exitCode = 1;
  });
}

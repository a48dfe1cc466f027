// `npm start` as a user runs it: the printed URL serves a workbench where Kube Delivery is active and shows
// the environments of examples/ from the seeded sandbox; Ctrl-C stops every process it started.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { launchBrowser } from '../../../scripts/lib/code-server.mjs';
import { repoRoot, resultsDir, UI_TIMEOUT } from '../harness';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm start', function () {
  this.timeout(240_000);
  let proc: ChildProcess | undefined;
  let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
  let page: Page;
  let output = '';

  after(async () => {
    await browser?.close();
    if (proc?.pid && alive(proc.pid)) process.kill(-proc.pid, 'SIGKILL');
  });

  it('serves a workbench with the extension active and the examples environments', async () => {
    const started = Date.now();
    proc = spawn(process.execPath, [path.join(repoRoot, 'scripts', 'start.mjs'), '--no-build', '--port', '0'], {
      cwd: repoRoot,
      detached: true,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout!.on('data', (d) => (output += d));
    proc.stderr!.on('data', (d) => (output += d));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL within 90 s:\n${output}`)), 90_000);
      proc!.stdout!.on('data', () => {
        const m = /(http:\/\/127\.0\.0\.1:\d+\/\?folder=\S+)/.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      proc!.once('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${output}`)));
    });
    assert.match(output, /Open Kube Delivery in your browser/);
    browser = await launchBrowser('start');
    page = await browser.context.newPage();
    await page.goto(url);
    await page.locator('.monaco-workbench').waitFor({ timeout: UI_TIMEOUT });
    const icon = page.locator('.activitybar .action-item a[aria-label^="Kube Delivery"]').first();
    await icon.waitFor({ timeout: UI_TIMEOUT });
    await icon.click();
    // The tree lists the environments of examples/ (every example has a "staging" environment).
    await page.locator('.sidebar .monaco-list-row .label-name', { hasText: 'staging' }).first().waitFor({ timeout: UI_TIMEOUT });
    const seconds = (Date.now() - started) / 1000;
    fs.mkdirSync(resultsDir, { recursive: true });
    await page.screenshot({ path: path.join(resultsDir, 'start-environments.png') });
    console.log(`      workbench with the extension active ${seconds.toFixed(1)} s after npm start`);
  });

  it('stops everything it started on Ctrl-C', async () => {
    assert.ok(proc?.pid);
    const children = fs
      .readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .filter((d) => {
        try {
          // Direct children of start.mjs: the sandbox and code-server (each leading its own group).
          return fs.readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ')[1] === String(proc!.pid);
        } catch {
          return false;
        }
      })
      .map(Number);
    const exited = new Promise<number | null>((r) => proc!.once('exit', (c) => r(c)));
    process.kill(proc.pid, 'SIGINT');
    assert.equal(await exited, 0, output);
    assert.ok(children.length >= 2, `expected the sandbox and code-server as children, found ${children.length}`);
    const survivors = children.filter(alive);
    assert.deepEqual(survivors, [], `processes left running: ${survivors.join(', ')}`);
  });
});

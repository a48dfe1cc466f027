// A user's view of the extension: a real VS Code (code-server 4.100.3) with the extension loaded from the
// working tree, driven through headless Chromium. Selectors follow ../shared/docs/real-vscode-offline.md.
// Every wait is on a visible condition with a generous deadline (2 shared cores).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { launchBrowser, startCodeServer, workbenchUrl, type CodeServer } from '../../scripts/lib/code-server.mjs';
import { startSandbox, type Sandbox } from '../../src/sandbox/index';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const resultsDir = path.join(repoRoot, 'test-results', 'ui');
/** Deadline for anything a user waits for in the workbench. */
export const UI_TIMEOUT = 60_000;
/** Deadline for a rollout to get somewhere: a stage with analysis takes minutes of cluster time on 2 shared cores. */
export const ROLLOUT_TIMEOUT = 240_000;

export interface WorkbenchOptions {
  /** Folder copied to a temp workspace (default: test/fixtures/workspace). */
  workspaceTemplate?: string;
  /** false = restricted mode (workspace trust enabled and the folder untrusted). */
  trust?: boolean;
  settings?: Record<string, unknown>;
  env?: Record<string, string>;
  label?: string;
}

export class Workbench {
  private constructor(
    readonly server: CodeServer,
    readonly browser: { context: BrowserContext; close(): Promise<void> },
    readonly page: Page,
    readonly workspace: string,
    readonly url: string,
    readonly label: string,
  ) {}

  static async open(opts: WorkbenchOptions = {}): Promise<Workbench> {
    const label = opts.label ?? 'ui';
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), `kd-uiws-${label}-`));
    const template = opts.workspaceTemplate ?? path.join(repoRoot, 'test', 'fixtures', 'workspace');
    if (fs.existsSync(template)) fs.cpSync(template, workspace, { recursive: true });
    const server = await startCodeServer({ label, trust: opts.trust, settings: opts.settings, env: opts.env });
    const browser = await launchBrowser(label);
    const page = await browser.context.newPage();
    const url = workbenchUrl(server, { folder: workspace, extensionDevelopmentPath: repoRoot });
    const wb = new Workbench(server, browser, page, workspace, url, label);
    await wb.load(page);
    return wb;
  }

  /** Loads the workbench in a page and waits until it is usable. */
  async load(page: Page): Promise<void> {
    await page.goto(this.url);
    await page.locator('.monaco-workbench').waitFor({ timeout: UI_TIMEOUT });
    await page.locator('.activitybar').waitFor({ timeout: UI_TIMEOUT });
  }

  /** A second browser page on the same workbench URL (another window on the same rollout). */
  async newPage(): Promise<Page> {
    const page = await this.browser.context.newPage();
    await this.load(page);
    return page;
  }

  async screenshot(name: string, page: Page = this.page): Promise<string> {
    fs.mkdirSync(resultsDir, { recursive: true });
    const file = path.join(resultsDir, `${name}.png`);
    await page.screenshot({ path: file });
    return file;
  }

  /**
   * Shows a view container (by its title), clicking its activity-bar icon when it is not the active one.
   * Decided again until the side bar shows it: right after a window reload the workbench restores its
   * layout while we look, so an icon read as active (checked) once may still end up with the side bar
   * hidden, and a single look then waits for a title that never shows.
   */
  async openViewContainer(title: string, page: Page = this.page): Promise<void> {
    const icon = page.locator(`.activitybar .action-item a[aria-label^="${title}"]`).first();
    await icon.waitFor({ timeout: UI_TIMEOUT });
    const item = icon.locator('xpath=..');
    const heading = page.locator(`.sidebar .composite.title h2[title^="${title}"], .sidebar .title-label h2`).first();
    await until(`the ${title} view container in the side bar`, async () => {
      // The heading locator also matches another container's title: only the checked icon says whose.
      if (!((await item.getAttribute('class')) ?? '').includes('checked')) {
        await icon.click();
        return false;
      }
      return heading.isVisible();
    });
  }

  /** Runs a command from the palette by its title, e.g. "Kube Delivery: Show Log". */
  async runCommand(title: string, page: Page = this.page): Promise<void> {
    await page.locator('.monaco-workbench').click({ position: { x: 700, y: 5 } }).catch(() => undefined);
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await input.fill(`>${title}`);
    const row = page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: title }).first();
    await row.waitFor({ timeout: UI_TIMEOUT });
    await input.press('Enter');
  }

  /** Labels of the rows of the side bar's trees. */
  async treeLabels(page: Page = this.page): Promise<string[]> {
    return page.locator('.sidebar .pane-body .monaco-list-row .label-name').allInnerTexts();
  }

  async notifications(page: Page = this.page): Promise<string[]> {
    return page.locator('.notifications-toasts .notification-toast .notification-list-item-message').allInnerTexts();
  }

  /** The webview's document of the active editor panel. */
  webview(page: Page = this.page) {
    return page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
  }

  async close(keepLogs = false): Promise<void> {
    if (keepLogs) {
      fs.mkdirSync(resultsDir, { recursive: true });
      const log = path.join(resultsDir, `${this.label}-code-server.log`);
      fs.copyFileSync(this.server.logFile, log);
      console.error(`    server log kept: ${log}`);
    }
    await this.browser.close();
    await this.server.stop();
    fs.rmSync(this.server.dirs.base, { recursive: true, force: true });
    fs.rmSync(this.workspace, { recursive: true, force: true });
  }
}

/**
 * Mocha wiring for one workbench per describe block: opens it before, keeps a screenshot and the server
 * log of a failing test (paths printed), closes it after.
 */
export function useWorkbench(opts: WorkbenchOptions = {}): () => Workbench {
  let wb: Workbench | undefined;
  let failed = false;
  before(async function () {
    this.timeout(180_000);
    wb = await Workbench.open(opts);
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && wb) {
      failed = true;
      const name = `${opts.label ?? 'ui'}-FAILED-${(this.currentTest.title || 'test').replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`;
      const shot = await wb.screenshot(name).catch(() => undefined);
      if (shot) console.error(`    screenshot kept: ${shot}`);
    }
  });
  after(async function () {
    this.timeout(60_000);
    await wb?.close(failed);
  });
  return () => {
    if (!wb) throw new Error('workbench not open');
    return wb;
  };
}

/**
 * Polls a condition until it returns something truthy (returned) or the deadline passes. For conditions
 * that have no event to wait on (a tree row's text, the cluster through its API); never a fixed sleep.
 */
export async function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = UI_TIMEOUT): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Chooses an item of the open QuickPick by typing its label, as a keyboard user does. */
export async function pickItem(page: Page, label: string): Promise<void> {
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  const byLabel = page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(label)}$`) });
  const row = page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { has: byLabel }).first();
  // Wait for the step's own items before typing (the previous step's list may still be showing).
  await row.waitFor({ state: 'attached', timeout: UI_TIMEOUT });
  await input.fill(label);
  await page.locator('.quick-input-widget .quick-input-list .monaco-list-row.focused', { has: byLabel }).waitFor({ timeout: UI_TIMEOUT });
  await input.press('Enter');
}

/**
 * Answers an input box step: waits until the quick input shows that step (its prefilled value matches
 * `prefill`), types `value` (if any) and accepts it once the box holds it. VS Code reuses one quick-input
 * widget for every step, so the previous step's input is already "visible": typing before the new step
 * is shown would go to the old step and Enter would then accept the new step's default.
 */
export async function answerInputBox(page: Page, prefill: RegExp, value?: string): Promise<void> {
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await until(`the input step prefilled with ${prefill}`, async () => prefill.test(await input.inputValue().catch(() => '')), UI_TIMEOUT);
  if (value !== undefined) {
    await input.fill(value);
    await until(`the input holding ${value}`, async () => (await input.inputValue().catch(() => '')) === value, UI_TIMEOUT);
  }
  await input.press('Enter');
  await input.waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
}

/**
 * Waits until the extension is up and has read a kubeconfig that knows the deploy files' contexts: the
 * Environments tree lists `environment` (without a known context it shows the sandbox welcome instead).
 */
export async function extensionReady(wb: Workbench, environment = 'staging', page: Page = wb.page): Promise<void> {
  await wb.openViewContainer('Kube Delivery', page);
  await page.locator('.sidebar .monaco-list-row .label-name', { hasText: new RegExp(`^${escapeRegExp(environment)}$`) }).first().waitFor({ timeout: UI_TIMEOUT });
}

/** The tree row of `pipeline` under `environment` (level 2 under the level-1 environment row), expanding it. */
export async function pipelineRow(page: Page, environment: string, pipeline: string): Promise<Locator> {
  const rows = page.locator('.sidebar .monaco-list-row');
  const envRow = rows.filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(environment)}$`) }) }).first();
  await envRow.waitFor({ timeout: UI_TIMEOUT });
  if ((await envRow.getAttribute('aria-expanded')) === 'false') await envRow.click();
  return until(`row ${pipeline} under ${environment}`, async () => {
    let inEnv = false;
    for (const r of await rows.all()) {
      const level = await r.getAttribute('aria-level');
      const label = (await r.locator('.label-name').first().innerText().catch(() => '')).trim();
      if (level === '1') inEnv = label === environment;
      else if (inEnv && level === '2' && label === pipeline) return r;
    }
    return undefined;
  });
}

/** The description (grey text) of a tree row. */
export async function rowDescription(row: Locator): Promise<string> {
  return (await row.locator('.label-description').first().innerText().catch(() => '')).trim();
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export interface SandboxWorkbench {
  /** The open workbench (after the suite's `before` hooks). */
  wb: () => Workbench;
  /** The running sandbox (after the suite's `before` hooks). */
  sandbox: () => Sandbox;
  /** The copy of examples/ the sandbox was seeded from and the workbench opened. */
  workspace: string;
  /** The sandbox's kubeconfig, handed to the extension through `kubeDelivery.kubeconfig`. */
  kubeconfigPath: string;
}

/**
 * The fixture most UI suites share: a copy of examples/ (changed by `prepare` first), a sandbox seeded
 * from it, and a workbench on that copy whose `kubeDelivery.kubeconfig` setting points at the sandbox;
 * all of it removed after the suite. Call it inside `describe`.
 */
export function useSandboxWorkbench(opts: { label: string; speed?: number; prepare?: (workspace: string) => void; settings?: Record<string, unknown>; env?: (workspace: string) => WorkbenchOptions['env'] }): SandboxWorkbench {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), `kd-ui-${opts.label}-ws-`));
  fs.cpSync(path.join(repoRoot, 'examples'), workspace, { recursive: true });
  opts.prepare?.(workspace);
  const kubeconfigPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), `kd-ui-${opts.label}-kc-`)), 'config');
  let sb: Sandbox | undefined;
  before(async function () {
    this.timeout(120_000);
    sb = await startSandbox({ port: 0, speed: opts.speed, seed: workspace, kubeconfigPath, contextName: 'sandbox' });
  });
  const wb = useWorkbench({ label: opts.label, workspaceTemplate: workspace, env: opts.env?.(workspace), settings: { 'kubeDelivery.kubeconfig': kubeconfigPath, ...opts.settings } });
  after(async () => {
    await sb?.close();
    fs.rmSync(workspace, { recursive: true, force: true });
    fs.rmSync(path.dirname(kubeconfigPath), { recursive: true, force: true });
  });
  return {
    wb,
    sandbox: () => {
      if (!sb) throw new Error('sandbox not started');
      return sb;
    },
    workspace,
    kubeconfigPath,
  };
}

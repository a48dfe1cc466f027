// The Environments tree as a user drives it in the real workbench, against a sandbox cluster this test
// starts (twenty times real time) and points the extension at through the `kubeDelivery.kubeconfig`
// setting, checking the cluster through its Kubernetes API:
// - open the sidebar and see the environments of examples/;
// - start a canary from the tree's context menu, watch the pipeline's description advance, see the
//   badge while it waits for promotion, promote with the inline action, and it completes;
// - a failing image rolls back on its own and the Problems panel shows the gate's diagnostic;
// - a second browser page on the same rollout observes it live and aborts it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import type { Sandbox } from '../../../src/sandbox/index';
import { answerInputBox, pipelineRow, repoRoot, ROLLOUT_TIMEOUT, rowDescription, UI_TIMEOUT, until, useSandboxWorkbench, type Workbench } from '../harness';

async function stableImage(sb: Sandbox, ns: string, name: string): Promise<string | undefined> {
  const res = await fetch(`${sb.url}/apis/apps/v1/namespaces/${ns}/deployments/${name}`);
  if (!res.ok) return undefined;
  const d = (await res.json()) as { spec: { template: { spec: { containers: { image: string }[] } } } };
  return d.spec.template.spec.containers[0].image;
}

async function deploymentExists(sb: Sandbox, ns: string, name: string): Promise<boolean> {
  const res = await fetch(`${sb.url}/apis/apps/v1/namespaces/${ns}/deployments/${name}`);
  return res.ok;
}

/** Waits until the row's description matches, returning every distinct description seen on the way. */
async function waitDescription(page: Page, env: string, pipeline: string, re: RegExp, seen: string[] = [], timeoutMs = ROLLOUT_TIMEOUT): Promise<string[]> {
  await until(`${pipeline} in ${env}: description ${re}`, async () => {
    const d = await rowDescription(await pipelineRow(page, env, pipeline));
    if (d && seen.at(-1) !== d) seen.push(d);
    return re.test(d);
  }, timeoutMs);
  return seen;
}

async function contextMenu(page: Page, row: Locator, item: string): Promise<void> {
  await page.keyboard.press('Escape');
  await row.click({ button: 'right' });
  // Choose with the keyboard, as a live tree may re-render under the pointer: move the menu's focus
  // to the entry, then Enter.
  const menu = page.locator('.context-view .monaco-menu').filter({ visible: true }).first();
  await menu.waitFor({ timeout: UI_TIMEOUT });
  const focused = menu.locator('.action-item.focused .action-label');
  for (let i = 0; i < 12; i++) {
    const label = (await focused.first().innerText().catch(() => '')).trim();
    if (label.startsWith(item)) {
      await page.keyboard.press('Enter');
      return;
    }
    await page.keyboard.press('ArrowDown');
  }
  throw new Error(`no "${item}" in the context menu`);
}

async function inlineAction(row: Locator, title: string): Promise<void> {
  await row.hover();
  const action = row.locator(`.actions .action-label[aria-label^="${title}"]`).first();
  await action.waitFor({ timeout: UI_TIMEOUT });
  await action.click();
}

/** Answers the image step of Start Rollout (prefilled with the deploy file's image). */
async function acceptImage(page: Page, image?: string): Promise<void> {
  await answerInputBox(page, /^registry\.example\.com\//, image);
}

async function badge(page: Page): Promise<string> {
  const b = page.locator('.activitybar .action-item:has(a[aria-label^="Kube Delivery"]) .badge .badge-content').first();
  if (!(await b.count())) return '';
  return (await b.innerText().catch(() => '')).trim();
}

describe('Environments tree in the workbench', function () {
  this.timeout(900_000);
  const fx = useSandboxWorkbench({ label: 'surfaces', speed: 20 });
  const wb = fx.wb;

  it('shows the environments and pipelines of examples/', async () => {
    const w: Workbench = wb();
    await w.openViewContainer('Kube Delivery');
    const labels = await until('environments in the tree', async () => {
      const l = await w.treeLabels();
      return l.includes('staging') && l.includes('production') && l.includes('checkout') ? l : undefined;
    }, UI_TIMEOUT);
    for (const p of ['hello', 'checkout', 'payments', 'search', 'profile']) assert.ok(labels.includes(p), `${p} in ${labels.join(', ')}`);
    const row = await pipelineRow(w.page, 'staging', 'checkout');
    await until('checkout status', async () => /no rollout yet|idle|healthy/.test(await rowDescription(row)));
    await w.screenshot('surfaces-tree');
  });

  it('starts a canary from the context menu, badges the wait, promotes inline, and completes', async () => {
    const w = wb();
    const page = w.page;
    const row = await pipelineRow(page, 'staging', 'checkout');
    await contextMenu(page, row, 'Start Rollout');
    await acceptImage(page, 'registry.example.com/checkout:1.9.0');
    const seen = await waitDescription(page, 'staging', 'checkout', /waiting for (promotion|you)|promot/i);
    assert.ok(seen.length >= 2, `the description advanced: ${seen.join(' → ')}`);
    await until('badge 1', async () => (await badge(page)) === '1', UI_TIMEOUT);
    // README shows this moment: a canary waiting for promotion, badge and status bar included.
    const shot = await w.screenshot('surfaces-waiting');
    fs.mkdirSync(path.join(repoRoot, 'media', 'screenshots'), { recursive: true });
    fs.copyFileSync(shot, path.join(repoRoot, 'media', 'screenshots', 'environments.png'));
    await inlineAction(await pipelineRow(page, 'staging', 'checkout'), 'Promote to Next Stage');
    await waitDescription(page, 'staging', 'checkout', /healthy|succeeded/i, seen);
    assert.equal(await stableImage(fx.sandbox(), 'checkout-staging', 'checkout'), 'registry.example.com/checkout:1.9.0');
    await until('badge cleared', async () => (await badge(page)) === '', UI_TIMEOUT);
  });

  it('rolls a failing image back on its own and shows the failed gate in Problems', async () => {
    const w = wb();
    const page = w.page;
    await contextMenu(page, await pipelineRow(page, 'staging', 'checkout'), 'Start Rollout');
    await acceptImage(page, 'registry.example.com/checkout:2.0.0-errors');
    await waitDescription(page, 'staging', 'checkout', /rolled back/i);
    assert.equal(await stableImage(fx.sandbox(), 'checkout-staging', 'checkout'), 'registry.example.com/checkout:1.9.0');
    await w.runCommand('View: Focus Problems (Errors, Warnings, Infos)');
    const problem = page.locator('.markers-panel .monaco-list-row', { hasText: 'rolled back' }).first();
    await problem.waitFor({ timeout: UI_TIMEOUT });
    assert.match(await problem.innerText(), /rolled back: .*(success rate|latency).*check \d+ of \d+ at \d\d:\d\d/);
    await w.screenshot('surfaces-rolled-back');
  });

  it('a second window observes the rollout live and can abort it', async () => {
    const w = wb();
    const page = w.page;
    await contextMenu(page, await pipelineRow(page, 'staging', 'checkout'), 'Start Rollout');
    await acceptImage(page, 'registry.example.com/checkout:2.1.0');
    const other = await w.newPage();
    // The second window may restore the Kube Delivery side bar already open: click only if it is not.
    const shown = await other.locator('.sidebar .monaco-list-row .label-name', { hasText: /^staging$/ }).first().waitFor({ timeout: 20_000 }).then(() => true, () => false);
    if (!shown) await w.openViewContainer('Kube Delivery', other);
    const seenOther = await waitDescription(other, 'staging', 'checkout', /stage \d+\/\d+/);
    assert.ok(seenOther.length >= 1);
    await until('canary exists', async () => deploymentExists(fx.sandbox(), 'checkout-staging', 'checkout-canary'), ROLLOUT_TIMEOUT);
    await inlineAction(await pipelineRow(other, 'staging', 'checkout'), 'Abort Rollout');
    await waitDescription(other, 'staging', 'checkout', /aborted/i);
    await waitDescription(page, 'staging', 'checkout', /aborted/i);
    assert.equal(await stableImage(fx.sandbox(), 'checkout-staging', 'checkout'), 'registry.example.com/checkout:1.9.0');
    await w.screenshot('surfaces-aborted-from-second-window', other);
    await other.close();
  });
});

// The rollout dashboard as a user sees it in the real workbench, against a sandbox cluster this test
// starts itself (so it can check the cluster through the Kubernetes API) and points the extension at
// through the `kubeDelivery.kubeconfig` setting:
// - open the dashboard of a pipeline from the Environments tree's inline action; it comes back after
//   a window reload;
// - a running canary: header, stage and weights read from the webview's DOM; the chart's data advance;
//   Promote clicked inside the webview advances the stage in the cluster; a screenshot for README;
// - a failing canary shows the failed check with its value against the threshold.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import type { Sandbox } from '../../../src/sandbox/index';
import { answerInputBox, extensionReady, pickItem, pipelineRow, repoRoot, ROLLOUT_TIMEOUT, UI_TIMEOUT, until, useSandboxWorkbench, type Workbench } from '../harness';

/** Reads an object from the sandbox's API (its kubeconfig carries no credentials). */
async function getObject(sb: Sandbox, apiPath: string): Promise<Record<string, unknown> | undefined> {
  const res = await fetch(`${sb.url}${apiPath}`);
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`GET ${apiPath}: HTTP ${res.status}`);
  return (await res.json()) as Record<string, unknown>;
}

async function deployment(sb: Sandbox, ns: string, name: string): Promise<{ replicas: number; image: string } | undefined> {
  const d = (await getObject(sb, `/apis/apps/v1/namespaces/${ns}/deployments/${name}`)) as
    | { spec: { replicas?: number; template: { spec: { containers: { image: string }[] } } } }
    | undefined;
  if (!d) return undefined;
  return { replicas: d.spec.replicas ?? 1, image: d.spec.template.spec.containers[0].image };
}

/** Opens the dashboard of `pipeline` in `environment` with the tree row's inline action. */
async function openFromTree(wb: Workbench, environment: string, pipeline: string): Promise<void> {
  const page = wb.page;
  await wb.openViewContainer('Kube Delivery');
  const row = await pipelineRow(page, environment, pipeline);
  await row.hover();
  await row.locator('.actions .action-label[aria-label^="Open Dashboard"]').click();
  // While a live rollout re-renders its row, the click can reach the command without the row's target
  // and the command then asks with its QuickPick: answer it the way a user would.
  const tab = page.locator('.tabs-container .tab', { hasText: `Rollout: ${pipeline} → ${environment}` });
  const asked = page.locator('.quick-input-widget .quick-input-title', { hasText: 'Open Dashboard' });
  await Promise.race([tab.waitFor({ timeout: UI_TIMEOUT }), asked.waitFor({ timeout: UI_TIMEOUT })]);
  if (await asked.isVisible()) {
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.fill(`${pipeline} → ${environment}`);
    await input.press('Enter');
  }
}

async function dashboard(page: Page, pipeline: string, environment: string): Promise<FrameLocator> {
  // The dashboard is the active editor: its page is the inner frame of the ready webview.
  const tab = page.locator('.tabs-container .tab', { hasText: `Rollout: ${pipeline} → ${environment}` });
  await tab.waitFor({ timeout: UI_TIMEOUT });
  const frame = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
  await frame.locator('#app').waitFor({ timeout: UI_TIMEOUT });
  return frame;
}

async function text(frame: FrameLocator, testId: string): Promise<string> {
  return (await frame.locator(`[data-testid="${testId}"]`).first().innerText()).trim();
}

describe('rollout dashboard in the workbench', function () {
  this.timeout(900_000);
  // Twenty times real time: analysis checks scheduled every minute come every three seconds. The
  // sandbox's kubeconfig reaches the extension through the setting, which must survive the reload of the
  // first test (settings.test.ts checks that on its own).
  const fx = useSandboxWorkbench({ label: 'dashboard', speed: 20, settings: { 'window.restoreWindows': 'all' } });
  const wb = fx.wb;

  it('opens from the tree and comes back after a window reload', async () => {
    const w = wb();
    await openFromTree(w, 'staging', 'checkout');
    let frame = await dashboard(w.page, 'checkout', 'staging');
    // Whatever the engine says yet (loading, a snapshot, or why it cannot reach the cluster), the page
    // names its rollout.
    await until('the page to name its rollout', async () => /checkout/.test(await frame.locator('#app').innerText()), UI_TIMEOUT);
    // Reload as a user does (the command lets the workbench save its editors first; a bare page reload
    // may not).
    const loaded = w.page.waitForEvent('load', { timeout: UI_TIMEOUT });
    await w.runCommand('Developer: Reload Window');
    await loaded;
    await w.page.locator('.monaco-workbench').waitFor({ timeout: UI_TIMEOUT });
    frame = await dashboard(w.page, 'checkout', 'staging');
    await until('the restored page to name its rollout', async () => /checkout/.test(await frame.locator('#app').innerText()), UI_TIMEOUT);
    assert.doesNotMatch(await frame.locator('#app').innerText(), /could not be restored/);
  });

  it('shows a running canary; the chart advances; Promote in the webview advances the stage in the cluster', async () => {
    const w = wb();
    const page = w.page;
    // Start the canary as a user does: the palette's multi-step Start Rollout.
    await extensionReady(w);
    // A dashboard restored by the previous test's reload takes focus when its webview finishes loading,
    // which closes an open QuickPick: let it finish first.
    if ((await page.locator('.tabs-container .tab', { hasText: 'Rollout: checkout → staging' }).count()) > 0) {
      await dashboard(page, 'checkout', 'staging');
    }
    await w.runCommand('Kube Delivery: Start Rollout');
    const pick = (label: string) => pickItem(page, label);
    await pick('checkout');
    await pick('staging');
    // Accept the deploy file's image once the image step shows it.
    await answerInputBox(page, /^registry\.example\.com\/checkout:/);

    await openFromTree(w, 'staging', 'checkout');
    const frame = await dashboard(page, 'checkout', 'staging');
    // Header from the webview's DOM.
    // The panel may have shown the idle pipeline before: wait for the new run in the header.
    await until('the run in the header', async () => /checkout:1\.8\.0/.test(await text(frame, 'to-image').catch(() => '')), UI_TIMEOUT);
    assert.equal((await frame.locator('#title').innerText()).trim(), 'checkout');
    assert.equal(await text(frame, 'environment'), 'staging');
    assert.match(await text(frame, 'strategy'), /Canary · replicas/);
    assert.match(await text(frame, 'to-image'), /checkout:1\.8\.0/);
    // The manual stage 2 (canary 50%) is reached once stage 1's analysis passed.
    const points0 = Number(await frame.locator('[data-testid="traffic-chart"]').getAttribute('data-points'));
    await until('stage 2 of 3 waiting for promotion', async () => /stage 2 of 3/.test(await text(frame, 'stage')) && /Waiting/.test(await text(frame, 'status')), ROLLOUT_TIMEOUT);
    assert.match(await text(frame, 'weights'), /^Actual: canary 50% · baseline 10% · stable 40%/);
    const points1 = Number(await frame.locator('[data-testid="traffic-chart"]').getAttribute('data-points'));
    assert.ok(points1 > points0, `the chart's data advanced (${points0} → ${points1} points)`);
    assert.equal(await frame.locator('[data-testid="weights"]').getAttribute('data-canary'), '50');
    // The cluster agrees: half of the 10 pods run the canary.
    await until('checkout-canary at 5 replicas', async () => (await deployment(fx.sandbox(), 'checkout-staging', 'checkout-canary'))?.replicas === 5, UI_TIMEOUT);
    // While it waits the chart's right edge follows the clock: let it show half a minute of stage 2.
    const chart = frame.locator('[data-testid="traffic-chart"]');
    const until0 = Number(await chart.getAttribute('data-until'));
    await until('the chart to follow the clock', async () => Number(await chart.getAttribute('data-until')) >= until0 + 30, UI_TIMEOUT);
    fs.mkdirSync(path.join(repoRoot, 'media', 'screenshots'), { recursive: true });
    await page.screenshot({ path: path.join(repoRoot, 'media', 'screenshots', 'dashboard.png') });

    // Promote from inside the webview.
    const promote = frame.locator('button[data-action="promote"]');
    assert.equal(await promote.getAttribute('aria-disabled'), null, 'Promote is enabled at a manual gate');
    await promote.click();
    await until('stage 3 in the cluster', async () => {
      const canary = await deployment(fx.sandbox(), 'checkout-staging', 'checkout-canary');
      const stable = await deployment(fx.sandbox(), 'checkout-staging', 'checkout');
      // Stage 3 sends all traffic to the canary; after its check the stable Deployment runs the new image.
      return (canary?.replicas ?? 0) >= 10 || /checkout:1\.8\.0$/.test(stable?.image ?? '');
    }, ROLLOUT_TIMEOUT);
    await until('the dashboard shows stage 3 or success', async () => /stage 3 of 3/.test(await text(frame, 'stage')) || /Succeeded/.test(await text(frame, 'status')), ROLLOUT_TIMEOUT);
  });

  it('a failing canary shows the failed check with its value against the threshold', async () => {
    const w = wb();
    const page = w.page;
    await extensionReady(w);
    await w.runCommand('Kube Delivery: Start Rollout');
    const pick = (label: string) => pickItem(page, label);
    await pick('search');
    await pick('staging');
    // The image step comes prefilled with the deploy file's image. The sandbox answers 12 % of this
    // image's requests with HTTP 500.
    await answerInputBox(page, /^registry\.example\.com\/search:/, 'registry.example.com/search:5.0.1-errors');
    await openFromTree(w, 'staging', 'search');
    const frame = await dashboard(page, 'search', 'staging');
    const failure = frame.locator('[data-testid="failed-check"]');
    await until('the failed check', async () => (await failure.isVisible()) && (await failure.innerText()), ROLLOUT_TIMEOUT);
    const line = await failure.innerText();
    assert.match(line, /success rate (\d+(\.\d+)?)% against threshold ≥ 99%/);
    const measured = Number(/success rate (\d+(?:\.\d+)?)%/.exec(line)![1]);
    assert.ok(measured < 99, `measured ${measured}% is below the threshold`);
    const row = frame.locator('[data-testid="checks"] tr[data-verdict="fail"]').first();
    assert.match(await row.innerText(), /FAIL/);
    await until('rolled back', async () => /Rolled back|Failed/.test(await text(frame, 'status')), ROLLOUT_TIMEOUT);
  });
});

// The Testing view as a user drives it in the real workbench, against a sandbox cluster this test starts:
// a blue-green run waits at its manual switch after its preview test passed; the user runs that test
// again from the Test Explorer; a second Job runs in the cluster and the item shows the new attempt's
// verdict.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { answerInputBox, extensionReady, pickItem, ROLLOUT_TIMEOUT, UI_TIMEOUT, until, useSandboxWorkbench } from '../harness';

/** The Test Explorer row whose text contains `text`. */
function testRow(page: Page, text: string): Locator {
  return page.locator('.test-explorer .monaco-list-row', { hasText: text }).first();
}

describe('Testing view in the workbench', function () {
  this.timeout(600_000);
  // A manual switch: the run waits after its preview test, for as long as the test takes.
  const fx = useSandboxWorkbench({
    label: 'testing',
    speed: 20,
    prepare: (workspace) => {
      const bg = path.join(workspace, 'blue-green.deploy.yaml');
      fs.writeFileSync(bg, fs.readFileSync(bg, 'utf8').replace('autoPromote: true', 'autoPromote: false'));
    },
  });
  const wb = fx.wb;

  async function jobs(ns: string): Promise<{ name: string; test?: string }[]> {
    const res = await fetch(`${fx.sandbox().url}/apis/batch/v1/namespaces/${ns}/jobs`);
    if (!res.ok) throw new Error(`list jobs: HTTP ${res.status}`);
    const list = (await res.json()) as { items: { metadata: { name: string; labels?: Record<string, string> } }[] };
    return list.items.map((j) => ({ name: j.metadata.name, test: j.metadata.labels?.['kube-delivery.dev/test'] }));
  }

  it('re-runs a rollout test Job from the Test Explorer and shows the new attempt passing', async () => {
    const w = wb();
    const page = w.page;
    await extensionReady(w);
    await w.runCommand('Kube Delivery: Start Rollout');
    await pickItem(page, 'profile');
    await pickItem(page, 'staging');
    // Accept the deploy file's image once the image step shows it.
    await answerInputBox(page, /^registry\.example\.com\/profile:/);
    await until('the preview test Job', async () => (await jobs('profile-staging')).some((j) => j.test === 'preview-smoke'), ROLLOUT_TIMEOUT);

    await w.runCommand('Testing: Focus on Test Explorer View');
    const root = testRow(page, 'profile → staging');
    await root.waitFor({ timeout: ROLLOUT_TIMEOUT });
    if ((await root.getAttribute('aria-expanded')) === 'false') await root.click();
    const row = testRow(page, 'test preview-smoke');
    await row.waitFor({ timeout: UI_TIMEOUT });
    // Its first attempt passed (reported from the run's snapshot stream).
    await until('the first attempt passed', async () => /\(Passed\)/.test((await row.getAttribute('aria-label')) ?? ''), ROLLOUT_TIMEOUT);
    const before = (await jobs('profile-staging')).filter((j) => j.test === 'preview-smoke').map((j) => j.name);

    await row.hover();
    await row.locator('.action-label[aria-label="Run Test"]').first().click();
    await until('a second Job for the test', async () => (await jobs('profile-staging')).some((j) => j.test === 'preview-smoke' && !before.includes(j.name)), ROLLOUT_TIMEOUT);
    // The item reports the new attempt once its verdict streams in.
    await until('attempt 2 passed', async () => /attempt 2/.test(await row.innerText()) && /\(Passed\)/.test((await row.getAttribute('aria-label')) ?? ''), ROLLOUT_TIMEOUT);
    const names = (await jobs('profile-staging')).filter((j) => j.test === 'preview-smoke').map((j) => j.name);
    assert.ok(names.some((n) => /-r2$/.test(n)), names.join(', '));
    await w.screenshot('testing-rerun');
  });
});

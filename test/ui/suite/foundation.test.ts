// What a new user does first: open the Kube Delivery container, see the Environments view and its
// welcome content (no deploy file yet), and run a Kube Delivery command from the palette.
import assert from 'node:assert/strict';
import path from 'node:path';
import { repoRoot, UI_TIMEOUT, useWorkbench } from '../harness';

describe('foundation: the extension in a real workbench', function () {
  this.timeout(240_000);
  const wb = useWorkbench({ label: 'foundation', workspaceTemplate: path.join(repoRoot, 'test', 'fixtures', 'empty-workspace') });

  it('shows the Kube Delivery container with the Environments view and its welcome content', async () => {
    const { page } = wb();
    await wb().openViewContainer('Kube Delivery');
    // With one view in the container VS Code hides the pane header and names the view in the title.
    const title = page.locator('.sidebar .composite.title');
    await title.waitFor({ timeout: UI_TIMEOUT });
    await page.waitForFunction(() => /environments/i.test(document.querySelector('.sidebar')?.textContent ?? ''), undefined, { timeout: UI_TIMEOUT });
    const welcome = page.locator('.sidebar .welcome-view-content');
    await welcome.waitFor({ timeout: UI_TIMEOUT });
    assert.match(await welcome.innerText(), /No deploy file in this workspace yet/);
    const button = welcome.locator('a.monaco-button, .monaco-button', { hasText: 'Create Deploy File' });
    await button.first().waitFor({ timeout: UI_TIMEOUT });
    await wb().screenshot('foundation-welcome');
  });

  it('runs "Kube Delivery: Create Deploy File" from the command palette', async () => {
    const { page } = wb();
    await wb().runCommand('Kube Delivery: Create Deploy File');
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await input.fill('shop');
    await input.press('Enter');
    // The new file opens in an editor tab with the deploy-file language.
    await page.locator('.tabs-container .tab', { hasText: 'shop.deploy.yaml' }).waitFor({ timeout: UI_TIMEOUT });
    await page.locator('.view-lines', { hasText: 'kind: Pipeline' }).first().waitFor({ timeout: UI_TIMEOUT });
    await wb().screenshot('foundation-created');
  });
});

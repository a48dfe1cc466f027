// A user opens an invalid deploy file and reads the error, with its code and position, in the
// Problems panel.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot, UI_TIMEOUT, useWorkbench } from '../harness';

describe('deploy-file problems in the Problems panel', function () {
  this.timeout(240_000);
  const wb = useWorkbench({ label: 'problems' });
  const fixture = fs.readFileSync(path.join(repoRoot, 'test', 'fixtures', 'workspace', 'broken.deploy.yaml'), 'utf8');
  const lines = fixture.split('\n');
  const keyLine = lines.findIndex((l) => l.includes('sucessRate'));
  const keyCol = lines[keyLine].indexOf('sucessRate');

  it('shows the misspelled key with its suggestion, code and position', async () => {
    const { page } = wb();
    // Quick Open the broken fixture, as a user would.
    await page.locator('.monaco-workbench').click({ position: { x: 700, y: 5 } }).catch(() => undefined);
    await page.keyboard.press('Control+P');
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await input.fill('broken.deploy.yaml');
    await page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: 'broken.deploy.yaml' }).first().waitFor({ timeout: UI_TIMEOUT });
    await input.press('Enter');
    await page.locator('.tabs-container .tab', { hasText: 'broken.deploy.yaml' }).waitFor({ timeout: UI_TIMEOUT });
    // The status-bar problems item opens the Problems panel.
    const status = page.locator('#status\\.problems');
    await status.waitFor({ timeout: UI_TIMEOUT });
    await page.waitForFunction(() => /[1-9]/.test(document.querySelector('#status\\.problems')?.textContent ?? ''), undefined, { timeout: UI_TIMEOUT });
    await status.click();
    const row = page.locator('.markers-panel .monaco-list-row', { hasText: 'did you mean `successRate`?' }).first();
    await row.waitFor({ timeout: UI_TIMEOUT });
    const text = await row.innerText();
    assert.match(text, /unknown key `sucessRate` in `analysis`: did you mean `successRate`\?/);
    assert.match(text, /KD052/);
    assert.match(text, new RegExp(`Ln ${keyLine + 1}, Col ${keyCol + 1}`));
    const all = await page.locator('.markers-panel .monaco-list-row').allInnerTexts();
    assert.ok(all.some((t) => /KD101/.test(t) && /weights must sum to 100/.test(t)), all.join('\n'));
    await wb().screenshot('problems-deploy-file');
  });
});

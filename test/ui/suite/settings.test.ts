// The `kubeDelivery.kubeconfig` setting as a code-server user keeps it: in the user settings file
// (code-server's documented place, <user-data-dir>/User/settings.json). The extension must still read it
// after "Developer: Reload Window". (With the setting's former scope `machine-overridable` it did not:
// a code-server window is a remote window, and VS Code ignores machine-scoped values of the local user
// settings there once the extension's configuration is registered, which after a reload happens before
// the settings are read.)
import assert from 'node:assert/strict';
import path from 'node:path';
import { extensionReady, pipelineRow, rowDescription, UI_TIMEOUT, until, useSandboxWorkbench } from '../harness';

describe('the kubeconfig setting in the workbench', function () {
  this.timeout(600_000);
  // No KUBECONFIG in the server's environment: the setting is the only way to the sandbox.
  const fx = useSandboxWorkbench({ label: 'settings', env: (workspace) => ({ KUBECONFIG: path.join(workspace, 'no-such-kubeconfig') }) });
  const wb = fx.wb;

  /** The tree lists the examples' environments and reads checkout's state from the sandbox. */
  async function readsTheSandbox(): Promise<void> {
    const w = wb();
    await extensionReady(w, 'staging');
    const row = await pipelineRow(w.page, 'staging', 'checkout');
    const description = await until('checkout state from the sandbox', async () => {
      const d = await rowDescription(row);
      return /no rollout yet|idle|healthy/.test(d) ? d : undefined;
    });
    assert.doesNotMatch(description, /unreachable|error/i);
    assert.equal(await w.page.locator('.sidebar .welcome-view-content', { hasText: /sandbox/i }).count(), 0, 'no "start a sandbox" welcome');
  }

  it('reads the setting from the user settings file', async () => {
    await readsTheSandbox();
  });

  it('still reads it after Developer: Reload Window', async () => {
    const w = wb();
    const loaded = w.page.waitForEvent('load', { timeout: UI_TIMEOUT });
    await w.runCommand('Developer: Reload Window');
    await loaded;
    await w.page.locator('.monaco-workbench').waitFor({ timeout: UI_TIMEOUT });
    await readsTheSandbox();
  });
});

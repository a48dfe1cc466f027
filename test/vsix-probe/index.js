// Runs inside the extension host of a code-server whose extensions folder holds only the packaged .vsix.
const assert = require('node:assert/strict');
const vscode = require('vscode');

exports.run = async function run() {
  const results = [];
  const check = async (name, fn) => {
    try {
      await fn();
      results.push({ name, ok: true });
      console.log(`  ✔ ${name}`);
    } catch (err) {
      results.push({ name, ok: false });
      console.log(`  ✘ ${name}: ${err.message}`);
    }
  };
  const ext = vscode.extensions.getExtension('kube-delivery.kube-delivery');
  await check('the packaged extension is installed', () => assert.ok(ext, 'kube-delivery.kube-delivery not found'));
  await check('it is installed from the extensions folder, not the working tree', () =>
    assert.ok(!ext.extensionUri.fsPath.startsWith(process.env.KD_REPO_ROOT || '/nonexistent'), ext.extensionUri.fsPath));
  await check('it activates', async () => {
    const api = await ext.activate();
    assert.equal(ext.isActive, true);
    assert.equal(typeof api.activationMs, 'number');
  });
  await check('its commands run', async () => {
    const all = await vscode.commands.getCommands(true);
    assert.ok(all.includes('kubeDelivery.showLog'), 'kubeDelivery.showLog missing');
    await vscode.commands.executeCommand('kubeDelivery.showLog');
  });
  const passed = results.filter((r) => r.ok).length;
  console.log(`KD-HOST-RESULT ${JSON.stringify({ passed, failed: results.length - passed, pending: 0, files: 1 })}`);
  if (passed !== results.length) throw new Error('vsix probe failed');
};

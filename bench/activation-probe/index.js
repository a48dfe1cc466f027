// Runs inside the extension host: activates Kube Delivery (or finds it active, when the workspace's
// deploy file already triggered it) and reports what activation cost and which modules it loaded.
const vscode = require('vscode');

exports.run = async function run() {
  const ext = vscode.extensions.getExtension('kube-delivery.kube-delivery');
  const wasActive = ext.isActive;
  const api = await ext.activate();
  const loaded = api.loadedModules();
  const heavy = loaded.filter((m) => /@kubernetes|lazy-|client-node/.test(m));
  console.log(`KD-BENCH ${JSON.stringify({ activationMs: api.activationMs, activateCallMs: api.activateCallMs, moduleLoadMs: api.moduleLoadMs, wasActive, heavy })}`);
};

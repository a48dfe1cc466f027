// Workspace trust in one place. Every write path asks `isTrusted()`; reading never does. Host tests
// flip the answer with `setTrustOverrideForTests` (reached through the extension's exported API,
// `exports.testing.setTrusted`), because code-server cannot toggle restricted mode mid-session.
import * as vscode from 'vscode';

let override: boolean | undefined;
const emitter = new vscode.EventEmitter<boolean>();

export const onDidChangeTrust = emitter.event;

export function isTrusted(): boolean {
  return override ?? vscode.workspace.isTrusted;
}

export function setTrustOverrideForTests(value: boolean | undefined): void {
  override = value;
  emitter.fire(isTrusted());
}

export function watchTrust(): vscode.Disposable {
  return vscode.workspace.onDidGrantWorkspaceTrust(() => emitter.fire(isTrusted()));
}

/** Shown whenever a write is refused: says what happened, why, and how to change it. */
export async function refuseUntrusted(what: string): Promise<void> {
  const manage = 'Manage Workspace Trust';
  const choice = await vscode.window.showErrorMessage(
    `Kube Delivery did not ${what}: this workspace is in Restricted Mode, where Kube Delivery only reads from clusters and never writes. Trust the workspace to run rollouts from it.`,
    manage,
  );
  if (choice === manage) await vscode.commands.executeCommand('workbench.trust.manage');
}

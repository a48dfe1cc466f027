// The extension activates from the working tree inside a real VS Code, contributes its language, view
// and commands, and keeps activation cheap (no cluster library loaded).
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { extensionId } from '../util';

describe('extension activation', () => {
  it('activates and exposes its API', async () => {
    const ext = vscode.extensions.getExtension(extensionId);
    assert.ok(ext, `${extensionId} is installed`);
    const api = await ext.activate();
    assert.equal(ext.isActive, true);
    assert.equal(typeof api.activationMs, 'number');
    assert.ok(api.activationMs >= 0);
  });

  it('does not load @kubernetes/client-node on activation', async () => {
    const api = await vscode.extensions.getExtension(extensionId)!.activate();
    const loaded: string[] = api.loadedModules();
    assert.equal(loaded.filter((m) => m.includes('@kubernetes') || m.includes('lazy-')).length, 0, loaded.join('\n'));
  });

  it('registers its commands', async () => {
    const all = await vscode.commands.getCommands(true);
    for (const id of ['kubeDelivery.createDeployFile', 'kubeDelivery.showLog', 'kubeDelivery.openDocs']) {
      assert.ok(all.includes(id), `${id} registered`);
    }
  });

  it('gives *.deploy.yaml files the deployfile language', async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'a workspace folder is open');
    const uri = vscode.Uri.joinPath(folder.uri, 'activation-probe.deploy.yaml');
    await vscode.workspace.fs.writeFile(uri, Buffer.from('apiVersion: kube-delivery.dev/v1alpha1\nkind: Pipeline\n'));
    try {
      const doc = await vscode.workspace.openTextDocument(uri);
      assert.equal(doc.languageId, 'deployfile');
    } finally {
      await vscode.workspace.fs.delete(uri);
    }
  });

  it('creates a deploy file from the template', async () => {
    const folder = vscode.workspace.workspaceFolders![0];
    const target = vscode.Uri.joinPath(folder.uri, 'tmp-create');
    await vscode.workspace.fs.createDirectory(target);
    // From the palette the command asks for a name; a caller (CodeLens, welcome view, test) may pass it.
    const uri = await vscode.commands.executeCommand<vscode.Uri>('kubeDelivery.createDeployFile', target, 'my-app');
    assert.ok(uri, 'a file was created');
    const text = Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8');
    assert.match(text, /kind: Pipeline/);
    assert.match(text, /name: my-app/);
    assert.equal(vscode.window.activeTextEditor?.document.uri.toString(), uri.toString());
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.workspace.fs.delete(target, { recursive: true });
  });
});

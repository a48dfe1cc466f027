// Commands that need no cluster: show log, create a deploy file from a template, open the docs.
import * as vscode from 'vscode';
import type { DisposableStore } from '../lifecycle';
import type { Log } from '../log';
import { deployFileTemplate } from '../templates';

export function registerBasicCommands(context: vscode.ExtensionContext, store: DisposableStore, log: Log): void {
  store.add(vscode.commands.registerCommand('kubeDelivery.showLog', () => log.show(true)));
  store.add(
    vscode.commands.registerCommand('kubeDelivery.createDeployFile', async (target?: vscode.Uri, presetName?: string) => {
      const folder = target ?? vscode.workspace.workspaceFolders?.[0]?.uri;
      if (!folder) {
        void vscode.window.showWarningMessage('Open a folder first: Kube Delivery creates the deploy file inside it.');
        return undefined;
      }
      const name = presetName ?? await vscode.window.showInputBox({
        title: 'Create Deploy File',
        prompt: 'Name of the app (becomes <name>.deploy.yaml)',
        value: 'my-app',
        validateInput: (v) => (/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(v) ? undefined : 'Use a Kubernetes name: lowercase letters, digits and dashes'),
      });
      if (!name) return undefined;
      const uri = vscode.Uri.joinPath(folder, `${name}.deploy.yaml`);
      try {
        await vscode.workspace.fs.stat(uri);
        void vscode.window.showWarningMessage(`${vscode.workspace.asRelativePath(uri)} already exists; opened it instead.`);
      } catch {
        await vscode.workspace.fs.writeFile(uri, Buffer.from(deployFileTemplate(name), 'utf8'));
        log.info(`Created ${uri.fsPath}`);
      }
      const doc = await vscode.workspace.openTextDocument(uri);
      await vscode.window.showTextDocument(doc);
      return uri;
    }),
  );
  store.add(
    vscode.commands.registerCommand('kubeDelivery.openDocs', () =>
      vscode.commands.executeCommand('markdown.showPreview', vscode.Uri.joinPath(context.extensionUri, 'README.md')),
    ),
  );
}

// Deploy-file language features inside a real VS Code: diagnostics with exact ranges on the broken
// fixture, a quick fix applied through the API removes its error, completion, hover, outline, and
// diagnostics that go away when a file is deleted.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { extensionId, waitFor } from '../util';

const SOURCE = 'kube-delivery';

function ours(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri).filter((d) => d.source === SOURCE);
}

/** The range of the first `needle` at or after the first `after` in the document. */
function find(doc: vscode.TextDocument, needle: string, after = ''): vscode.Range {
  const text = doc.getText();
  const from = after ? text.indexOf(after) + after.length : 0;
  const at = text.indexOf(needle, from);
  assert.ok(at !== -1, `document contains ${needle}`);
  return new vscode.Range(doc.positionAt(at), doc.positionAt(at + needle.length));
}

function byCode(ds: vscode.Diagnostic[], code: string): vscode.Diagnostic {
  const d = ds.find((x) => x.code === code);
  assert.ok(d, `${code} among ${ds.map((x) => x.code).join(', ')}`);
  return d;
}

describe('deploy-file language features', () => {
  let uri: vscode.Uri;
  let doc: vscode.TextDocument;

  before(async () => {
    await vscode.extensions.getExtension(extensionId)!.activate();
    const folder = vscode.workspace.workspaceFolders![0];
    uri = vscode.Uri.joinPath(folder.uri, 'broken.deploy.yaml');
    doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('shows the expected diagnostics at the key or value at fault', async () => {
    const ds = await waitFor(() => (ours(uri).length >= 3 ? ours(uri) : undefined), 30_000, 'diagnostics of broken.deploy.yaml');
    assert.deepEqual(ds.map((d) => d.code).sort(), ['KD052', 'KD101', 'KD117']);
    const weights = byCode(ds, 'KD101');
    assert.ok(weights.range.isEqual(find(doc, 'weights')), `KD101 at ${JSON.stringify(weights.range)}`);
    assert.equal(weights.severity, vscode.DiagnosticSeverity.Error);
    assert.match(weights.message, /weights must sum to 100, got canary 10 \+ current 80 = 90/);
    const key = byCode(ds, 'KD052');
    assert.ok(key.range.isEqual(find(doc, 'sucessRate')));
    assert.equal(key.message, 'unknown key `sucessRate` in `analysis`: did you mean `successRate`?');
    const tag = byCode(ds, 'KD117');
    assert.ok(tag.range.isEqual(find(doc, 'registry.example.com/broken')));
    assert.equal(tag.severity, vscode.DiagnosticSeverity.Warning);
  });

  it('a quick fix applied through the API makes the weights error go away', async () => {
    const weights = byCode(ours(uri), 'KD101');
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, weights.range, vscode.CodeActionKind.QuickFix.value);
    const fix = actions.find((a) => a.title === 'Set `current` to 90 so the weights sum to 100');
    assert.ok(fix?.edit, `quick fix offered among ${actions.map((a) => a.title).join(' | ')}`);
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    await waitFor(() => !ours(uri).some((d) => d.code === 'KD101'), 30_000, 'KD101 to go away');
    assert.match(doc.lineAt(find(doc, 'weights').start.line).text, /\{ canary: 10, current: 90 \}/);
  });

  it('the misspelled-key quick fix renames the key', async () => {
    const key = byCode(ours(uri), 'KD052');
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, key.range);
    const fix = actions.find((a) => a.title === 'Change to `successRate`');
    assert.ok(fix?.edit);
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    await waitFor(() => ours(uri).every((d) => d.code === 'KD117'), 30_000, 'only the tag warning left');
    assert.ok(doc.getText().includes('successRate: 99'));
  });

  it('completes enum values and keys from the schema', async () => {
    const mode = find(doc, 'manual');
    const list = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', uri, mode.start);
    const labels = list.items.map((i) => (typeof i.label === 'string' ? i.label : i.label.label));
    assert.ok(labels.includes('auto') && labels.includes('manual'), labels.join(', '));
  });

  it('hovers a cron schedule in words and a key with its description', async () => {
    const schedule = find(doc, '*/5');
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, schedule.start);
    const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : (c as vscode.MarkdownString).value))).join('\n');
    assert.match(text, /every 5 minutes/);
    const modeKey = find(doc, 'mode');
    const h2 = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, modeKey.start);
    assert.match(h2.flatMap((h) => h.contents.map((c) => (c as vscode.MarkdownString).value ?? String(c))).join('\n'), /wait for a human to promote/);
  });

  it('outlines pipeline → environments, strategy → stages', async () => {
    const symbols = await vscode.commands.executeCommand<vscode.DocumentSymbol[]>('vscode.executeDocumentSymbolProvider', uri);
    assert.equal(symbols[0].name, 'broken');
    assert.deepEqual(symbols[0].children.map((c) => c.name), ['staging', 'strategy']);
    assert.deepEqual(symbols[0].children[1].children.map((c) => c.name), ['stage 1', 'stage 2']);
  });

  it('clears diagnostics when a deploy file is deleted', async () => {
    const folder = vscode.workspace.workspaceFolders![0];
    const tmp = vscode.Uri.joinPath(folder.uri, 'tmp-language.deploy.yaml');
    await vscode.workspace.fs.writeFile(tmp, Buffer.from('apiVersion: kube-delivery.dev/v1alpha1\nkind: Pipline\n'));
    await vscode.workspace.openTextDocument(tmp);
    await waitFor(() => ours(tmp).length > 0, 30_000, 'diagnostics of the temporary file');
    await vscode.workspace.fs.delete(tmp);
    await waitFor(() => ours(tmp).length === 0, 30_000, 'diagnostics cleared after delete');
  });
});

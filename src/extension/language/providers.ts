// Thin adapters from the pure editor helpers (src/deployfile/editor) to VS Code providers.
import * as vscode from 'vscode';
import type { CompletionEntry } from '../../deployfile/editor/completion';
import type { OutlineSymbol, SymbolKind } from '../../deployfile/editor/outline';
import { toModelPosition, toModelRange, toVsRange, DIAGNOSTIC_SOURCE } from './convert';
import type { DeployDocuments } from './state';

export const SELECTOR: vscode.DocumentSelector = [{ language: 'deployfile' }];

const COMPLETION_KIND: Record<CompletionEntry['kind'], vscode.CompletionItemKind> = {
  property: vscode.CompletionItemKind.Property,
  value: vscode.CompletionItemKind.EnumMember,
  reference: vscode.CompletionItemKind.Reference,
  snippet: vscode.CompletionItemKind.Snippet,
};

export class DeployCompletionProvider implements vscode.CompletionItemProvider {
  static readonly triggers = [':', ' ', '-', '[', ','];

  constructor(private readonly docs: DeployDocuments) {}

  async provideCompletionItems(doc: vscode.TextDocument, position: vscode.Position, _t: vscode.CancellationToken, ctx: vscode.CompletionContext): Promise<vscode.CompletionItem[]> {
    if (ctx.triggerKind === vscode.CompletionTriggerKind.TriggerCharacter && ctx.triggerCharacter === ' ') {
      // A space only asks for values right after `key: `, `- ` or `, `, not in the middle of text.
      const before = doc.lineAt(position.line).text.slice(0, position.character);
      if (!/(:|-|,|\[|\{) $/.test(before)) return [];
    }
    const { completion } = await this.docs.modules();
    const validator = await this.docs.validator(doc);
    return completion.completions(validator, doc.getText(), toModelPosition(position)).map((e) => {
      const item = new vscode.CompletionItem(e.label, COMPLETION_KIND[e.kind]);
      item.insertText = e.snippet ? new vscode.SnippetString(e.insertText) : e.insertText;
      item.range = toVsRange(e.replace);
      item.detail = e.detail;
      if (e.documentation) item.documentation = new vscode.MarkdownString(e.documentation);
      item.sortText = e.sortText;
      return item;
    });
  }
}

export class DeployHoverProvider implements vscode.HoverProvider {
  constructor(private readonly docs: DeployDocuments) {}

  async provideHover(doc: vscode.TextDocument, position: vscode.Position): Promise<vscode.Hover | undefined> {
    const { hover } = await this.docs.modules();
    const h = hover.hover(await this.docs.validator(doc), doc.getText(), toModelPosition(position));
    return h ? new vscode.Hover(new vscode.MarkdownString(h.markdown), toVsRange(h.range)) : undefined;
  }
}

const SYMBOL_KIND: Record<SymbolKind, vscode.SymbolKind> = {
  pipeline: vscode.SymbolKind.Module,
  environment: vscode.SymbolKind.Namespace,
  strategy: vscode.SymbolKind.Struct,
  stage: vscode.SymbolKind.Event,
  test: vscode.SymbolKind.Function,
  group: vscode.SymbolKind.Array,
};

function toDocumentSymbol(s: OutlineSymbol): vscode.DocumentSymbol {
  const out = new vscode.DocumentSymbol(s.name, s.detail, SYMBOL_KIND[s.kind], toVsRange(s.range), toVsRange(s.selectionRange));
  out.children = s.children.map(toDocumentSymbol);
  return out;
}

export class DeploySymbolProvider implements vscode.DocumentSymbolProvider {
  constructor(private readonly docs: DeployDocuments) {}

  async provideDocumentSymbols(doc: vscode.TextDocument): Promise<vscode.DocumentSymbol[]> {
    const { outline } = await this.docs.modules();
    return outline.outline(await this.docs.validator(doc), doc.getText()).map(toDocumentSymbol);
  }
}

export class DeployCodeActionProvider implements vscode.CodeActionProvider {
  static readonly metadata: vscode.CodeActionProviderMetadata = { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] };

  constructor(private readonly docs: DeployDocuments) {}

  async provideCodeActions(doc: vscode.TextDocument, range: vscode.Range | vscode.Selection, ctx: vscode.CodeActionContext): Promise<vscode.CodeAction[]> {
    if (ctx.only && !vscode.CodeActionKind.QuickFix.intersects(ctx.only)) return [];
    const { quickfix } = await this.docs.modules();
    const result = await this.docs.validate(doc);
    return quickfix.quickFixes(result.diagnostics, toModelRange(range)).map((f) => {
      const action = new vscode.CodeAction(f.title, vscode.CodeActionKind.QuickFix);
      const edit = new vscode.WorkspaceEdit();
      if (f.snippet) {
        edit.set(doc.uri, f.edits.map((e) => new vscode.SnippetTextEdit(toVsRange(e.range), new vscode.SnippetString(e.newText))));
      } else {
        for (const e of f.edits) edit.replace(doc.uri, toVsRange(e.range), e.newText);
      }
      action.edit = edit;
      action.isPreferred = f.preferred;
      const target = toVsRange(f.diagnostic.range);
      action.diagnostics = ctx.diagnostics.filter((d) => d.source === DIAGNOSTIC_SOURCE && d.code === f.diagnostic.code && d.range.isEqual(target));
      return action;
    });
  }
}

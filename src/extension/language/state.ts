// One DeployFileValidator per open document, so diagnostics, completion, hover, outline and quick
// fixes share the per-document parse cache.
import * as vscode from 'vscode';
import type { ParseResult } from '../../deployfile/model';
import type { DeployFileValidator } from '../../deployfile/parse';
import { loadLanguage, type LanguageModules } from './load';

export class DeployDocuments {
  private readonly validators = new Map<string, DeployFileValidator>();

  async modules(): Promise<LanguageModules> {
    return loadLanguage();
  }

  async validator(doc: vscode.TextDocument): Promise<DeployFileValidator> {
    const key = doc.uri.toString();
    let v = this.validators.get(key);
    if (!v) {
      const { parse } = await loadLanguage();
      v = new parse.DeployFileValidator(doc.uri.scheme === 'file' ? doc.uri.fsPath : '');
      this.validators.set(key, v);
    }
    return v;
  }

  async validate(doc: vscode.TextDocument): Promise<ParseResult> {
    return (await this.validator(doc)).validate(doc.getText());
  }

  forget(uri: vscode.Uri): void {
    this.validators.delete(uri.toString());
  }
}

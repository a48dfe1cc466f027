// Every question the commands ask goes through here: multi-step QuickPick/InputBox with a Back
// button. Host tests replace the answers with `setPromptsForTests` (exported API
// `testing.setPrompts`) because a test inside the extension host cannot type into the workbench;
// the UI tests drive the real widgets.
import * as vscode from 'vscode';

export const BACK = Symbol('back');
export type Answer<T> = T | undefined | typeof BACK;

export interface Step {
  title: string;
  step?: number;
  totalSteps?: number;
}

export interface PickOptions extends Step {
  placeholder: string;
}

export interface InputOptions extends Step {
  prompt: string;
  value?: string;
  placeholder?: string;
  /** Returns an error message, or undefined when the value is acceptable. */
  validate?: (value: string) => string | undefined;
}

export interface Prompts {
  pick<T extends vscode.QuickPickItem>(items: readonly T[], options: PickOptions): Promise<Answer<T>>;
  input(options: InputOptions): Promise<Answer<string>>;
}

const real: Prompts = {
  pick(items, options) {
    return new Promise((resolve) => {
      const qp = vscode.window.createQuickPick<(typeof items)[number]>();
      qp.title = options.title;
      qp.step = options.step;
      qp.totalSteps = options.totalSteps;
      qp.placeholder = options.placeholder;
      qp.items = items;
      qp.matchOnDescription = true;
      // A wizard keeps its answers when focus moves away (a glance at the deploy file, a restored webview
      // taking focus as it loads); Escape still cancels. A single question closes on focus out as usual.
      qp.ignoreFocusOut = (options.totalSteps ?? 1) > 1;
      qp.buttons = options.step && options.step > 1 ? [vscode.QuickInputButtons.Back] : [];
      let done = false;
      const finish = (a: Answer<(typeof items)[number]>) => {
        if (done) return;
        done = true;
        resolve(a);
        qp.dispose();
      };
      qp.onDidTriggerButton((b) => b === vscode.QuickInputButtons.Back && finish(BACK));
      qp.onDidAccept(() => finish(qp.selectedItems[0]));
      qp.onDidHide(() => finish(undefined));
      qp.show();
    });
  },
  input(options) {
    return new Promise((resolve) => {
      const box = vscode.window.createInputBox();
      box.title = options.title;
      box.step = options.step;
      box.totalSteps = options.totalSteps;
      box.prompt = options.prompt;
      box.placeholder = options.placeholder;
      box.value = options.value ?? '';
      box.ignoreFocusOut = true;
      box.buttons = options.step && options.step > 1 ? [vscode.QuickInputButtons.Back] : [];
      let done = false;
      const finish = (a: Answer<string>) => {
        if (done) return;
        done = true;
        resolve(a);
        box.dispose();
      };
      box.onDidChangeValue((v) => {
        box.validationMessage = options.validate?.(v);
      });
      box.onDidTriggerButton((b) => b === vscode.QuickInputButtons.Back && finish(BACK));
      box.onDidAccept(() => {
        const err = options.validate?.(box.value);
        if (err) {
          box.validationMessage = err;
          return;
        }
        finish(box.value);
      });
      box.onDidHide(() => finish(undefined));
      box.show();
    });
  },
};

let current: Prompts = real;

export function prompts(): Prompts {
  return current;
}

export function setPromptsForTests(p: Prompts | undefined): void {
  current = p ?? real;
}

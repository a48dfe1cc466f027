// One LogOutputChannel for the whole extension. It never reveals itself: users open it with
// "Kube Delivery: Show Log" (no focus stealing).
import * as vscode from 'vscode';

export type Log = vscode.LogOutputChannel;

export function createLog(): Log {
  return vscode.window.createOutputChannel('Kube Delivery', { log: true });
}

// The dashboard page's HTML: a strict Content-Security-Policy (nothing remote, scripts only with this
// page's nonce, styles only from the extension's dist/), the bundle URIs from `asWebviewUri`, and the
// rollout key the page shows. No `vscode` import: unit tests check the policy directly.
import { randomBytes } from 'node:crypto';
import type { RolloutKey } from '../../webview/protocol';

export interface DashboardHtmlInput {
  /** `webview.cspSource`. */
  cspSource: string;
  scriptUri: string;
  styleUri: string;
  key: RolloutKey;
  title: string;
  nonce?: string;
}

export function makeNonce(): string {
  return randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, '');
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
    `style-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

export function dashboardHtml(input: DashboardHtmlInput): string {
  const nonce = input.nonce ?? makeNonce();
  const csp = contentSecurityPolicy(input.cspSource, nonce);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeHtml(input.styleUri)}">
<title>${escapeHtml(input.title)}</title>
</head>
<body>
<div id="app" data-key="${escapeHtml(JSON.stringify(input.key))}"></div>
<script nonce="${nonce}" src="${escapeHtml(input.scriptUri)}"></script>
</body>
</html>
`;
}

/** A page without script for panels whose rollout cannot be found (e.g. the deploy file was deleted). */
export function messageHtml(cspSource: string, title: string, message: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(`default-src 'none'; style-src ${cspSource}`)}">
<title>${escapeHtml(title)}</title></head>
<body><p role="alert">${escapeHtml(message)}</p></body></html>
`;
}

import assert from 'node:assert/strict';
import { contentSecurityPolicy, dashboardHtml } from '../../../src/extension/dashboard/html';

describe('dashboard page HTML', () => {
  const html = dashboardHtml({
    cspSource: 'https://file+.vscode-resource.vscode-cdn.net',
    scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview.js',
    styleUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview.css',
    key: { pipeline: 'checkout', environment: 'staging' },
    title: 'Rollout: checkout → staging',
    nonce: 'abc123',
  });

  it('has a strict CSP: nothing by default, scripts only with the nonce, no inline styles, no remote hosts', () => {
    const csp = contentSecurityPolicy('vscode-src', 'n0nce');
    assert.match(csp, /^default-src 'none'/);
    assert.match(csp, /script-src 'nonce-n0nce'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:\/\/|\*/);
    assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;;/);
  });

  it('loads only the bundle URIs it was given, with the nonce, and carries the rollout key', () => {
    assert.match(html, /<script nonce="abc123" src="https:\/\/file\+\.vscode-resource\.vscode-cdn\.net\/ext\/dist\/webview\.js"><\/script>/);
    assert.equal((html.match(/<script/g) ?? []).length, 1);
    assert.match(html, /data-key="\{&quot;pipeline&quot;:&quot;checkout&quot;,&quot;environment&quot;:&quot;staging&quot;\}"/);
  });

  it('fresh nonces differ', () => {
    const a = dashboardHtml({ cspSource: 'x', scriptUri: 's', styleUri: 'c', key: { pipeline: 'a', environment: 'b' }, title: 't' });
    const b = dashboardHtml({ cspSource: 'x', scriptUri: 's', styleUri: 'c', key: { pipeline: 'a', environment: 'b' }, title: 't' });
    assert.notEqual(a.match(/nonce="([^"]+)"/)![1], b.match(/nonce="([^"]+)"/)![1]);
  });
});

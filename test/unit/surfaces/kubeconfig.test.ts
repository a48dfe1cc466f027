import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mergeKubeconfigs, resolveKubeconfigPaths } from '../../../src/extension/kubeconfig/resolve';
import { loadKubeconfig } from '../../../src/extension/kubeconfig/load';

describe('surfaces: kubeconfig resolution', () => {
  const home = '/home/u';

  it('prefers the setting in a trusted workspace, expanding ~', () => {
    assert.deepEqual(resolveKubeconfigPaths({ setting: '~/k/dev.yaml', trusted: true, kubeconfigEnv: '/a:/b', home, delimiter: ':' }), { paths: ['/home/u/k/dev.yaml'], source: 'setting' });
  });

  it('ignores the setting in a restricted workspace and says so', () => {
    const r = resolveKubeconfigPaths({ setting: '/evil', trusted: false, kubeconfigEnv: '/a:/b', home, delimiter: ':' });
    assert.deepEqual(r.paths, ['/a', '/b']);
    assert.equal(r.source, 'KUBECONFIG');
    assert.match(r.note!, /restricted/);
  });

  it('splits KUBECONFIG, drops empty entries and duplicates, else uses ~/.kube/config', () => {
    assert.deepEqual(resolveKubeconfigPaths({ setting: '', trusted: true, kubeconfigEnv: '/a::/b:/a', home, delimiter: ':' }).paths, ['/a', '/b']);
    assert.deepEqual(resolveKubeconfigPaths({ setting: undefined, trusted: true, kubeconfigEnv: undefined, home, delimiter: ':' }), { paths: ['/home/u/.kube/config'], source: 'default' });
  });

  it('merges with KUBECONFIG rules: first entry of a name wins, first current-context wins', () => {
    const { merged, contexts } = mergeKubeconfigs([
      { origin: 'one', doc: { 'current-context': 'a', contexts: [{ name: 'a', context: { cluster: 'c1' } }], clusters: [{ name: 'c1', cluster: { server: 'https://one' } }] } },
      { origin: 'two', doc: { 'current-context': 'b', contexts: [{ name: 'a', context: { cluster: 'c2' } }, { name: 'b', context: { cluster: 'c2' } }], clusters: [{ name: 'c2', cluster: { server: 'https://two' } }] } },
    ]);
    assert.equal(merged['current-context'], 'a');
    assert.deepEqual(contexts.map((c) => [c.name, c.server, c.origin]), [['a', 'https://one', 'one'], ['b', 'https://two', 'two']]);
  });

  it('reads files without writing them and puts the in-memory sandbox first', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kd-kc-'));
    const file = path.join(dir, 'config');
    const text = 'apiVersion: v1\nkind: Config\ncontexts:\n- name: sandbox\n  context: {cluster: old}\n- name: prod-eu\n  context: {cluster: prod}\nclusters:\n- name: old\n  cluster: {server: "https://stale"}\n- name: prod\n  cluster: {server: "https://prod"}\n';
    fs.writeFileSync(file, text);
    const before = fs.statSync(file).mtimeMs;
    const sandbox = 'apiVersion: v1\nkind: Config\ncurrent-context: sandbox\ncontexts:\n- name: sandbox\n  context: {cluster: sandbox, user: sandbox}\nclusters:\n- name: sandbox\n  cluster: {server: "http://127.0.0.1:4000"}\nusers:\n- name: sandbox\n  user: {token: t}\n';
    const withSandbox = await loadKubeconfig([file, path.join(dir, 'missing')], sandbox);
    assert.deepEqual(withSandbox.contexts.map((c) => [c.name, c.server]), [['sandbox', 'http://127.0.0.1:4000'], ['prod-eu', 'https://prod']]);
    assert.match(withSandbox.access.kubeconfigYaml!, /127\.0\.0\.1:4000/);
    assert.deepEqual(withSandbox.problems, []);
    const without = await loadKubeconfig([file], undefined);
    assert.deepEqual(without.access, { kubeconfigPaths: [file] });
    assert.equal(fs.readFileSync(file, 'utf8'), text);
    assert.equal(fs.statSync(file).mtimeMs, before);
    fs.writeFileSync(file, 'contexts: [');
    assert.match((await loadKubeconfig([file], undefined)).problems[0], /not valid YAML/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reports a missing file named by the setting, not a missing default one', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kd-kc-'));
    const missing = path.join(dir, 'gone.yaml');
    assert.deepEqual((await loadKubeconfig([missing], undefined)).problems, []);
    const named = await loadKubeconfig([missing], undefined, { fromSetting: true });
    assert.equal(named.problems.length, 1);
    assert.match(named.problems[0], new RegExp(`^${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: no such file \\(named by the kubeDelivery\\.kubeconfig setting`));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('contributes the setting with a scope VS Code applies from user settings in a remote window', () => {
    // code-server is always a remote window: there VS Code drops `machine` and `machine-overridable`
    // values of the user settings file, so a code-server user's setting vanished after a reload.
    const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
      contributes: { configuration: { properties: Record<string, { scope?: string; ignoreSync?: boolean }> } };
    };
    const setting = manifest.contributes.configuration.properties['kubeDelivery.kubeconfig'];
    assert.ok(!['machine', 'machine-overridable', 'application'].includes(setting.scope ?? 'window'), `scope ${setting.scope}`);
    assert.equal(setting.ignoreSync, true, 'a path of one machine is not synced to others');
  });
});

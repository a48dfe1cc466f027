// kubectl 1.32 against the full sandbox (API server + simulated controllers): the commands that need a
// Deployment controller — rollout status / history / undo and logs of a Deployment's pods.
import assert from 'node:assert/strict';
import { startSandbox, type Sandbox } from '../../../../src/sandbox/index';
import { kubectlFor, type Kubectl } from './kubectl';

describe('sandbox with kubectl (simulated controllers)', function () {
  this.timeout(60_000);
  let sb: Sandbox;
  let k: Kubectl;

  before(async () => {
    // A fast clock: pod start-up and readiness take simulated seconds, the suite real fractions.
    sb = await startSandbox({ speed: 50, trafficRps: 0 });
    k = kubectlFor(sb.kubeconfig);
  });
  after(async () => {
    k?.cleanup();
    await sb?.close();
  });

  it('get nodes: the nodes pods run on, Ready, with the server version; -o wide and describe', async () => {
    const rows = (await k.ok(['get', 'no'])).trim().split('\n').map((l) => l.trim().split(/\s{2,}/));
    assert.deepEqual(rows[0], ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION']);
    assert.deepEqual(rows.slice(1).map((r) => [r[0], r[1], r[2], r[4]]), ['sandbox-node-1', 'sandbox-node-2', 'sandbox-node-3'].map((n) => [n, 'Ready', '<none>', 'v1.32.4']));
    assert.match(await k.ok(['get', 'nodes', '-o', 'wide']), /^sandbox-node-2\s+Ready\s+<none>\s+\S+\s+v1\.32\.4\s+172\.18\.0\.3\s+<none>\s+Debian GNU\/Linux 12 \(bookworm\)/m);
    await k.ok(['run', 'solo', '--image=nginx']);
    await k.ok(['wait', '--for=condition=Ready', 'pod/solo', '--timeout=45s']);
    const node = (await k.ok(['get', 'pod', 'solo', '-o', 'jsonpath={.spec.nodeName}'])).trim();
    assert.match(node, /^sandbox-node-[123]$/);
    const describe = await k.ok(['describe', 'node', node]);
    assert.match(describe, /Ready\s+True\s+.*KubeletReady/);
    assert.match(describe, /^Lease:\s*\n\s+HolderIdentity:\s+sandbox-node-/m, 'its heartbeat Lease in kube-node-lease');
    assert.match(describe, /default\s+solo\s/, 'describe node lists the pods on it (field selector spec.nodeName)');
    await k.ok(['delete', 'pod', 'solo']);
  });

  it('rollout status completes for a healthy image', async () => {
    await k.ok(['create', 'deployment', 'web', '--image=nginx:1.25', '--replicas=3']);
    const out = await k.ok(['rollout', 'status', 'deployment/web', '--timeout=45s']);
    assert.match(out, /deployment "web" successfully rolled out/);
    const d = JSON.parse(await k.ok(['get', 'deploy', 'web', '-o', 'json']));
    assert.equal(d.status.observedGeneration, d.metadata.generation);
    assert.equal(d.status.availableReplicas, 3);
    assert.equal(d.metadata.annotations['deployment.kubernetes.io/revision'], '1');
  });

  it('set image rolls out a second revision; rollout history lists both', async () => {
    await k.ok(['set', 'image', 'deployment/web', 'nginx=nginx:1.26']);
    assert.match(await k.ok(['rollout', 'status', 'deployment/web', '--timeout=45s']), /successfully rolled out/);
    const history = await k.ok(['rollout', 'history', 'deployment/web']);
    assert.deepEqual(history.match(/^\d+\s/gm)?.map((r) => r.trim()), ['1', '2']);
    const rev2 = await k.ok(['rollout', 'history', 'deployment/web', '--revision=2']);
    assert.match(rev2, /Image:\s+nginx:1.26/);
  });

  it('rollout undo goes back to the previous template and reuses its ReplicaSet as revision 3', async () => {
    const rsBefore = (await k.ok(['get', 'rs', '-l', 'app=web', '-o', 'name'])).trim().split('\n').sort();
    assert.match(await k.ok(['rollout', 'undo', 'deployment/web']), /deployment.apps\/web rolled back/);
    assert.match(await k.ok(['rollout', 'status', 'deployment/web', '--timeout=45s']), /successfully rolled out/);
    assert.equal(await k.ok(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']), 'nginx:1.25');
    const rsAfter = (await k.ok(['get', 'rs', '-l', 'app=web', '-o', 'name'])).trim().split('\n').sort();
    assert.deepEqual(rsAfter, rsBefore, 'no new ReplicaSet: the revision-1 one is scaled up again');
    const history = await k.ok(['rollout', 'history', 'deployment/web']);
    assert.deepEqual(history.match(/^\d+\s/gm)?.map((r) => r.trim()), ['2', '3']);
  });

  it('logs deploy/web prints simulated lines of one of its pods', async () => {
    const r = await k.run(['logs', 'deployment/web', '--tail=5']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.ok(lines.length >= 1 && lines.length <= 5, `expected 1..5 lines, got ${lines.length}`);
    const pods = (await k.ok(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].metadata.name}'])).split(' ');
    const used = /using pod\/(\S+)/.exec(r.stderr)?.[1] ?? pods[0];
    assert.ok(pods.includes(used), `logs came from a pod of the deployment (${used})`);
  });

  it('rollout status fails with ProgressDeadlineExceeded for a crash-looping image', async () => {
    await k.ok(['create', 'deployment', 'crashy', '--image=shop/api:2.0-crash', '--replicas=2']);
    await k.ok(['patch', 'deployment', 'crashy', '--type', 'merge', '-p', '{"spec":{"progressDeadlineSeconds":60}}']);
    const r = await k.run(['rollout', 'status', 'deployment/crashy', '--timeout=45s']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /deployment "crashy" exceeded its progress deadline/);
    const pods = await k.ok(['get', 'pods', '-l', 'app=crashy']);
    assert.match(pods, /CrashLoopBackOff|Error/);
  });
});

// Blue-green previewWeight against the in-process sandbox: the simulated users really reach the new
// colour through the active Service (pod-count share), analysis measures it, and an -errors image is
// rolled back before the switch.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { parseDeployFile } from '../../../src/deployfile/parse';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '../../../src/sandbox';
import { createClusterRolloutService } from '../../../src/kube';
import type { EngineService } from '../../../src/engine/service';
import type { RolloutSnapshot } from '../../../src/engine/snapshot';
import type { Pipeline } from '../../../src/deployfile/model';
import { sumOf } from '../../../src/engine/weights';
import { EXAMPLES, terminal } from './harness';

const SPEED = 120;
const NS = 'profile-staging';

/**
 * The blue-green example with 9 live pods, a 10% preview share and analysis of the new colour, written
 * to `dir` (the sandbox seeds its namespace and manifests from there).
 */
function writePreviewExample(dir: string): Pipeline {
  mkdirSync(join(dir, 'k8s'));
  writeFileSync(join(dir, 'k8s/profile.yaml'), readFileSync(join(EXAMPLES, 'k8s/profile.yaml'), 'utf8').replace('replicas: 3', 'replicas: 9'));
  const text = readFileSync(join(EXAMPLES, 'blue-green.deploy.yaml'), 'utf8')
    .replace('autoPromote: true', 'autoPromote: false')
    .replace('scaleDownDelay: 30s', 'scaleDownDelay: 30s\n    previewWeight: 10\n    analysis:\n      successRate: 99\n      schedule: "*/1 * * * *"\n      checks: 2');
  const file = join(dir, 'profile.deploy.yaml');
  writeFileSync(file, text);
  const r = parseDeployFile(text, file);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
  return r.pipelines[0];
}

/** The new colour's share of the namespace's requests over the last minute, as the users saw it. */
function greenShare(sb: Sandbox): number | undefined {
  const r = sb.admin.query(`sum(rate(http_requests_total{namespace="${NS}",kube_delivery_dev_track="green"}[1m])) / sum(rate(http_requests_total{namespace="${NS}"}[1m])) * 100`) as { resultType: string; result: { value: [number, string] }[] };
  const v = r.result[0]?.value[1];
  return v === undefined ? undefined : Number(v);
}

describe('engine against the sandbox: blue-green preview traffic', function () {
  this.timeout(90_000);
  let sb: Sandbox;
  let svc: EngineService;
  let dir: string;
  let p: Pipeline;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kd-preview-'));
    p = writePreviewExample(dir);
    sb = await startSandbox({ port: 0, speed: SPEED, seed: dir });
    svc = createClusterRolloutService({ access: { kubeconfigYaml: sb.kubeconfig }, clock: sb.clock, identity: 'test-preview' });
  });
  afterEach(async () => {
    svc.dispose();
    await sb.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts a run and resolves with the first snapshot satisfying `until`, checking weights on every one. */
  async function runUntil(p: Pipeline, image: string | undefined, until: (s: RolloutSnapshot) => boolean): Promise<RolloutSnapshot> {
    const target = { pipeline: p, environment: 'staging' };
    const result = new Promise<RolloutSnapshot>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no such state within 60 s')), 60_000);
      let started = false;
      const w = svc.watch(target, (s) => {
        try {
          assert.equal(sumOf(s.weights.requested), 100);
          assert.equal(sumOf(s.weights.actual), 100);
          if (!s.stages[1] || s.stages[1].state === 'pending') assert.ok(s.weights.requested.canary <= 10, `preview requested ${s.weights.requested.canary}% > 10%`);
        } catch (err) {
          reject(err);
        }
        if (s.runId) started = true;
        if (started && until(s)) {
          clearTimeout(timer);
          w.dispose();
          resolve(s);
        }
      });
    });
    const r = await svc.act(target, 'start', { image, actor: 'test' });
    assert.ok(r.ok, !r.ok ? r.message : '');
    return result;
  }

  it('previewWeight 10: about 10% of live traffic reaches the new colour, analysis measures it, promote switches', async () => {
    const manifest = join(dir, 'k8s/profile.yaml');
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace(/kind: Service\nmetadata:\n {2}name: profile\n/, 'kind: Service\nmetadata:\n  name: profile\n  annotations:\n    team: web\n'));
    const gate = await runUntil(p, undefined, (s) => s.gate?.kind === 'manual' || terminal(s));
    assert.equal(gate.gate?.kind, 'manual', gate.reason);
    assert.deepEqual(gate.weights.requested, { canary: 10, baseline: 0, current: 90 });
    assert.deepEqual(gate.weights.actual, { canary: 10, baseline: 0, current: 90 }, '1 new pod beside 9 live');
    const share = greenShare(sb);
    if (process.env.KD_DEBUG) console.log(`new colour share ${share}%`);
    assert.ok(share !== undefined && share > 5 && share < 16, `the new colour got ${share}% of the requests`);
    // A check at the very start of the share may find no samples yet (its own verdict); two must pass.
    const checks = gate.analysis.filter((m) => m.stage === 0 && m.verdict === 'pass');
    assert.ok(checks.length >= 2 && checks.every((m) => m.value !== null && m.value >= 99), JSON.stringify(gate.analysis.map((m) => [m.verdict, m.value])));
    assert.ok(gate.analysis.every((m) => m.verdict !== 'fail'));
    assert.match(checks[0].query, /kube_delivery_dev_track="green"/);
    // The manifests went through server-side apply: the annotation added after seeding is live.
    assert.ok(gate.events.some((e) => /manifests applied \(server-side, field manager kube-delivery\): 0 created, 1 changed, 1 unchanged/.test(e.message)), gate.events.map((e) => e.message).join('\n'));
    assert.equal((sb.store.get('services', NS, 'profile') as unknown as { metadata: { annotations?: Record<string, string> } }).metadata.annotations?.team, 'web');
    const r = await svc.act({ pipeline: p, environment: 'staging' }, 'promote', { actor: 'test' });
    assert.ok(r.ok);
    const done = await runUntilEnd(p);
    assert.equal(done.phase, 'succeeded', done.reason);
    const service = sb.store.get('services', NS, 'profile') as unknown as { spec: { selector: Record<string, string> } };
    assert.deepEqual(service.spec.selector, { 'kube-delivery.dev/pipeline': 'profile', 'kube-delivery.dev/track': 'green' });
  });

  it('an -errors image fails analysis on its preview share and rolls back before the switch', async () => {
    const switched: string[] = [];
    const off = sb.store.onChange((e) => {
      const o = e.object as { metadata: { name: string; namespace?: string }; spec?: { selector?: Record<string, string> } };
      if (e.resource === 'services' && o.metadata.namespace === NS && o.metadata.name === 'profile' && o.spec?.selector?.['kube-delivery.dev/track']) switched.push(o.spec.selector['kube-delivery.dev/track']);
    });
    const done = await runUntil(p, 'registry.example.com/profile:4.0.0-errors', terminal);
    off();
    assert.equal(done.phase, 'rolledBack', done.reason);
    assert.match(done.reason, /analysis failed at stage 1: success rate \d+(\.\d+)?% < 99%/);
    const failed = done.analysis.find((m) => m.verdict === 'fail');
    assert.ok(failed && failed.value !== null && failed.value < 99);
    assert.deepEqual(switched, [], 'the active Service never selected the new colour alone');
    await svc.drained();
    const service = sb.store.get('services', NS, 'profile') as unknown as { spec: { selector: Record<string, string> } };
    assert.deepEqual(service.spec.selector, { app: 'profile' }, 'the user selector is back');
    assert.equal(sb.store.tryGet('deployments.apps', NS, 'profile-green'), undefined, 'the new colour is gone');
  });

  function runUntilEnd(p: Pipeline): Promise<RolloutSnapshot> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no end within 60 s')), 60_000);
      const w = svc.watch({ pipeline: p, environment: 'staging' }, (s) => {
        if (terminal(s)) {
          clearTimeout(timer);
          w.dispose();
          resolve(s);
        }
      });
    });
  }
});

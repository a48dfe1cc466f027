// End to end through the sandbox (real HTTP, traffic and PromQL): the istio example's 5% canary with an
// -errors image, its VirtualService turned down to 20 requests a second, gets about 60 requests a minute,
// under the default minRequests. Its checks are inconclusive, it does not roll back, and after 2 of them it
// waits for a human with the reason; once the traffic triples its checks are judged and it rolls back.
import assert from 'node:assert/strict';
import { startSandbox, type Sandbox } from '../../../src/sandbox';
import { createClusterRolloutService } from '../../../src/kube';
import type { EngineService } from '../../../src/engine/service';
import type { RolloutSnapshot } from '../../../src/engine/snapshot';
import { DEFAULT_REQUESTS_QUERY, renderQuery } from '../../../src/engine/analysis';
import { RPS_ANNOTATION } from '../../../src/sandbox/sim/traffic';
import { examplePipeline, terminal } from './harness';

const DEADLINE_MS = 60_000;

describe('engine against the sandbox: too few requests to judge', function () {
  this.timeout(90_000);
  let sb: Sandbox;
  let svc: EngineService;
  beforeEach(async () => {
    sb = await startSandbox({ port: 0, speed: 120, seed: 'examples' });
    svc = createClusterRolloutService({ access: { kubeconfigYaml: sb.kubeconfig }, clock: sb.clock, identity: 'test-a' });
  });
  afterEach(async () => {
    svc.dispose();
    await sb.close();
  });

  it('a 5% -errors canary at 20 rps waits with the reason instead of rolling back, and is judged once traffic rises', async () => {
    // The sandbox's default 50 requests a second are enough at 5%; this run needs a quiet VirtualService.
    // The sandbox is seeded with the example's objects, so the run does not apply its manifests again.
    const rps = (n: number) => sb.store.modify('virtualservices.networking.istio.io', 'payments-staging', 'payments', (vs) => {
      vs.metadata.annotations = { ...vs.metadata.annotations, [RPS_ANNOTATION]: String(n) };
    });
    rps(20);
    const p = { ...examplePipeline('canary-istio.deploy.yaml'), manifests: [] };
    const target = { pipeline: p, environment: 'staging' };
    const seen: RolloutSnapshot[] = [];
    let undecided: RolloutSnapshot | undefined;
    const done = new Promise<RolloutSnapshot>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no end within ${DEADLINE_MS / 1000}s; last: ${seen.at(-1)?.reason}`)), DEADLINE_MS);
      let started = false;
      const w = svc.watch(target, (s) => {
        seen.push(s);
        if (s.runId) started = true;
        if (!undecided && s.gate?.kind === 'noData') {
          undecided = s;
          rps(60); // 5% of 60 rps: about 180 requests a minute
        }
        if (started && terminal(s)) {
          clearTimeout(timer);
          w.dispose();
          resolve(s);
        }
      });
    });
    const r = await svc.act(target, 'start', { image: 'registry.example.com/payments:3.2.0-errors', actor: 'test' });
    assert.ok(r.ok, !r.ok ? r.message : '');
    const end = await done;
    await svc.drained();

    assert.ok(undecided, `the run waited for a human before the traffic rose; ended ${end.phase}: ${end.reason}; ${JSON.stringify(end.analysis.map((m) => [m.verdict, m.message]))}`);
    assert.equal(undecided.phase, 'waiting');
    assert.equal(undecided.stage.index, 0);
    assert.match(undecided.gate!.message, /^analysis undecided: 2 checks in a row had too few requests to judge: \d+ in the last 1m, needs 100/);
    const short = undecided.analysis.filter((m) => m.stage === 0);
    assert.ok(short.length >= 2 && short.every((m) => m.verdict === 'inconclusive'), JSON.stringify(short.map((m) => [m.verdict, m.message])));
    for (const m of short) assert.ok(m.requests && m.requests.canary !== null && m.requests.canary > 0 && m.requests.canary < 100, `counted by the sandbox: ${m.requests?.canary}`);
    assert.ok(short.some((m) => m.metric === 'successRate' && m.value !== null && m.value < 99.5), 'a value that would have failed the check on its own');
    const q = renderQuery(DEFAULT_REQUESTS_QUERY, { namespace: 'payments-staging', pipeline: 'payments', version: 'canary', service: 'payments', deployment: 'payments' });
    assert.ok(q.ok);
    assert.equal(short[0].requests!.query, q.query, 'the default count query, answered by the sandbox\'s PromQL');
    assert.ok(!seen.some((s) => s.analysis.some((m) => m.verdict === 'fail') && s.seq <= undecided!.seq), 'nothing failed on too few requests');

    assert.equal(end.phase, 'rolledBack', end.reason);
    assert.match(end.reason, /analysis failed at stage 1: success rate \d+(\.\d)?% < 99\.5%/);
    const f = end.analysis.find((m) => m.verdict === 'fail')!;
    assert.ok(f.requests!.canary! >= 100, `judged on ${f.requests!.canary} requests`);
  });
});

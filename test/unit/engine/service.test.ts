import assert from 'node:assert/strict';
import { createRolloutService } from '../../../src/engine/service';
import { World, examplePipeline, pump, terminal } from './harness';

describe('RolloutService: protected environments and `after` order', () => {
  let world: World;
  afterEach(() => world?.dispose());

  it('writes to a protected environment need --confirm with its name; production waits for staging', async () => {
    world = new World();
    const p = examplePipeline('simple.deploy.yaml');
    const svc = createRolloutService({ connect: () => ({ ok: true, ops: world.cluster }), clock: world.clock, identity: 'svc' });
    const prod = { pipeline: p, environment: 'production' };
    const noConfirm = await svc.act(prod, 'start');
    assert.deepEqual(noConfirm.ok ? 'ok' : [noConfirm.code, /--confirm production/.test(noConfirm.message)], ['needsConfirmation', true]);
    const wrong = await svc.act(prod, 'abort', { confirm: 'staging' });
    assert.equal(wrong.ok ? 'ok' : wrong.code, 'needsConfirmation');
    const early = await pump(world.clock, svc.act(prod, 'start', { confirm: 'production' }));
    assert.equal(early.ok, false);
    assert.match(!early.ok ? early.message : '', /'production' runs after 'staging': roll out registry\.example\.com\/hello:2\.1\.0 to staging first/);
    // Staging succeeds with the image: production may start.
    const staging = { pipeline: p, environment: 'staging' };
    assert.ok((await pump(world.clock, svc.act(staging, 'start'))).ok);
    const s = await svc.session(staging);
    await world.until(s.entry.session, terminal);
    s.release();
    assert.equal((await svc.status(staging)).phase, 'succeeded');
    // Production's namespace must exist in the fake cluster for its run to proceed.
    const ok = await pump(world.clock, svc.act(prod, 'start', { confirm: 'production' }));
    assert.ok(ok.ok, !ok.ok ? ok.message : '');
    const other = await pump(world.clock, svc.act(prod, 'start', { confirm: 'production', image: 'registry.example.com/hello:9.9.9' }));
    assert.equal(other.ok, false, 'a second start while one runs is refused');
    svc.dispose();
  });

  it('status of an unknown environment is an explained error, not an exception', async () => {
    world = new World();
    const p = examplePipeline('simple.deploy.yaml');
    const svc = createRolloutService({ connect: () => ({ ok: false, message: "context 'prod-eu' not found in (inline) (contexts: sandbox)" }), clock: world.clock });
    const s = await svc.status({ pipeline: p, environment: 'production' });
    assert.equal(s.error?.kind, 'unreachable');
    assert.match(s.error!.message, /context 'prod-eu' not found/);
    const r = await svc.act({ pipeline: p, environment: 'qa' }, 'start');
    assert.equal(r.ok ? 'ok' : r.code, 'invalid');
    svc.dispose();
  });

  it('one session per (context, namespace, pipeline): a second deploy file or environment on the same record is refused, explained', async () => {
    world = new World();
    const a = examplePipeline('simple.deploy.yaml');
    const copy = { ...a, file: '/elsewhere/hello-copy.deploy.yaml' };
    // A pipeline whose two environments share one namespace would share one record too.
    const twoEnvs = { ...a, file: '/x/two.deploy.yaml', environments: [a.environments[0], { ...a.environments[0], name: 'qa' }] };
    const svc = createRolloutService({ connect: () => ({ ok: true, ops: world.cluster }), clock: world.clock, identity: 'svc' });
    const seen: string[] = [];
    const w = svc.watch({ pipeline: a, environment: 'staging' }, (s) => seen.push(s.phase));
    await pump(world.clock, svc.status({ pipeline: a, environment: 'staging' }));
    const r = await svc.act({ pipeline: copy, environment: 'staging' }, 'start');
    assert.equal(r.ok ? 'ok' : r.code, 'conflict');
    assert.match(!r.ok ? r.message : '', /pipeline 'hello' in namespace hello-staging of context sandbox is already in use from .*simple\.deploy\.yaml, environment 'staging'; \/elsewhere\/hello-copy\.deploy\.yaml, environment 'staging' maps onto the same record and Lease \(kube-delivery-hello\): rename one pipeline/);
    const st = await svc.status({ pipeline: copy, environment: 'staging' });
    assert.equal(st.error?.kind, 'invalid');
    const other = await svc.rerunTest({ pipeline: twoEnvs, environment: 'qa' }, 'smoke');
    assert.equal(other.ok ? 'ok' : other.code, 'conflict');
    // The same file again shares the session; once it is released, the other file may use the name.
    assert.equal((await svc.status({ pipeline: a, environment: 'staging' })).error, undefined);
    w.dispose();
    assert.ok(seen.length > 0);
    const later = await svc.status({ pipeline: copy, environment: 'staging' });
    assert.equal(later.error, undefined, later.error?.message);
    svc.dispose();
  });
});

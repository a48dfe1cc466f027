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
});

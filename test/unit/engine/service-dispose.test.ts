// The editor (or any client) leaving through the RolloutService: dispose and handOver leave the Lease
// released — holder cleared, as the engine's release writes it — so a client standing by takes the run
// over at once instead of when the Lease expires; dispose closes the connection only after the release
// it started, and does not wait forever on a cluster that does not answer.
import assert from 'node:assert/strict';
import { leaseState } from '../../../src/engine/lease';
import { KubeError, type KubeObject, type KubeOps, type WatchHandle } from '../../../src/engine/ports';
import { createRolloutService } from '../../../src/engine/service';
import { World, examplePipeline, planOf, pump, settle } from './harness';

/**
 * One connection to the fake cluster, as src/kube gives the service: once disposed (its sockets
 * destroyed) every request on it fails. `afterClose` lists what was still sent on it.
 */
function connection(ops: KubeOps, hang?: (prop: string, args: unknown[]) => boolean): { ops: KubeOps; closed: () => boolean; afterClose: string[] } {
  let closed = false;
  const afterClose: string[] = [];
  const proxy = new Proxy(ops, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function') return v;
      // The fake cluster is shared by the other clients of the test: closing this connection leaves it up.
      if (prop === 'dispose') return () => void (closed = true);
      return (...args: unknown[]) => {
        if (closed && prop !== 'stats') {
          afterClose.push(String(prop));
          if (prop === 'watch') return { synced: Promise.resolve(), dispose() {} } satisfies WatchHandle;
          return Promise.reject(new KubeError('connection closed', 'unreachable', 0, true));
        }
        if (hang?.(String(prop), args)) return new Promise(() => {});
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { ops: proxy, closed: () => closed, afterClose };
}

const leaseRef = (namespace: string, name: string) => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace, name });

describe('RolloutService leaving: dispose and handOver release the Lease', () => {
  let world: World;
  afterEach(() => world?.dispose());

  /** The editor's service drives a canary to its manual gate; a background driver stands by. */
  async function drivingAtGate(conn: ReturnType<typeof connection>, releaseWaitMs?: number) {
    const p = examplePipeline('canary-replicas.deploy.yaml');
    const plan = planOf(p);
    const svc = createRolloutService({ connect: () => ({ ok: true, ops: conn.ops }), clock: world.clock, identity: 'vscode:alice:1', leaseDurationMs: 5000, releaseWaitMs });
    const started = await pump(world.clock, svc.act({ pipeline: p, environment: 'staging' }, 'start'));
    assert.ok(started.ok, !started.ok ? started.message : '');
    const standby = world.session(plan, 'cli:bg:2', { leaseDurationMs: 5000 });
    await standby.open();
    const gate = await world.until(standby, (x) => x.gate?.kind === 'manual');
    assert.equal(gate.driver?.holder, 'vscode:alice:1');
    return { svc, plan, standby };
  }

  it('dispose while driving releases the Lease before it closes the connection; the client standing by drives at once', async () => {
    world = new World();
    const conn = connection(world.cluster);
    const { svc, plan, standby } = await drivingAtGate(conn);
    const held = leaseState(await world.cluster.get(leaseRef(plan.namespace, plan.names.lease)));
    assert.equal(held?.holder, 'vscode:alice:1');
    // As the editor used to: dispose alone, its promise not awaited; then wait on the outcome.
    void svc.dispose();
    await pump(world.clock, new Promise<void>((resolve) => standby.waitFor((x) => x.driver?.holder === 'cli:bg:2').then(() => resolve())), 20);
    assert.ok(world.clock.now() < held!.expiresAt, 'taken over before the Lease could have expired');
    assert.ok(conn.closed(), 'the connection was closed');
    assert.deepEqual(conn.afterClose, [], 'nothing was sent on the closed connection');
    assert.equal(standby.isDriver, true);
    const lease = await world.cluster.get(leaseRef(plan.namespace, plan.names.lease));
    assert.equal(leaseState(lease)?.holder, 'cli:bg:2');
  });

  it('handOver then dispose: the Lease is released with its holder cleared even with nobody standing by', async () => {
    world = new World();
    const conn = connection(world.cluster);
    const { svc, plan, standby } = await drivingAtGate(conn);
    // The stand-by leaves first: nobody takes the released Lease, so what the editor wrote stays visible.
    await standby.dispose();
    await pump(world.clock, svc.handOver());
    await svc.dispose();
    const lease = (await world.cluster.get(leaseRef(plan.namespace, plan.names.lease))) as KubeObject;
    assert.equal((lease.spec as { holderIdentity?: string }).holderIdentity, '', 'holder cleared');
    assert.equal(leaseState(lease), undefined, 'nobody holds it');
    assert.ok(conn.closed());
    assert.deepEqual(conn.afterClose, []);
  });

  it('a release the cluster never answers does not keep the connection open', async () => {
    world = new World();
    let stuck = false;
    let releaseSent = false;
    const conn = connection(world.cluster, (_prop, args) => {
      const isLease = (args[0] as { kind?: string } | undefined)?.kind === 'Lease';
      if (stuck && isLease) releaseSent = true;
      return stuck && isLease;
    });
    const { svc, plan } = await drivingAtGate(conn, 20);
    stuck = true;
    await svc.dispose();
    assert.ok(releaseSent, 'the release was attempted');
    assert.ok(conn.closed(), 'and the connection closed after the bounded wait');
    const lease = await world.cluster.get(leaseRef(plan.namespace, plan.names.lease));
    assert.equal(leaseState(lease)?.holder, 'vscode:alice:1', 'the Lease stays held (it will expire): the release never landed');
    await settle();
  });
});

// The light stream behind the editor's badge and status bar: which targets wait for a human and which
// runs are in progress, read from the records alone. Targets are grouped by (context, namespace) and each
// group costs ONE ConfigMap watch on the label every record carries, however many pipelines live there;
// no Deployment, Pod, Job or Lease is watched (a full session costs five watches per target).
import type { AttentionEntry, Disposable, RolloutTarget } from './api';
import { isActivePhase, waitsForHuman } from './attention';
import { LABEL, MANAGED_BY, type Plan } from './plan';
import type { KubeOps, WatchHandle } from './ports';
import { parseDoc, type RecordDoc } from './record';
import { viewError } from './view';

type EntryError = NonNullable<AttentionEntry['error']>;

/** How the service resolves targets and reaches clusters (its own plans and shared connections). */
export interface AttentionSources {
  plan(target: RolloutTarget): { ok: true; plan: Plan } | { ok: false; message: string };
  ops(context: string): { ok: true; ops: KubeOps } | { ok: false; message: string };
}

interface Group {
  namespace: string;
  ops: KubeOps;
  /** Record ConfigMap name -> pipeline, for the records this group's targets read. */
  records: Map<string, string>;
  /** Record ConfigMap name -> last readable record (a damaged one keeps the last good copy, like a session). */
  docs: Map<string, RecordDoc>;
  recordErrors: Map<string, string>;
  error?: EntryError;
  ready: boolean;
}

interface Member {
  target: RolloutTarget;
  plan?: Plan;
  group?: Group;
  error?: EntryError;
}

/** The entry of one target from its record (phase and gate kind, exactly what view.ts copies). */
export function attentionEntry(target: RolloutTarget, doc: RecordDoc | undefined, error?: EntryError): AttentionEntry {
  const rec = doc?.current;
  const phase = rec?.phase ?? 'idle';
  const gateKind = rec?.gate?.kind;
  return {
    target,
    pipeline: target.pipeline.name,
    environment: target.environment,
    runId: rec?.runId,
    phase,
    gateKind,
    waitsForHuman: waitsForHuman({ phase, gateKind, hasError: !!error }),
    active: isActivePhase(phase),
    ...(error ? { error } : {}),
  };
}

export function streamAttention(targets: readonly RolloutTarget[], sources: AttentionSources, listener: (entries: AttentionEntry[]) => void): Disposable {
  const groups = new Map<string, Group>();
  const members: Member[] = [];
  const watches: WatchHandle[] = [];
  let disposed = false;
  let scheduled = false;
  let last = '';

  const emit = () => {
    if (disposed || [...groups.values()].some((g) => !g.ready)) return;
    const entries = members.map((m) => {
      if (!m.plan || !m.group) return attentionEntry(m.target, undefined, m.error);
      const g = m.group;
      const recordError = g.recordErrors.get(m.plan.names.record);
      const error = g.error ?? (recordError ? { kind: 'invalid' as const, message: recordError } : undefined);
      return attentionEntry(m.target, g.docs.get(m.plan.names.record), error);
    });
    // Listeners redraw on every call: only call them when an entry changed.
    const key = JSON.stringify(entries.map(({ target: _t, ...rest }) => rest));
    if (key === last) return;
    last = key;
    listener(entries);
  };
  // A relist delivers every record at once: one emission after the burst.
  const changed = () => {
    if (scheduled || disposed) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      emit();
    });
  };

  const opened = new Map<string, { ok: true; ops: KubeOps } | { ok: false; message: string }>();
  for (const target of targets) {
    const pr = sources.plan(target);
    if (!pr.ok) {
      members.push({ target, error: { kind: 'invalid', message: pr.message } });
      continue;
    }
    const plan = pr.plan;
    let c = opened.get(plan.context);
    if (!c) {
      c = sources.ops(plan.context);
      opened.set(plan.context, c);
    }
    if (!c.ok) {
      members.push({ target, plan, error: { kind: 'unreachable', message: c.message } });
      continue;
    }
    const gk = `${plan.context}\u0000${plan.namespace}`;
    let group = groups.get(gk);
    if (!group) {
      group = { namespace: plan.namespace, ops: c.ops, records: new Map(), docs: new Map(), recordErrors: new Map(), ready: false };
      groups.set(gk, group);
    }
    group.records.set(plan.names.record, plan.pipeline);
    members.push({ target, plan, group });
  }
  // Watches open once every group knows all its records (a watch may deliver its list synchronously).
  for (const g of groups.values()) {
    const w = openGroup(g, changed);
    watches.push(w);
    void w.synced.then(() => {
      g.ready = true;
      changed();
    });
  }
  changed();
  return {
    dispose: () => {
      disposed = true;
      for (const w of watches) w.dispose();
    },
  };
}

function openGroup(group: Group, changed: () => void): WatchHandle {
  return group.ops.watch(
    'v1',
    'ConfigMap',
    group.namespace,
    // Every record carries the managed-by label (session.ts configMap: ownedLabels).
    `${LABEL.managedBy}=${MANAGED_BY}`,
    (e) => {
      const name = e.object.metadata.name;
      const pipeline = group.records.get(name);
      // Records of pipelines nobody asked about share the namespace: skip them unparsed.
      if (!pipeline) return;
      if (e.type === 'DELETED') {
        group.docs.delete(name);
        group.recordErrors.delete(name);
      } else {
        const parsed = parseDoc(pipeline, e.object.data, `ConfigMap ${group.namespace}/${name}`);
        if (parsed.ok) {
          group.docs.set(name, parsed.doc);
          group.recordErrors.delete(name);
        } else group.recordErrors.set(name, parsed.message);
      }
      group.error = undefined;
      changed();
    },
    (err) => {
      group.error = viewError(err);
      group.ready = true;
      changed();
    },
    () => {
      group.error = undefined;
      changed();
    },
  );
}

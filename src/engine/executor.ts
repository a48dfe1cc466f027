// Runs the state machine's effects against a cluster (through KubeOps). Every effect is idempotent:
// ensures compare before writing, creates adopt AlreadyExists, router writes are single requests that
// state the whole desired split (no read first, so an abort costs one round trip).
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { judge, metricsOf, queryTemplate, queryWindow, renderQuery, requestsTemplate, sampleFromPrometheus, sampleSize, type RequestCounts, type Sample } from './analysis';
import { PartlyDoneError, type Effect, type EffectResult } from './effects';
import { deploymentFactsOf, rolloutStatus, type Facts } from './facts';
import { previewActual, previewPods, stagePods } from './machine';
import { LABEL, canaryInUserService, ownedLabels, type Plan, type Track } from './plan';
import { KubeError, type KubeObject, type KubeOps, type ObjRef } from './ports';
import type { PreviewSelectors, RunRecord, StableInfo } from './record';
import type { Measurement } from './snapshot';
import { STABLE_ONLY, actualFromReady } from './weights';

const DEPLOY = { apiVersion: 'apps/v1', kind: 'Deployment' };
const SERVICE = { apiVersion: 'v1', kind: 'Service' };
const VS = { apiVersion: 'networking.istio.io/v1beta1', kind: 'VirtualService' };
const DR = { apiVersion: 'networking.istio.io/v1beta1', kind: 'DestinationRule' };
const ROUTE = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute' };
const INGRESS = { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress' };
const JOB = { apiVersion: 'batch/v1', kind: 'Job' };
const CANARY_ANN = 'nginx.ingress.kubernetes.io/canary';
const WEIGHT_ANN = 'nginx.ingress.kubernetes.io/canary-weight';
export const JOB_LABEL = 'kube-delivery.dev/job';

export interface ExecContext {
  plan: Plan;
  rec: RunRecord;
  ops: KubeOps;
  facts: Facts;
  now: number;
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function notFound(what: string, ns: string, hint: string): KubeError {
  return new KubeError(`${what} not found in namespace ${ns}: ${hint}`, 'notFound', 404, false);
}
function invalid(message: string): KubeError {
  return new KubeError(message, 'invalid', 422, false);
}

export async function execute(ctx: ExecContext, e: Effect): Promise<EffectResult> {
  switch (e.kind) {
    case 'prepare':
      return prepare(ctx);
    case 'setImage':
      await setImage(ctx, e.image, e.replicas);
      return { kind: 'none' };
    case 'restoreStable':
      await restoreStable(ctx);
      return { kind: 'none' };
    case 'ensureTrack':
      await ensureTrack(ctx, e.track, e.image, e.replicas);
      return { kind: 'none' };
    case 'scale':
      await ctx.ops.mergePatch({ ...DEPLOY, namespace: ctx.plan.namespace, name: e.deployment }, { spec: { replicas: e.replicas } });
      return { kind: 'none' };
    case 'route':
      return { kind: 'route', actual: await route(ctx, e.weights) };
    case 'refreshStable':
      return { kind: 'refreshStable', hash: await refreshStable(ctx) };
    case 'startTest':
      await startTest(ctx, e.test, e.job);
      return { kind: 'none' };
    case 'finishTest':
      return finishTest(ctx, e.job, e.outcome);
    case 'measure':
      return { kind: 'measure', measurements: await measure(ctx, e.stage, e.check) };
    case 'switch':
      await switchService(ctx, e.to);
      return { kind: 'none' };
    case 'restoreSelector':
      await setSelector(ctx, ctx.rec.stable?.serviceSelector ?? {});
      return { kind: 'none' };
    case 'cleanup':
      await cleanup(ctx, e.reason);
      return { kind: 'none' };
  }
}

// ---- manifests and prepare ----

/** Objects from the pipeline's manifest files (namespace forced to the environment's). */
export function loadManifests(plan: Plan): KubeObject[] {
  const out: KubeObject[] = [];
  for (const m of plan.manifests) {
    const path = isAbsolute(m) ? m : join(plan.baseDir, m);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw invalid(`manifest ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): fix the path under manifests:`);
    }
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length) throw invalid(`manifest ${path}: ${doc.errors[0].message}`);
      const obj = doc.toJS() as KubeObject | null;
      if (!obj) continue;
      if (!obj.apiVersion || !obj.kind || !obj.metadata?.name) throw invalid(`manifest ${path}: every object needs apiVersion, kind and metadata.name`);
      if (obj.kind !== 'Namespace') obj.metadata.namespace = plan.namespace;
      out.push(obj);
    }
  }
  return out;
}

async function prepare(ctx: ExecContext): Promise<EffectResult> {
  const { plan, ops } = ctx;
  const ns = plan.namespace;
  const events: string[] = [];
  // What this attempt changed. When a later part of prepare fails (it may wait for a Deployment the
  // manifests just changed, or a second manifest may be refused), the retry finds these changes made and
  // reports them 'unchanged': the failure carries them so the record still says they happened.
  const done: string[] = [];
  try {
    if (plan.manifests.length) {
      const objs = loadManifests(plan);
      const nsObj = await ops.get({ apiVersion: 'v1', kind: 'Namespace', name: ns });
      if (!nsObj) {
        await createOrAdopt(ops, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
        events.push(`namespace ${ns} created`);
        done.push(`namespace ${ns} created`);
      }
      const counts = { created: 0, changed: 0, unchanged: 0 };
      const applied = (what: string) => `${what} (server-side, field manager ${FIELD_MANAGER}): ${counts.created} created, ${counts.changed} changed, ${counts.unchanged} unchanged`;
      try {
        for (const o of objs) counts[await applyManifest(ctx, o)]++;
      } catch (err) {
        if (counts.created + counts.changed > 0) done.push(applied(`manifests partly applied before an error`));
        throw err;
      }
      events.push(applied('manifests applied'));
      if (counts.created + counts.changed > 0) done.push(applied('manifests applied'));
    }
    return await prepareStable(ctx, events);
  } catch (err) {
    throw done.length ? new PartlyDoneError(err, done) : err;
  }
}

/** The part of prepare that reads what is live (and, for a preview, may have to wait for a rollout). */
async function prepareStable(ctx: ExecContext, events: string[]): Promise<EffectResult> {
  const { plan, ops } = ctx;
  const ns = plan.namespace;
  const name = plan.names.stable;
  const dep = await ops.get({ ...DEPLOY, namespace: ns, name });
  if (!dep) throw notFound(`Deployment ${name}`, ns, `create it, or list its manifest under manifests: in ${plan.pipeline}'s deploy file`);
  const svc = await ops.get({ ...SERVICE, namespace: ns, name: plan.names.service });
  if (!svc) throw notFound(`Service ${plan.names.service}`, ns, 'create it (spec.app.service names it)');
  const serviceSelector: Record<string, string> = svc.spec?.selector ?? {};
  let stable = stableInfo(plan, dep, serviceSelector);
  if (plan.router === 'istio') stable = { ...stable, hash: await currentHash(ops, dep) };
  if (plan.strategy === 'blueGreen') stable = await blueGreenInfo(ctx, stable, serviceSelector, events);
  return { kind: 'prepare', stable, events };
}

function containerOf(plan: Plan, dep: KubeObject): { image: string } {
  const cs: { name: string; image: string }[] = dep.spec?.template?.spec?.containers ?? [];
  const c = cs.find((x) => x.name === plan.app.container);
  if (!c) throw invalid(`Deployment ${dep.metadata.name} has no container '${plan.app.container}' (containers: ${cs.map((x) => x.name).join(', ') || 'none'}): fix spec.app.container`);
  return c;
}

function stableInfo(plan: Plan, dep: KubeObject, serviceSelector: Record<string, string>): StableInfo {
  const c = containerOf(plan, dep);
  return {
    deployment: dep.metadata.name,
    image: c.image,
    replicas: dep.spec?.replicas ?? 1,
    template: clone(dep.spec?.template ?? {}),
    podLabels: { ...(dep.spec?.template?.metadata?.labels ?? {}) },
    serviceSelector: { ...serviceSelector },
  };
}

async function currentHash(ops: KubeOps, dep: KubeObject): Promise<string | undefined> {
  const sel = Object.entries(dep.spec?.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
  const rss = await ops.list('apps/v1', 'ReplicaSet', dep.metadata.namespace, sel);
  const rev = dep.metadata.annotations?.['deployment.kubernetes.io/revision'];
  const owned = rss.filter((r) => (r.metadata.ownerReferences ?? []).some((o) => o.kind === 'Deployment' && (o.uid ? o.uid === dep.metadata.uid : o.name === dep.metadata.name)));
  const cur = owned.find((r) => rev !== undefined && r.metadata.annotations?.['deployment.kubernetes.io/revision'] === rev) ?? owned.sort((a, b) => Number(b.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0) - Number(a.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0))[0];
  return cur?.metadata.labels?.['pod-template-hash'];
}

async function blueGreenInfo(ctx: ExecContext, stable: StableInfo, selector: Record<string, string>, events: string[]): Promise<StableInfo> {
  const { plan, ops } = ctx;
  const active = selector[LABEL.track];
  const activeTrack: 'stable' | 'blue' | 'green' = active === 'blue' || active === 'green' ? active : 'stable';
  const idleTrack: 'blue' | 'green' = activeTrack === 'green' ? 'blue' : 'green';
  const activeDeployment = activeTrack === 'stable' ? plan.names.stable : `${plan.names.stable}-${activeTrack}`;
  let info = stable;
  if (activeTrack !== 'stable') {
    const dep = await ops.get({ ...DEPLOY, namespace: plan.namespace, name: activeDeployment });
    if (!dep) throw notFound(`Deployment ${activeDeployment} (the colour Service ${plan.names.service} selects)`, plan.namespace, `restore it or point ${plan.names.service} back at ${plan.names.stable}`);
    info = { ...stableInfo(plan, dep, selector), podLabels: stable.podLabels, serviceSelector: selector };
  }
  // The user's own selector (before any colour) is what a switch back to 'stable' restores.
  const out: StableInfo = { ...info, activeTrack, idleTrack, activeDeployment, idleDeployment: `${plan.names.stable}-${idleTrack}`, replicas: Math.max(1, info.replicas) };
  const weight = plan.blueGreen?.previewWeight ?? 0;
  if (weight <= 0) return out;
  const preview = await previewSelectors(ctx, out, weight);
  if (typeof preview === 'string') {
    events.push(`no preview traffic: ${preview}`);
    return out;
  }
  events.push(`preview: ${preview.pods} pod${preview.pods > 1 ? 's' : ''} of the new colour beside ${out.replicas} live get about ${Math.round((100 * preview.pods) / (preview.pods + out.replicas))}% of ${plan.names.service}'s traffic (previewWeight ${weight}%)`);
  return { ...out, preview };
}

/**
 * How the active Service can share live traffic with the new colour (no router: by pod count), or why
 * it cannot. A Service selects by labels only, so both colours' pods need labels in common that no other
 * pod carries: colours Kube Delivery created carry LABEL.blueGreen; the user's own Deployment carries
 * the Service's selector, which the new colour's pods then carry too — so the Service is narrowed to the
 * live pods' pod-template-hash outside the preview.
 */
async function previewSelectors(ctx: ExecContext, s: StableInfo, weight: number): Promise<PreviewSelectors | string> {
  const { plan, ops } = ctx;
  const pods = previewPods(s.replicas, weight);
  if (pods < 1) return `previewWeight ${weight}% is less than one pod's share beside ${s.replicas} live pod${s.replicas > 1 ? 's' : ''} (at least ${Math.ceil((100 - weight) / weight)} live pods needed); without a traffic router the share goes by pod count`;
  const dep = await ops.get({ ...DEPLOY, namespace: plan.namespace, name: s.activeDeployment ?? plan.names.stable });
  if (!dep) throw notFound(`Deployment ${s.activeDeployment}`, plan.namespace, 'it disappeared while the run started');
  if (s.activeTrack === 'stable') {
    const user = withoutHash(s.serviceSelector);
    if (Object.keys(user).length === 0) return `Service ${plan.names.service} has no selector`;
    // Narrowing to the live pod-template-hash is only the same set of pods once the Deployment has rolled
    // out (a Deployment the manifests just created has no ReplicaSet yet): wait for it, retrying.
    const st = rolloutStatus(deploymentFactsOf(dep, plan.app.container, []), dep.metadata.name);
    const hash = st.state === 'done' ? await currentHash(ops, dep) : undefined;
    if (!hash) throw new KubeError(`previewWeight: waiting for Deployment ${dep.metadata.name} to finish rolling out before its Service is narrowed to the live pods (${st.state === 'done' ? 'no current ReplicaSet yet' : st.message})`, 'other', 0, true);
    return { active: { ...user, 'pod-template-hash': hash }, preview: user, user, pods };
  }
  if (dep.spec?.template?.metadata?.labels?.[LABEL.blueGreen] !== plan.pipeline) {
    return `the pods of ${dep.metadata.name} lack the label ${LABEL.blueGreen} (created by an older Kube Delivery); the next colour will have it`;
  }
  return { active: { ...s.serviceSelector }, preview: { [LABEL.blueGreen]: plan.pipeline }, pods };
}

const withoutHash = (sel: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(sel).filter(([k]) => k !== 'pod-template-hash'));

export const FIELD_MANAGER = 'kube-delivery';

/** What a manifest's object looks like to its users (not status, versions or field ownership). */
const content = (o: KubeObject): string => canonical({ labels: o.metadata.labels ?? {}, annotations: o.metadata.annotations ?? {}, spec: o.spec ?? null, data: o.data ?? null });

/** JSON with object keys sorted, so two copies of an object compare equal whatever their key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

/**
 * The fields Kube Delivery steers keep their live values when a manifest is applied again: the app
 * container's image (a finished rollout moved it on), the app's replicas (blue-green scaled the old
 * colour down, the replicas router resized stable) and, for blue-green, the active Service's selector
 * (it points at a colour). Everything else in the manifest wins.
 */
export function withSteeredFields(plan: Plan, obj: KubeObject, live: KubeObject): KubeObject {
  const out = clone(obj);
  if (obj.kind === 'Deployment' && obj.metadata.name === plan.names.stable && out.spec) {
    if (live.spec?.replicas !== undefined) out.spec.replicas = live.spec.replicas;
    const liveImage = ((live.spec?.template?.spec?.containers ?? []) as { name: string; image: string }[]).find((c) => c.name === plan.app.container)?.image;
    const c = ((out.spec.template?.spec?.containers ?? []) as { name: string; image: string }[]).find((x) => x.name === plan.app.container);
    if (c && liveImage) c.image = liveImage;
  }
  if (obj.kind === 'Service' && obj.metadata.name === plan.names.service && plan.strategy === 'blueGreen' && out.spec && live.spec?.selector) out.spec.selector = { ...live.spec.selector };
  return out;
}

/** Server-side apply of one manifest object (force: the manifest is the source of truth for its fields). */
async function applyManifest(ctx: ExecContext, obj: KubeObject): Promise<'created' | 'changed' | 'unchanged'> {
  const { plan, ops } = ctx;
  const ref = { apiVersion: obj.apiVersion, kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name };
  const live = await ops.get(ref);
  const desired = live ? withSteeredFields(plan, obj, live) : obj;
  let after: KubeObject;
  if (ops.apply) {
    after = await ops.apply(desired, FIELD_MANAGER, true);
  } else if (!live) {
    if (!(await createOrAdopt(ops, desired))) return 'unchanged';
    return 'created';
  } else {
    after = await ops.mergePatch(ref, { metadata: { labels: desired.metadata.labels, annotations: desired.metadata.annotations }, ...(desired.spec !== undefined ? { spec: desired.spec } : {}), ...(desired.data !== undefined ? { data: desired.data } : {}) });
  }
  if (!live) return 'created';
  return content(after) === content(live) ? 'unchanged' : 'changed';
}

async function createOrAdopt(ops: KubeOps, obj: KubeObject): Promise<boolean> {
  try {
    await ops.create(obj);
    return true;
  } catch (err) {
    if (err instanceof KubeError && (err.kind === 'alreadyExists' || (err.kind === 'conflict' && err.code === 409))) return false;
    throw err;
  }
}

/** Read-modify-write with re-read on 409 (optimistic concurrency). */
async function update(ops: KubeOps, ref: ObjRef, mutate: (o: KubeObject) => KubeObject | undefined, missing: () => KubeError): Promise<KubeObject | undefined> {
  for (let attempt = 0; ; attempt++) {
    const cur = await ops.get(ref);
    if (!cur) throw missing();
    const next = mutate(clone(cur));
    if (!next || same(next, cur)) return cur;
    try {
      return await ops.replace(next);
    } catch (err) {
      if (err instanceof KubeError && err.kind === 'conflict' && attempt < 8) continue;
      throw err;
    }
  }
}

// ---- stable ----

async function setImage(ctx: ExecContext, image: string, replicas?: number): Promise<void> {
  const { plan, ops } = ctx;
  const ref = { ...DEPLOY, namespace: plan.namespace, name: plan.names.stable };
  await update(
    ops,
    ref,
    (d) => {
      const c = (d.spec.template.spec.containers as { name: string; image: string }[]).find((x) => x.name === plan.app.container);
      if (!c) throw invalid(`Deployment ${plan.names.stable} has no container '${plan.app.container}'`);
      c.image = image;
      if (replicas !== undefined) d.spec.replicas = replicas;
      // simple: the deploy file's surge/unavailable bounds govern this rolling update.
      if (plan.simple) d.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: plan.simple.maxSurge, maxUnavailable: plan.simple.maxUnavailable } };
      return d;
    },
    () => notFound(`Deployment ${plan.names.stable}`, plan.namespace, 'it disappeared during the rollout; recreate it and retry'),
  );
}

async function restoreStable(ctx: ExecContext): Promise<void> {
  const { plan, ops, rec } = ctx;
  const s = rec.stable;
  if (!s) return; // nothing was changed before prepare finished
  await update(
    ops,
    { ...DEPLOY, namespace: plan.namespace, name: plan.names.stable },
    (d) => {
      d.spec.template = clone(s.template);
      d.spec.replicas = s.replicas;
      return d;
    },
    () => notFound(`Deployment ${plan.names.stable}`, plan.namespace, 'it was deleted; recreate it from your manifests'),
  );
}

async function refreshStable(ctx: ExecContext): Promise<string | undefined> {
  const { plan, ops } = ctx;
  const dep = await ops.get({ ...DEPLOY, namespace: plan.namespace, name: plan.names.stable });
  if (!dep) throw notFound(`Deployment ${plan.names.stable}`, plan.namespace, 'it was deleted during promotion');
  const hash = await currentHash(ops, dep);
  await ensureSubsets(ctx, hash);
  return hash;
}

// ---- tracks ----

/** Labels of a track's pods: see canaryInUserService for why some routers drop the Service's keys. */
export function trackPodLabels(plan: Plan, s: StableInfo, track: Track): Record<string, string> {
  const base: Record<string, string> = { ...s.podLabels };
  delete base['pod-template-hash'];
  // Blue-green preview on the user's own Service: the new colour's pods carry its selector (see previewSelectors).
  const keepInService = (plan.strategy === 'canary' && canaryInUserService(plan)) || (plan.strategy === 'blueGreen' && s.preview?.user !== undefined);
  if (!keepInService) for (const k of Object.keys(s.serviceSelector)) if (!k.startsWith('kube-delivery.dev/')) delete base[k];
  delete base[LABEL.track];
  const colour: Record<string, string> = plan.strategy === 'blueGreen' ? { [LABEL.blueGreen]: plan.pipeline } : {};
  return { ...base, ...colour, [LABEL.pipeline]: plan.pipeline, [LABEL.track]: track };
}

export function trackDeployment(plan: Plan, s: StableInfo, track: Track, name: string, image: string, replicas: number): KubeObject {
  const template = clone(s.template) as { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: { containers: { name: string; image: string }[] } };
  template.metadata = { ...(template.metadata ?? {}), labels: trackPodLabels(plan, s, track) };
  const c = template.spec.containers.find((x) => x.name === plan.app.container);
  if (c) c.image = image;
  return {
    ...DEPLOY,
    metadata: { name, namespace: plan.namespace, labels: ownedLabels(plan, track) },
    spec: { replicas, selector: { matchLabels: { [LABEL.pipeline]: plan.pipeline, [LABEL.track]: track } }, template },
  };
}

async function ensureTrack(ctx: ExecContext, track: Exclude<Track, 'stable'>, image: string, replicas: number): Promise<void> {
  const { plan, ops, rec } = ctx;
  const s = rec.stable;
  if (!s) throw invalid('internal: the stable version was not read before creating a track');
  const name = track === 'canary' ? plan.names.canary : track === 'baseline' ? plan.names.baseline : `${plan.names.stable}-${track}`;
  const desired = trackDeployment(plan, s, track, name, image, replicas);
  const ref = { ...DEPLOY, namespace: plan.namespace, name };
  if (!(await createOrAdopt(ops, desired))) {
    await update(
      ops,
      ref,
      (d) => {
        d.spec.replicas = replicas;
        d.spec.template = desired.spec.template;
        d.metadata.labels = { ...(d.metadata.labels ?? {}), ...desired.metadata.labels };
        return d;
      },
      () => notFound(`Deployment ${name}`, plan.namespace, 'it was deleted while being updated; retry'),
    );
  }
  const port = await servicePorts(ctx);
  if (plan.strategy === 'blueGreen') {
    const preview = plan.names.previewService!;
    await ensureService(ctx, preview, { [LABEL.pipeline]: plan.pipeline, [LABEL.track]: track }, port, undefined);
    return;
  }
  await ensureService(ctx, track === 'canary' ? plan.names.canaryService : plan.names.baselineService, { [LABEL.pipeline]: plan.pipeline, [LABEL.track]: track }, port, track);
  if (plan.router === 'istio') await ensureSubsets(ctx, s.hash);
  if (plan.router === 'nginx' && track === 'canary') await ensureCanaryIngress(ctx);
}

async function servicePorts(ctx: ExecContext): Promise<unknown[]> {
  const svc = await ctx.ops.get({ ...SERVICE, namespace: ctx.plan.namespace, name: ctx.plan.names.service });
  return svc?.spec?.ports ?? [{ name: 'http', port: ctx.plan.app.port, targetPort: ctx.plan.app.port }];
}

async function ensureService(ctx: ExecContext, name: string, selector: Record<string, string>, ports: unknown[], track: Track | undefined): Promise<void> {
  const { plan, ops } = ctx;
  const desired: KubeObject = { ...SERVICE, metadata: { name, namespace: plan.namespace, labels: ownedLabels(plan, track) }, spec: { selector, ports } };
  if (await createOrAdopt(ops, desired)) return;
  await update(
    ops,
    { ...SERVICE, namespace: plan.namespace, name },
    (o) => {
      if (same(o.spec?.selector, selector)) return undefined;
      o.spec = { ...o.spec, selector };
      return o;
    },
    () => notFound(`Service ${name}`, plan.namespace, 'it was deleted while being updated; retry'),
  );
}

/** Istio: the DestinationRule's stable/canary/baseline subsets, in step with the Deployments. */
async function ensureSubsets(ctx: ExecContext, hash: string | undefined): Promise<void> {
  const { plan, ops, rec } = ctx;
  const name = plan.routerObjects.destinationRule!;
  const s = rec.stable!;
  const stableLabels = hash ? { 'pod-template-hash': hash } : { ...s.serviceSelector };
  const subsets = [
    { name: 'stable', labels: stableLabels },
    { name: 'canary', labels: { [LABEL.pipeline]: plan.pipeline, [LABEL.track]: 'canary' } },
    ...(plan.baseline ? [{ name: 'baseline', labels: { [LABEL.pipeline]: plan.pipeline, [LABEL.track]: 'baseline' } }] : []),
  ];
  const ref = { ...DR, namespace: plan.namespace, name };
  const exists = await ops.get(ref);
  if (!exists) {
    await createOrAdopt(ops, { ...DR, metadata: { name, namespace: plan.namespace, labels: ownedLabels(plan) }, spec: { host: plan.names.service, subsets } });
    return;
  }
  await update(
    ops,
    ref,
    (o) => {
      const others = ((o.spec?.subsets ?? []) as { name: string }[]).filter((x) => !['stable', 'canary', 'baseline'].includes(x.name));
      o.spec = { ...o.spec, subsets: [...subsets, ...others] };
      return o;
    },
    () => notFound(`DestinationRule ${name}`, plan.namespace, 'create it'),
  );
}

async function ensureCanaryIngress(ctx: ExecContext): Promise<void> {
  const { plan, ops } = ctx;
  const primaryName = plan.routerObjects.ingress!;
  const primary = await ops.get({ ...INGRESS, namespace: plan.namespace, name: primaryName });
  if (!primary) throw notFound(`Ingress ${primaryName}`, plan.namespace, 'create it (traffic.ingress names it)');
  const spec = clone(primary.spec ?? {});
  for (const rule of spec.rules ?? []) for (const p of rule.http?.paths ?? []) if (p.backend?.service) p.backend.service.name = plan.names.canaryService;
  if (spec.defaultBackend?.service) spec.defaultBackend.service.name = plan.names.canaryService;
  await createOrAdopt(ops, {
    ...INGRESS,
    metadata: { name: plan.names.canaryIngress!, namespace: plan.namespace, labels: ownedLabels(plan, 'canary'), annotations: { ...(primary.metadata.annotations ?? {}), [CANARY_ANN]: 'true', [WEIGHT_ANN]: '0' } },
    spec,
  });
}

// ---- routing ----

export function routerWrite(plan: Plan, rec: RunRecord, w: { canary: number; baseline: number; current: number }): { ref: ObjRef; kind: 'json' | 'merge'; body: unknown } {
  const ns = plan.namespace;
  const svc = plan.names.service;
  if (plan.strategy === 'blueGreen') {
    // No router: the active Service selects both colours (preview share by pod count) or the live one.
    const pv = rec.stable?.preview;
    if (!pv) throw invalid('internal: blue-green preview traffic without preview selectors');
    return { ref: { ...SERVICE, namespace: ns, name: svc }, kind: 'json', body: [{ op: 'replace', path: '/spec/selector', value: w.canary > 0 ? pv.preview : pv.active }] };
  }
  switch (plan.router) {
    case 'istio': {
      const route = [
        { destination: { host: svc, subset: 'stable' }, weight: w.current },
        { destination: { host: svc, subset: 'canary' }, weight: w.canary },
        ...(plan.baseline ? [{ destination: { host: svc, subset: 'baseline' }, weight: w.baseline }] : []),
      ];
      return { ref: { ...VS, namespace: ns, name: plan.routerObjects.virtualService! }, kind: 'json', body: [{ op: 'replace', path: '/spec/http/0/route', value: route }] };
    }
    case 'gatewayApi': {
      const port = plan.app.port;
      const refs = [
        { name: svc, port, weight: w.current },
        { name: plan.names.canaryService, port, weight: w.canary },
        ...(plan.baseline ? [{ name: plan.names.baselineService, port, weight: w.baseline }] : []),
      ];
      return { ref: { ...ROUTE, namespace: ns, name: plan.routerObjects.httpRoute! }, kind: 'json', body: [{ op: 'replace', path: '/spec/rules/0/backendRefs', value: refs }] };
    }
    case 'nginx':
      return { ref: { ...INGRESS, namespace: ns, name: plan.names.canaryIngress! }, kind: 'merge', body: { metadata: { annotations: { [WEIGHT_ANN]: String(w.canary) } } } };
    default: {
      // replicas: all-stable means no canary pods (one write); a stage shrinks stable to its share.
      const pods = stagePods(plan, rec, w);
      if (w.canary === 0 && w.baseline === 0) return { ref: { ...DEPLOY, namespace: ns, name: plan.names.canary }, kind: 'merge', body: { spec: { replicas: 0 } } };
      return { ref: { ...DEPLOY, namespace: ns, name: plan.names.stable }, kind: 'merge', body: { spec: { replicas: pods.stable } } };
    }
  }
}

async function route(ctx: ExecContext, w: { canary: number; baseline: number; current: number }): Promise<{ canary: number; baseline: number; current: number }> {
  const { plan, ops, rec, facts } = ctx;
  const wr = routerWrite(plan, rec, w);
  try {
    if (wr.kind === 'json') await ops.jsonPatch(wr.ref, wr.body as unknown[]);
    else await ops.mergePatch(wr.ref, wr.body);
  } catch (err) {
    if (err instanceof KubeError && err.kind === 'notFound') {
      // Scaling a canary that is already gone to zero is done.
      if (plan.router === 'replicas' && w.canary === 0) return { ...STABLE_ONLY };
      throw notFound(`${wr.ref.kind} ${wr.ref.name}`, plan.namespace, `the ${plan.router} router writes weights to it; create it or fix the deploy file's traffic section`);
    }
    throw err;
  }
  if (plan.strategy === 'blueGreen') return w.canary === 0 ? { ...STABLE_ONLY } : previewActual(rec, facts) ?? w;
  if (plan.router !== 'replicas') return w;
  // Replicas: honest weights from ready pods, bounded by what was just written.
  const pods = stagePods(plan, rec, w);
  const d = facts.deployments;
  const ready = {
    canary: w.canary === 0 ? 0 : Math.min(d[plan.names.canary]?.ready ?? pods.canary, pods.canary),
    baseline: w.baseline === 0 ? 0 : Math.min(d[plan.names.baseline]?.ready ?? pods.baseline, pods.baseline),
    stable: Math.min(d[plan.names.stable]?.ready ?? pods.stable, pods.stable),
  };
  return actualFromReady(ready) ?? w;
}

async function switchService(ctx: ExecContext, to: Track): Promise<void> {
  const { plan, rec } = ctx;
  const s = rec.stable;
  // Back to the live colour while the new one still runs: the narrowed selector when the user's own
  // selector would also match the new colour's pods.
  const selector = to === s?.activeTrack && s.preview ? s.preview.active : to === 'stable' ? s?.serviceSelector ?? {} : { [LABEL.pipeline]: plan.pipeline, [LABEL.track]: to };
  await setSelector(ctx, selector);
}

async function setSelector(ctx: ExecContext, selector: Record<string, string>): Promise<void> {
  const { plan, ops } = ctx;
  // A JSON patch replaces the whole selector in one write (a merge patch would keep the old keys).
  await ops.jsonPatch({ ...SERVICE, namespace: plan.namespace, name: plan.names.service }, [{ op: 'replace', path: '/spec/selector', value: selector }]);
}

// ---- tests ----

async function startTest(ctx: ExecContext, test: string, job: string): Promise<void> {
  const { plan, ops, rec } = ctx;
  const spec = plan.tests[test];
  if (!spec) throw invalid(`test '${test}' is not defined`);
  const labels = { ...ownedLabels(plan), [LABEL.run]: rec.runId, [LABEL.test]: test, [JOB_LABEL]: job };
  const obj: KubeObject = {
    ...JOB,
    metadata: { name: job, namespace: plan.namespace, labels },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: Math.max(1, Math.ceil(spec.timeoutMs / 1000)),
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'test',
              image: spec.image,
              ...(spec.command.length ? { command: spec.command } : {}),
              ...(spec.args.length ? { args: spec.args } : {}),
              env: Object.entries(spec.env).map(([name, value]) => ({ name, value })),
            },
          ],
        },
      },
    },
  };
  await createOrAdopt(ops, obj);
}

async function finishTest(ctx: ExecContext, job: string, outcome: 'passed' | 'failed' | 'timedOut'): Promise<EffectResult> {
  const { plan, ops } = ctx;
  let logExcerpt: string | undefined;
  let message: string | undefined;
  try {
    const pods = await ops.list('v1', 'Pod', plan.namespace, `${JOB_LABEL}=${job}`);
    const pod = pods.sort((a, b) => String(b.metadata.creationTimestamp ?? '').localeCompare(String(a.metadata.creationTimestamp ?? '')))[0];
    if (pod) {
      const log = await ops.podLog(plan.namespace, pod.metadata.name, 20);
      logExcerpt = log.length > 2000 ? log.slice(-2000) : log;
      const term = (pod.status?.containerStatuses ?? [])[0]?.state?.terminated;
      if (outcome === 'failed' && term) message = `exit code ${term.exitCode}${term.reason ? ` (${term.reason})` : ''}`;
    }
  } catch (err) {
    logExcerpt = `(log unavailable: ${(err as Error).message})`;
  }
  if (outcome === 'failed' && !message) message = ctx.facts.jobs[job]?.message ?? `Job ${job} failed`;
  if (outcome === 'timedOut') {
    await ops.delete({ ...JOB, namespace: plan.namespace, name: job }).catch(() => undefined);
    message = `no result within ${Math.round((plan.tests[Object.keys(plan.tests).find((t) => job.includes(t)) ?? '']?.timeoutMs ?? 0) / 1000)}s; Job ${job} deleted`;
  }
  return { kind: 'finishTest', logExcerpt, message };
}

// ---- analysis ----

async function measure(ctx: ExecContext, stageIdx: number, check: number): Promise<Measurement[]> {
  const { plan, ops, rec, now } = ctx;
  const a = plan.stages[stageIdx]?.analysis;
  if (!a) return [];
  const target = plan.prometheus ?? { service: { namespace: 'monitoring', name: 'prometheus', port: 9090 } };
  const version = plan.strategy === 'blueGreen' ? rec.stable?.idleTrack ?? 'green' : 'canary';
  const withBaseline = plan.strategy === 'canary' && plan.baseline && plan.stages[stageIdx].weights.baseline > 0;
  const out: Measurement[] = [];
  const at = new Date(now).toISOString();
  const vars = { namespace: plan.namespace, pipeline: plan.pipeline, service: plan.names.service, deployment: plan.names.stable };
  const run = async (query: string): Promise<Sample> => {
    try {
      return sampleFromPrometheus(await ops.prometheus(target, query, now / 1000));
    } catch (err) {
      if (err instanceof KubeError && (err.kind === 'forbidden' || err.kind === 'unreachable')) throw err;
      return { kind: 'error', message: (err as Error).message };
    }
  };
  // The sample size is counted once per version and check; every metric of the check is held against it.
  let requests: { counts: RequestCounts; query: string } | undefined;
  if (a.minRequests > 0) {
    const rq = renderQuery(requestsTemplate(a), { ...vars, version });
    if (!rq.ok) throw invalid(`queries.requests: ${rq.message}`);
    const counts: RequestCounts = { min: a.minRequests, canary: await run(rq.query), window: queryWindow(rq.query) };
    if (withBaseline) {
      const bq = renderQuery(requestsTemplate(a), { ...vars, version: 'baseline' });
      if (bq.ok) counts.baseline = await run(bq.query);
    }
    requests = { counts, query: rq.query };
  }
  for (const { metric, threshold } of metricsOf(a)) {
    const q = renderQuery(queryTemplate(a, metric), { ...vars, version });
    if (!q.ok) throw invalid(q.message);
    const canary = await run(q.query);
    let baseline: Sample | undefined;
    if (withBaseline) {
      const bq = renderQuery(queryTemplate(a, metric), { ...vars, version: 'baseline' });
      if (bq.ok) baseline = await run(bq.query);
    }
    const j = judge(metric, threshold, canary, baseline, requests?.counts);
    const m: Measurement = { stage: stageIdx, check, metric, query: q.query, value: j.value, baselineValue: j.baselineValue, threshold, comparator: metric === 'successRate' ? 'min' : 'max', verdict: j.verdict, message: j.message, at };
    if (requests) m.requests = sampleSize(requests.counts, requests.query);
    out.push(m);
  }
  return out;
}

// ---- cleanup ----

async function cleanup(ctx: ExecContext, reason: 'promoted' | 'rollback'): Promise<void> {
  const { plan, ops, rec } = ctx;
  const ns = plan.namespace;
  const sel = (track: Track) => `${LABEL.pipeline}=${plan.pipeline},${LABEL.managedBy}=kube-delivery,${LABEL.track}=${track}`;
  if (plan.strategy === 'blueGreen') {
    if (reason === 'rollback' && rec.stable?.idleTrack) await ops.deleteAll('apps/v1', 'Deployment', ns, sel(rec.stable.idleTrack));
    return;
  }
  if (plan.strategy !== 'canary') return;
  if (plan.router !== 'replicas') {
    // Router back to its plain shape before the canary's objects go away.
    if (plan.router === 'istio') {
      await ops.jsonPatch({ ...VS, namespace: ns, name: plan.routerObjects.virtualService! }, [{ op: 'replace', path: '/spec/http/0/route', value: [{ destination: { host: plan.names.service, subset: 'stable' }, weight: 100 }] }]);
    } else if (plan.router === 'gatewayApi') {
      await ops.jsonPatch({ ...ROUTE, namespace: ns, name: plan.routerObjects.httpRoute! }, [{ op: 'replace', path: '/spec/rules/0/backendRefs', value: [{ name: plan.names.service, port: plan.app.port, weight: 100 }] }]);
    }
  } else if (reason === 'rollback' && rec.stable) {
    await ops.mergePatch({ ...DEPLOY, namespace: ns, name: plan.names.stable }, { spec: { replicas: rec.stable.replicas } });
  }
  await ops.deleteAll('networking.k8s.io/v1', 'Ingress', ns, sel('canary')).catch(ignoreMissingKind);
  await ops.deleteAll('apps/v1', 'Deployment', ns, sel('canary'));
  await ops.deleteAll('apps/v1', 'Deployment', ns, sel('baseline'));
  await ops.deleteAll('v1', 'Service', ns, sel('canary'));
  await ops.deleteAll('v1', 'Service', ns, sel('baseline'));
  await ops.deleteAll('batch/v1', 'Job', ns, `${LABEL.run}=${rec.runId}`).catch(ignoreMissingKind);
  if (plan.router === 'istio') {
    const hash = rec.stable?.hash;
    await update(
      ops,
      { ...DR, namespace: ns, name: plan.routerObjects.destinationRule! },
      (o) => {
        const subsets = ((o.spec?.subsets ?? []) as { name: string }[]).filter((x) => x.name !== 'canary' && x.name !== 'baseline');
        o.spec = { ...o.spec, subsets: subsets.map((x) => (x.name === 'stable' && hash ? { name: 'stable', labels: { 'pod-template-hash': hash } } : x)) };
        return o;
      },
      () => notFound(`DestinationRule ${plan.routerObjects.destinationRule}`, ns, 'create it'),
    ).catch((err) => {
      if (!(err instanceof KubeError && err.kind === 'notFound')) throw err;
    });
  }
}

function ignoreMissingKind(err: unknown): void {
  if (err instanceof KubeError && err.kind === 'notFound') return;
  throw err;
}

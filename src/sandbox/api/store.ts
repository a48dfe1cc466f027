/**
 * The sandbox cluster's object store: the one source of truth both the HTTP API server
 * (`server.ts`) and the in-process simulation (controllers under `src/sandbox/sim/`) read and write.
 *
 * Contract (what the simulation may rely on):
 * - Resources are addressed by registry key (`resources.ts`): `pods`, `deployments.apps`,
 *   `virtualservices.networking.istio.io`, ... Namespace argument: the namespace for namespaced
 *   resources, `undefined` (or '') for cluster-scoped ones and for "all namespaces" in list/watch.
 * - One global resourceVersion counter, stamped (as a decimal string) on every successful write.
 * - Every object the store returns is deeply FROZEN and shared: never mutate it. Use
 *   `store.modify(resource, ns, name, draft => { ... })` (clone + change + update in one go) or
 *   `structuredClone` it first. Arguments passed to create/update are cloned, never kept.
 * - `get` throws ApiError 404; `tryGet` returns undefined. `list` → `{ items, resourceVersion }`,
 *   items sorted by namespace then name.
 * - `create`: uid, creationTimestamp, resourceVersion, generation=1, defaults (defaults.ts), status
 *   cleared for resources with a status subresource (unless `keepStatus`, for seeding/benchmarks),
 *   `generateName` honoured, 409 AlreadyExists, 404 when the namespace does not exist, 422 Invalid
 *   with causes for bad objects.
 * - `update`: 409 Conflict when `metadata.resourceVersion` is set and stale; empty resourceVersion is
 *   unconditional for built-in kinds and 422 for custom resources. Main-resource updates keep the stored
 *   status; `{ subresource: 'status' }` changes only status. generation is bumped when anything but
 *   metadata/status changes, or annotations change. A write that changes nothing is a no-op (same
 *   resourceVersion, no event), so controllers can write idempotently without event loops.
 * - `patch(resource, ns, name, patchType, body)` with 'json' | 'merge' | 'strategic' | 'apply'
 *   (server-side apply: create-or-merge, needs `fieldManager`; 409 Conflict with FieldManagerConflict
 *   causes when it would change fields another manager set, unless `force`). Strategic on custom
 *   resources → 415. Writes with a `fieldManager` own the fields they change (managedfields.ts).
 * - `delete` with propagationPolicy Background (default) | Foreground | Orphan: dependents are found
 *   through `metadata.ownerReferences[].uid` and deleted (or orphaned) synchronously. Objects with
 *   `metadata.finalizers` get a deletionTimestamp and stay until an update empties the finalizers.
 *   Deleting a Namespace deletes everything in it.
 * - `watch(resource, ns, fromResourceVersion, selectors, onEvent)`: rv unset/"0" → synthetic ADDED for
 *   what exists, then changes; rv=N → changes after N from a bounded per-resource history (throws
 *   ApiError 410 Expired when N is older than the history). With selectors, objects entering/leaving
 *   them arrive as ADDED/DELETED. Delivery is synchronous, in commit order.
 * - `onChange(listener)`: a synchronous change feed of every committed write, in commit order, for
 *   in-process controllers. A listener that writes to the store from inside the callback is fine:
 *   nested events are queued and delivered after the current one to every listener (no reordering).
 *   Keep listeners cheap; defer heavy work with queueMicrotask.
 * - Every event carries `json()` / `line(type)` caches so the HTTP layer serialises each object once
 *   and fans the same bytes out to every watcher.
 */
import { randomUUID } from 'node:crypto';
import YAML from 'yaml';
import { ApiError, alreadyExists, conflict, invalid, notFound, expired, unsupportedMediaType, badRequest } from './errors';
import { mustResource, type ResourceDef } from './resources';
import { compileSelectors, type CompiledSelectors, type Selectors } from './selectors';
import { applyDefaults, validateObject } from './defaults';
import { dropUnknownFields, findUnknownFields, introduced, strictDecodingMessage, unknownFieldWarning } from './knownfields';
import { applyPatch, type PatchType } from './patch';
import { cloneJson, deepEqual } from './json';
import { recordApply, recordUpdate, type Managers } from './managedfields';

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  [k: string]: unknown;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [k: string]: unknown;
}

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One committed write. Objects are frozen; their bytes and watch lines are computed once and shared. */
export class ChangeEvent {
  /** What watchers receive for `type` (all of them, unless a selector turns the event into ADDED). */
  private _delivery: EventDelivery | undefined;
  private _otherDeliveries: Map<EventType, EventDelivery> | undefined;
  constructor(
    readonly type: EventType,
    /** Registry key of the resource (`deployments.apps`). */
    readonly resource: string,
    readonly object: KubeObject,
    readonly oldObject: KubeObject | undefined,
    readonly resourceVersion: number,
  ) {}
  json(): string {
    return objectJson(this.object);
  }
  /** The watch line `{"type":T,"object":...}\n`, built once per type and shared by all watchers. */
  line(type: EventType = this.type): Buffer {
    return this.delivery(type).line();
  }
  /** What a watcher receives for this event as `type`: one object shared by every watcher. */
  delivery(type: EventType = this.type): WatchDelivery {
    if (type === this.type) return (this._delivery ??= new EventDelivery(this.object, type));
    const m = (this._otherDeliveries ??= new Map());
    let d = m.get(type);
    if (!d) m.set(type, (d = new EventDelivery(this.object, type)));
    return d;
  }
  /** line(type) as an HTTP/1.1 chunk, built once per type. */
  chunk(type: EventType = this.type): Buffer {
    return this.delivery(type).chunk();
  }
}

/**
 * An event as one type, with its bytes built on first use and kept: one per event and type, shared by
 * every watcher. Methods on the prototype rather than closures: nothing to allocate per event but this.
 */
class EventDelivery implements WatchDelivery {
  #framed: Framed | undefined;
  constructor(
    readonly object: KubeObject,
    readonly type: EventType,
  ) {}
  line(): Buffer {
    return (this.#framed ??= frameEvent(this.type, this.object)).line;
  }
  chunk(): Buffer {
    return (this.#framed ??= frameEvent(this.type, this.object)).chunk;
  }
}

const CRLF = Buffer.from('\r\n');

/** Frames bytes as one HTTP/1.1 chunk of a chunked transfer-encoded body. */
export function httpChunk(data: Buffer): Buffer {
  const head = Buffer.from(`${data.length.toString(16)}\r\n`);
  return Buffer.concat([head, data, CRLF], head.length + data.length + 2);
}

const LINE_PREFIX: Record<EventType, Buffer> = {
  ADDED: Buffer.from('{"type":"ADDED","object":'),
  MODIFIED: Buffer.from('{"type":"MODIFIED","object":'),
  DELETED: Buffer.from('{"type":"DELETED","object":'),
};
const LINE_SUFFIX = Buffer.from('}\n');

/** A newline-terminated watch event line for an object. */
export function watchLine(type: EventType, o: KubeObject): Buffer {
  return frameEvent(type, o).line;
}

/** A watch line framed as an HTTP/1.1 chunk, and the line itself (a view into the chunk). */
interface Framed {
  chunk: Buffer;
  line: Buffer;
}

/**
 * httpChunk(watch line of `o`) written into one buffer: the object is serialised and UTF-8 encoded
 * straight into place (or its cached bytes copied once), instead of encoding it, concatenating the
 * line, then concatenating the chunk (three allocations and two extra copies on every commit). A
 * frozen object's bytes are cached as a view into the chunk, so LIST and other types reuse them.
 */
function frameEvent(type: EventType, o: KubeObject): Framed {
  const prefix = LINE_PREFIX[type];
  const cached = bytesCache.get(o);
  const json = cached === undefined ? JSON.stringify(o) : '';
  const bodyLength = cached === undefined ? Buffer.byteLength(json) : cached.length;
  const lineLength = prefix.length + bodyLength + LINE_SUFFIX.length;
  const head = lineLength.toString(16);
  const chunk = Buffer.allocUnsafe(head.length + CRLF.length + lineLength + CRLF.length);
  let at = 0;
  for (let i = 0; i < head.length; i++) chunk[at++] = head.charCodeAt(i);
  at = putBytes(chunk, at, CRLF);
  const lineStart = at;
  at = putBytes(chunk, at, prefix);
  const bodyStart = at;
  at += cached === undefined ? chunk.write(json, at) : cached.copy(chunk, at);
  if (cached === undefined && Object.isFrozen(o)) bytesCache.set(o, chunk.subarray(bodyStart, at));
  at = putBytes(chunk, at, LINE_SUFFIX);
  const line = chunk.subarray(lineStart, at);
  putBytes(chunk, at, CRLF);
  return { chunk, line };
}

/** Copies a few framing bytes into `to` at `at`, returns the offset after them. A plain loop: for a
 * handful of bytes, Buffer#copy and Buffer#write cost more in their call than in copying. */
function putBytes(to: Buffer, at: number, bytes: Buffer): number {
  for (let i = 0; i < bytes.length; i++) to[at++] = bytes[i];
  return at;
}

/** What a watcher receives: the event (for its shared bytes) and the type *for this watcher*. */
export interface WatchDelivery {
  type: EventType;
  object: KubeObject;
  /** The shared serialised line for this delivery. */
  line(): Buffer;
  /** The same line framed as one HTTP/1.1 chunk (`<hex size>\r\n<line>\r\n`), also shared. */
  chunk(): Buffer;
}

export interface Watcher {
  stop(): void;
}

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
}

export interface WriteOptions {
  /** Validate and compute the result, but store nothing and emit nothing. */
  dryRun?: boolean;
  subresource?: 'status';
  /** create only: keep the given status (seeding, benchmarks). */
  keepStatus?: boolean;
  /** Who is writing: takes ownership of the fields it sets (server-side apply conflicts). Writes
   * without one (in-process controllers) own nothing. Required for patch type 'apply'. */
  fieldManager?: string;
  /** apply only: take over fields owned by other managers instead of a 409 conflict. */
  force?: boolean;
  /**
   * A request's `fieldValidation` (knownfields.ts): fields a built-in kind does not have are a 400
   * BadRequest with Strict, dropped with a warning (pushed to `warnings`) with Warn, dropped silently
   * with Ignore. Unset (in-process writes): not checked.
   */
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
  /** Where Warn puts its warnings. */
  warnings?: string[];
  /** The API version the request used, for the messages of strict field validation. */
  version?: string;
}

export interface DeleteOptions {
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export interface StoreOptions {
  /** Events kept per resource for watch resumption (default 5000). */
  historySize?: number;
  /** Milliseconds since the epoch; the sim injects its clock here. */
  now?: () => number;
  /** uid generator (deterministic tests). */
  uid?: () => string;
  /** Random suffix source for generateName (default Math.random). */
  random?: () => number;
}

interface Entry {
  obj: KubeObject;
}

interface WatcherRec {
  ns: string | undefined;
  /** sel.all, kept here: the fan-out of an event to hundreds of watchers then reads one object per
   * watcher, not two (each a likely cache miss after the process was idle). */
  all: boolean;
  sel: CompiledSelectors;
  onEvent: (d: WatchDelivery) => void;
  stopped: boolean;
}

interface ResourceState {
  def: ResourceDef;
  /** namespace ('' for cluster-scoped) → name → entry */
  byNs: Map<string, Map<string, Entry>>;
  history: ChangeEvent[];
  /** Index of the oldest event in the ring (history is a ring buffer once full). */
  historyStart: number;
  /** Watches from resourceVersions < this value are 410 Expired. */
  oldestRv: number;
  fanout: Fanout;
}

/**
 * The watchers in the order they started: the array an event's fan-out walks (no copy per event).
 * Watchers started during a fan-out are appended past its end (they get the next event, not this one);
 * a stopped one is skipped at once and its slot dropped before the next event.
 */
interface Fanout {
  recs: WatcherRec[];
  /** Stopped watchers still in `recs`. */
  stopped: number;
}

/** Drops stopped watchers from the fan-out array; only between fan-outs (none is walking it). */
function compactFanout(f: Fanout): void {
  f.recs = f.recs.filter((w) => !w.stopped);
  f.stopped = 0;
}

const bytesCache = new WeakMap<object, Buffer>();

/** UTF-8 JSON of a stored (frozen) object, encoded once and shared by every LIST and watch. */
export function objectBytes(o: KubeObject): Buffer {
  let b = bytesCache.get(o);
  if (b === undefined) {
    b = Buffer.from(JSON.stringify(o));
    if (Object.isFrozen(o)) bytesCache.set(o, b);
  }
  return b;
}

/** JSON text of an object. */
export function objectJson(o: KubeObject): string {
  return bytesCache.get(o)?.toString() ?? JSON.stringify(o);
}

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * Field validation of a write over HTTP (before defaults): Strict refuses the unknown fields the write
 * brings in (an object stored before may carry some already, from in-process writes); otherwise they
 * are dropped from `obj`, with a warning each for Warn.
 */
function checkFields(def: ResourceDef, obj: KubeObject, old: KubeObject | undefined, opts: WriteOptions): void {
  const found = findUnknownFields(def, obj);
  if (!found.length) return;
  const added = introduced(def, found, old);
  if (opts.fieldValidation === 'Strict') {
    if (added.length) throw badRequest(strictDecodingMessage(def, opts.version, added));
    return;
  }
  dropUnknownFields(found);
  if (opts.fieldValidation === 'Warn' && opts.warnings) for (const p of added) opts.warnings.push(unknownFieldWarning(p));
}

/**
 * Freezes a JSON tree, skipping subtrees that are frozen already (shared with a stored object). It
 * walks own enumerable keys like Object.values would, through for-in (V8's enum cache, no values
 * array per object), and calls itself only for objects.
 */
function deepFreeze<T>(o: T): T {
  if (o === null || typeof o !== 'object' || Object.isFrozen(o)) return o;
  Object.freeze(o);
  if (Array.isArray(o)) {
    for (let i = 0; i < o.length; i++) {
      const v: unknown = o[i];
      if (v !== null && typeof v === 'object') deepFreeze(v);
    }
  } else {
    const r = o as Record<string, unknown>;
    for (const k in r) {
      if (!hasOwn.call(r, k)) continue;
      const v = r[k];
      if (v !== null && typeof v === 'object') deepFreeze(v);
    }
  }
  return o;
}

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const SUFFIX_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

/** Metadata only the server sets: a main-resource update keeps the stored values. */
const SERVER_SET_METADATA = ['name', 'namespace', 'uid', 'creationTimestamp', 'generation', 'deletionTimestamp', 'deletionGracePeriodSeconds'] as const;

export class Store {
  private rv = 0;
  private readonly resources = new Map<string, ResourceState>();
  private readonly listeners = new Set<(e: ChangeEvent) => void>();
  private readonly queue: ChangeEvent[] = [];
  private dispatching = false;
  /** owner uid → keys (`resource\0ns\0name`) of objects naming it in ownerReferences */
  private readonly dependents = new Map<string, Set<string>>();
  /** uids of live objects (the garbage collector's "does this owner still exist?") */
  private readonly liveUids = new Set<string>();
  /** uid → field ownership (server-side apply) */
  private readonly managed = new Map<string, Managers>();
  readonly historySize: number;
  readonly now: () => number;
  private readonly newUid: () => string;
  private readonly random: () => number;

  constructor(opts: StoreOptions = {}) {
    this.historySize = opts.historySize ?? 5000;
    this.now = opts.now ?? Date.now;
    this.newUid = opts.uid ?? randomUUID;
    this.random = opts.random ?? Math.random;
  }

  /** The current global resourceVersion (as the string clients see). */
  get resourceVersion(): string {
    return String(this.rv);
  }

  private state(resource: string): ResourceState {
    let s = this.resources.get(resource);
    if (!s) {
      s = { def: mustResource(resource), byNs: new Map(), history: [], historyStart: 0, oldestRv: 0, fanout: { recs: [], stopped: 0 } };
      this.resources.set(resource, s);
    }
    return s;
  }

  private nsKey(s: ResourceState, namespace: string | undefined): string {
    return s.def.namespaced ? (namespace ?? '') : '';
  }

  tryGet(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const s = this.state(resource);
    return s.byNs.get(this.nsKey(s, namespace))?.get(name)?.obj;
  }

  get(resource: string, namespace: string | undefined, name: string): KubeObject {
    const o = this.tryGet(resource, namespace, name);
    if (!o) throw notFound(this.state(resource).def, name);
    return o;
  }

  /** Lists objects, in namespace (or all namespaces when undefined/''), filtered by selectors. */
  list(resource: string, namespace?: string, selectors?: Selectors): ListResult {
    const s = this.state(resource);
    const sel = compileSelectors(selectors);
    const items: KubeObject[] = [];
    // Sorted by namespace then name, like etcd keys: stable output and name-based continue tokens.
    const pick = (m: Map<string, Entry>) => {
      const names = [...m.keys()].sort();
      for (const n of names) {
        const o = m.get(n)!.obj;
        if (sel.all || sel.matches(o)) items.push(o);
      }
    };
    if (s.def.namespaced && namespace) {
      const m = s.byNs.get(namespace);
      if (m) pick(m);
    } else {
      const nss = [...s.byNs.keys()].sort();
      for (const ns of nss) pick(s.byNs.get(ns)!);
    }
    return { items, resourceVersion: this.resourceVersion };
  }

  /** Number of stored objects of a resource (cheap; for metrics and benchmarks). */
  count(resource: string): number {
    let n = 0;
    for (const m of this.state(resource).byNs.values()) n += m.size;
    return n;
  }

  create(resource: string, input: KubeObject, opts: WriteOptions = {}): KubeObject {
    const s = this.state(resource);
    const def = s.def;
    const obj = dropNulls(cloneJson(input)) as KubeObject;
    if (opts.fieldValidation) checkFields(def, obj, undefined, opts);
    // Storage is version-independent: objects are kept in the preferred version.
    obj.apiVersion = def.group ? `${def.group}/${def.versions[0]}` : def.versions[0];
    obj.kind = def.kind;
    const meta = (obj.metadata ??= {});
    if (def.namespaced) {
      if (!meta.namespace) throw badRequest(`the namespace of the provided object is empty`);
    } else delete meta.namespace;
    if (!meta.name && meta.generateName) meta.name = this.generateName(s, meta.namespace, meta.generateName);
    const name = meta.name ?? '';
    if (def.namespaced && !this.tryGet('namespaces', undefined, meta.namespace!)) {
      throw new ApiError(404, 'NotFound', `namespaces "${meta.namespace}" not found`, { name: meta.namespace, kind: 'namespaces' });
    }
    if (resource !== 'namespaces' && def.namespaced && this.tryGet('namespaces', undefined, meta.namespace!)?.metadata.deletionTimestamp) {
      throw new ApiError(403, 'Forbidden', `${def.plural} "${name}" is forbidden: unable to create new content in namespace ${meta.namespace} because it is being terminated`);
    }
    if (!opts.keepStatus && def.subresources.includes('status')) delete obj.status;
    meta.uid = this.newUid();
    applyDefaults(def, obj, undefined);
    const causes = validateObject(def, obj, undefined);
    if (causes.length) throw invalid(def, name, causes);
    if (this.tryGet(resource, meta.namespace, name)) throw alreadyExists(def, name);
    meta.creationTimestamp = rfc3339(this.now());
    if (def.generation) meta.generation = 1;
    else delete meta.generation;
    delete meta.deletionTimestamp;
    delete meta.resourceVersion;
    if (opts.dryRun) {
      meta.resourceVersion = this.resourceVersion;
      return deepFreeze(obj);
    }
    const created = this.commit(s, 'ADDED', obj, undefined);
    if (opts.fieldManager) {
      const m: Managers = new Map();
      recordUpdate(m, opts.fieldManager, undefined, input);
      this.managed.set(created.metadata.uid!, m);
    }
    return created;
  }

  update(resource: string, input: KubeObject, opts: WriteOptions = {}): KubeObject {
    const s = this.state(resource);
    const def = s.def;
    const meta = input.metadata ?? {};
    const name = meta.name ?? '';
    const old = this.tryGet(resource, meta.namespace, name);
    if (!old) throw notFound(def, name);
    if (meta.resourceVersion) {
      if (meta.resourceVersion !== old.metadata.resourceVersion) throw conflict(def, name);
    } else if (def.custom) {
      throw invalid(def, name, [{ type: 'FieldValueInvalid', field: 'metadata.resourceVersion', message: 'Invalid value: 0x0: must be specified for an update' }]);
    }
    if (meta.uid && meta.uid !== old.metadata.uid) {
      throw conflict(def, name, `Precondition failed: UID in precondition: ${meta.uid}, UID in object meta: ${old.metadata.uid}`);
    }
    return this.updateFrom(s, old, input, opts);
  }

  /** Applies an already-checked update of `old` (rv checks done by the caller). */
  private updateFrom(s: ResourceState, old: KubeObject, input: KubeObject, opts: WriteOptions, owned = false): KubeObject {
    // `owned`: input is a private copy (modify's draft), so it need not be copied again. (Written out
    // below rather than as a local helper: a closure per write shows in profiles of this path.)
    const def = s.def;
    let obj: KubeObject;
    /** specChanged found a difference outside metadata/status (or in annotations): obj cannot equal old. */
    let differs = false;
    if (opts.subresource === 'status') {
      obj = cloneJson(old) as KubeObject;
      if (input.status === undefined || input.status === null) delete obj.status;
      else obj.status = dropNulls(owned ? input.status : cloneJson(input.status));
      // kube-apiserver's Deployment status strategy resets only spec and labels: annotations written
      // through /status stick without a generation bump (the controller's revision annotation does this).
      if (def.key === 'deployments.apps' && input.metadata) {
        const annotations = dropNulls(cloneJson(input.metadata.annotations ?? {})) as Record<string, string>;
        if (Object.keys(annotations).length) obj.metadata.annotations = annotations;
        else delete obj.metadata.annotations;
      }
    } else {
      obj = dropNulls(owned ? input : cloneJson(input)) as KubeObject;
      if (opts.fieldValidation) checkFields(def, obj, old, opts);
      obj.apiVersion = old.apiVersion;
      obj.kind = old.kind;
      const meta = (obj.metadata ??= {});
      for (const k of SERVER_SET_METADATA) {
        if (old.metadata[k] === undefined) delete meta[k];
        else (meta as Record<string, unknown>)[k] = old.metadata[k];
      }
      if (def.subresources.includes('status')) {
        if (old.status === undefined) delete obj.status;
        else obj.status = cloneJson(old.status);
      }
      applyDefaults(def, obj, old);
      const causes = validateObject(def, obj, old);
      if (causes.length) throw invalid(def, old.metadata.name ?? '', causes);
      if (specChanged(old, obj)) {
        if (def.generation) meta.generation = (old.metadata.generation ?? 1) + 1;
        differs = true;
      }
    }
    obj.metadata.resourceVersion = old.metadata.resourceVersion;
    if (!differs && deepEqual(obj, old)) return old;
    if (opts.dryRun) return deepFreeze(obj);
    // A terminating object whose last finalizer was just removed goes away now.
    if (obj.metadata.deletionTimestamp && !(obj.metadata.finalizers?.length)) {
      this.commit(s, 'MODIFIED', obj, old);
      const cur = this.tryGet(def.key, obj.metadata.namespace, obj.metadata.name!)!;
      return this.remove(s, cur);
    }
    const updated = this.commit(s, 'MODIFIED', obj, old);
    if (opts.fieldManager && opts.subresource !== 'status') {
      const uid = updated.metadata.uid!;
      const m = this.managed.get(uid) ?? new Map();
      recordUpdate(m, opts.fieldManager, old, updated);
      this.managed.set(uid, m);
    }
    return updated;
  }

  /**
   * Clone-change-update in one step for in-process controllers. `fn` gets a mutable copy; return
   * `false` from it to skip the write. With `subresource: 'status'` only status changes are kept.
   */
  modify(resource: string, namespace: string | undefined, name: string, fn: (draft: KubeObject) => void | boolean, opts: WriteOptions = {}): KubeObject {
    const s = this.state(resource);
    const old = this.get(resource, namespace, name);
    const draft = cloneJson(old) as KubeObject;
    if (fn(draft) === false) return old;
    return this.updateFrom(s, old, draft, opts, true);
  }

  patch(resource: string, namespace: string | undefined, name: string, type: PatchType, body: unknown, opts: WriteOptions = {}): KubeObject {
    const s = this.state(resource);
    const def = s.def;
    if (type === 'strategic' && def.custom) throw unsupportedMediaType('application/strategic-merge-patch+json');
    if (type === 'apply' && !opts.fieldManager) throw badRequest('fieldManager is required for apply requests');
    const old = this.tryGet(resource, namespace, name);
    if (!old) {
      if (type === 'apply' && !opts.subresource) {
        const created = applyPatch(def, { apiVersion: '', kind: '', metadata: {} }, type, body, opts) as KubeObject;
        created.metadata = { ...(created.metadata ?? {}), name, ...(def.namespaced ? { namespace } : {}) };
        const result = this.create(resource, created, { ...opts, fieldManager: undefined });
        if (!opts.dryRun) {
          const m: Managers = new Map();
          recordApply(def, def.versions[0], m, opts.fieldManager!, undefined, parsedApply(body), true);
          this.managed.set(result.metadata.uid!, m);
        }
        return result;
      }
      throw notFound(def, name);
    }
    if (type === 'apply') {
      // Check ownership first (throws 409 on conflicts); commit the new ownership only if the write succeeds.
      const next: Managers = new Map([...(this.managed.get(old.metadata.uid!) ?? new Map())].map(([k, v]) => [k, { operation: v.operation, fields: new Set(v.fields) }]));
      const applied = parsedApply(body);
      recordApply(def, def.versions[0], next, opts.fieldManager!, old, applied, !!opts.force);
      const patched = applyPatch(def, old, type, applied, opts) as KubeObject;
      patched.metadata = { ...(patched.metadata ?? {}), name, ...(def.namespaced ? { namespace: old.metadata.namespace } : {}) };
      delete patched.metadata.resourceVersion;
      const result = this.updateFrom(s, old, patched, { ...opts, fieldManager: undefined });
      if (!opts.dryRun) this.managed.set(old.metadata.uid!, next);
      return result;
    }
    const patched = applyPatch(def, old, type, body, opts) as KubeObject;
    if (typeof patched !== 'object' || patched === null || Array.isArray(patched)) throw badRequest('the patch result is not an object');
    const pm = patched.metadata ?? {};
    if (pm.name !== undefined && pm.name !== name) {
      throw invalid(def, name, [{ field: 'metadata.name', message: `Invalid value: "${String(pm.name)}": field is immutable` }]);
    }
    if (pm.resourceVersion && pm.resourceVersion !== old.metadata.resourceVersion) throw conflict(def, name);
    if (pm.uid && pm.uid !== old.metadata.uid) throw conflict(def, name, `Precondition failed: UID in precondition: ${String(pm.uid)}, UID in object meta: ${old.metadata.uid}`);
    patched.metadata = { ...pm, name, ...(def.namespaced ? { namespace: old.metadata.namespace } : {}) };
    return this.updateFrom(s, old, patched, opts);
  }

  delete(resource: string, namespace: string | undefined, name: string, opts: DeleteOptions = {}): KubeObject {
    const s = this.state(resource);
    const old = this.get(resource, namespace, name);
    const pre = opts.preconditions;
    if (pre?.uid && pre.uid !== old.metadata.uid) {
      throw conflict(s.def, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid}`);
    }
    if (pre?.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(s.def, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`);
    }
    if (opts.dryRun) return old;
    const policy = opts.propagationPolicy ?? 'Background';
    if (old.metadata.finalizers?.length) {
      if (old.metadata.deletionTimestamp) return old;
      const obj = cloneJson(old) as KubeObject;
      obj.metadata.deletionTimestamp = rfc3339(this.now());
      obj.metadata.deletionGracePeriodSeconds = 0;
      if (resource === 'namespaces') obj.status = { ...((obj.status as object) ?? {}), phase: 'Terminating' };
      return this.commit(s, 'MODIFIED', obj, old);
    }
    if (policy === 'Orphan') {
      this.orphanDependents(old.metadata.uid!);
      return this.remove(s, old);
    }
    if (policy === 'Foreground') {
      this.deleteDependents(old.metadata.uid!, 'Foreground');
      if (resource === 'namespaces') this.deleteNamespaceContents(name);
      const cur = this.tryGet(resource, namespace, name);
      return cur ? this.remove(s, cur) : old;
    }
    const removed = this.remove(s, old);
    this.deleteDependents(old.metadata.uid!, 'Background');
    if (resource === 'namespaces') this.deleteNamespaceContents(name);
    return removed;
  }

  /** Deletes every object of a resource in a namespace matching selectors (deletecollection). */
  deleteCollection(resource: string, namespace: string | undefined, selectors?: Selectors, opts: DeleteOptions = {}): KubeObject[] {
    const { items } = this.list(resource, namespace, selectors);
    const out: KubeObject[] = [];
    for (const o of items) {
      if (this.tryGet(resource, o.metadata.namespace, o.metadata.name!) !== o) continue;
      out.push(this.delete(resource, o.metadata.namespace, o.metadata.name!, { ...opts, preconditions: undefined }));
    }
    return out;
  }

  /**
   * Watches a resource. `fromResourceVersion` unset/'' /'0' → synthetic ADDED events for what exists
   * (matching ns/selectors), then changes. Otherwise changes after that version from the history;
   * throws ApiError 410 when it is older than the history.
   */
  watch(resource: string, namespace: string | undefined, fromResourceVersion: string | undefined, selectors: Selectors | undefined, onEvent: (d: WatchDelivery) => void): Watcher {
    const s = this.state(resource);
    const sel = compileSelectors(selectors);
    const ns = s.def.namespaced && namespace ? namespace : undefined;
    const rec: WatcherRec = { ns, all: sel.all, sel, onEvent, stopped: false };
    const from = fromResourceVersion ?? '';
    if (from === '' || from === '0') {
      const { items } = this.list(resource, ns, sel.all ? undefined : { labelSelector: sel.label, fieldSelector: sel.field });
      for (const o of items) {
        if (rec.stopped) break;
        onEvent(new EventDelivery(o, 'ADDED'));
      }
    } else {
      const n = Number(from);
      if (!Number.isInteger(n) || n < 0) throw badRequest(`invalid resource version "${from}"`);
      if (n < s.oldestRv) throw expired(`too old resource version: ${n} (${s.oldestRv})`);
      const h = s.history;
      for (let i = 0; i < h.length && !rec.stopped; i++) {
        const ev = h[(s.historyStart + i) % h.length];
        if (ev.resourceVersion > n) this.deliver(rec, ev);
      }
    }
    // A watcher stopped by one of its initial events never joins the fan-out.
    const registered = !rec.stopped;
    if (registered) s.fanout.recs.push(rec);
    return {
      stop: () => {
        if (rec.stopped) return;
        rec.stopped = true;
        if (registered) s.fanout.stopped++;
      },
    };
  }

  /** Subscribes to every committed write (all resources). Returns an unsubscribe function. */
  onChange(listener: (e: ChangeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Number of live watchers (all resources); for tests and the admin endpoint. */
  watcherCount(): number {
    let n = 0;
    for (const s of this.resources.values()) n += s.fanout.recs.length - s.fanout.stopped;
    return n;
  }

  // --- internals -----------------------------------------------------------------------------------

  private generateName(s: ResourceState, ns: string | undefined, prefix: string): string {
    for (;;) {
      let suffix = '';
      for (let i = 0; i < 5; i++) suffix += SUFFIX_CHARS[Math.floor(this.random() * SUFFIX_CHARS.length)];
      const name = `${prefix}${suffix}`;
      if (!this.tryGet(s.def.key, ns, name)) return name;
    }
  }

  private commit(s: ResourceState, type: EventType, obj: KubeObject, old: KubeObject | undefined): KubeObject {
    this.rv++;
    obj.metadata.resourceVersion = String(this.rv);
    deepFreeze(obj);
    const ns = this.nsKey(s, obj.metadata.namespace);
    let m = s.byNs.get(ns);
    if (!m) s.byNs.set(ns, (m = new Map()));
    m.set(obj.metadata.name!, { obj });
    this.liveUids.add(obj.metadata.uid!);
    this.indexOwners(s.def.key, old, obj);
    this.emit(s, new ChangeEvent(type, s.def.key, obj, old, this.rv));
    return obj;
  }

  private remove(s: ResourceState, old: KubeObject): KubeObject {
    const ns = this.nsKey(s, old.metadata.namespace);
    const m = s.byNs.get(ns);
    m?.delete(old.metadata.name!);
    if (m && m.size === 0) s.byNs.delete(ns);
    this.rv++;
    const obj = cloneJson(old) as KubeObject;
    obj.metadata.resourceVersion = String(this.rv);
    deepFreeze(obj);
    this.liveUids.delete(old.metadata.uid!);
    this.managed.delete(old.metadata.uid!);
    this.indexOwners(s.def.key, old, undefined);
    this.emit(s, new ChangeEvent('DELETED', s.def.key, obj, old, this.rv));
    return obj;
  }

  private depKey(resource: string, o: KubeObject): string {
    return `${resource}\0${o.metadata.namespace ?? ''}\0${o.metadata.name}`;
  }

  private indexOwners(resource: string, old: KubeObject | undefined, cur: KubeObject | undefined): void {
    const before = old?.metadata.ownerReferences ?? [];
    const after = cur?.metadata.ownerReferences ?? [];
    if (before.length === 0 && after.length === 0) return;
    const key = this.depKey(resource, (cur ?? old)!);
    for (const r of before) {
      if (after.some((a) => a.uid === r.uid)) continue;
      const set = this.dependents.get(r.uid);
      set?.delete(key);
      if (set && set.size === 0) this.dependents.delete(r.uid);
    }
    for (const r of after) {
      let set = this.dependents.get(r.uid);
      if (!set) this.dependents.set(r.uid, (set = new Set()));
      set.add(key);
    }
  }

  private dependentsOf(uid: string): { resource: string; ns: string; name: string }[] {
    return [...(this.dependents.get(uid) ?? [])].map((k) => {
      const [resource, ns, name] = k.split('\0');
      return { resource, ns, name };
    });
  }

  private deleteDependents(uid: string, policy: 'Background' | 'Foreground'): void {
    for (const d of this.dependentsOf(uid)) {
      const o = this.tryGet(d.resource, d.ns, d.name);
      if (!o) continue;
      // Like the garbage collector: a dependent with another live owner survives.
      const others = (o.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
      if (others.some((r) => this.ownerExists(r.uid))) {
        this.modify(d.resource, d.ns, d.name, (draft) => {
          draft.metadata.ownerReferences = others;
        });
        continue;
      }
      try {
        this.delete(d.resource, d.ns || undefined, d.name, { propagationPolicy: policy });
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) throw e;
      }
    }
  }

  private ownerExists(uid: string): boolean {
    return this.liveUids.has(uid);
  }

  private orphanDependents(uid: string): void {
    for (const d of this.dependentsOf(uid)) {
      if (!this.tryGet(d.resource, d.ns, d.name)) continue;
      this.modify(d.resource, d.ns, d.name, (draft) => {
        const refs = (draft.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
        if (refs.length) draft.metadata.ownerReferences = refs;
        else delete draft.metadata.ownerReferences;
      });
    }
  }

  private deleteNamespaceContents(ns: string): void {
    for (const s of this.resources.values()) {
      if (!s.def.namespaced) continue;
      const m = s.byNs.get(ns);
      if (!m) continue;
      for (const e of [...m.values()]) {
        const cur = this.tryGet(s.def.key, ns, e.obj.metadata.name!);
        if (cur) this.remove(s, cur);
      }
    }
  }

  private emit(s: ResourceState, ev: ChangeEvent): void {
    // History ring buffer.
    if (s.history.length < this.historySize) s.history.push(ev);
    else {
      const dropped = s.history[s.historyStart];
      s.history[s.historyStart] = ev;
      s.historyStart = (s.historyStart + 1) % s.history.length;
      s.oldestRv = dropped.resourceVersion;
    }
    this.queue.push(ev);
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      while (this.queue.length) {
        const e = this.queue.shift()!;
        const st = this.resources.get(e.resource)!;
        const f = st.fanout;
        if (f.stopped > 0) compactFanout(f);
        // Watchers started by a callback in this loop are appended past n: they get the next event.
        const recs = f.recs;
        const n = recs.length;
        for (let i = 0; i < n; i++) if (!recs[i].stopped) this.deliver(recs[i], e);
        for (const l of [...this.listeners]) l(e);
      }
    } finally {
      this.dispatching = false;
    }
  }

  private deliver(w: WatcherRec, ev: ChangeEvent): void {
    const o = ev.object;
    if (w.ns !== undefined && o.metadata.namespace !== w.ns) return;
    if (w.all) {
      w.onEvent(ev.delivery());
      return;
    }
    const now = ev.type !== 'DELETED' && w.sel.matches(o);
    const before = ev.oldObject !== undefined && w.sel.matches(ev.oldObject);
    if (ev.type === 'DELETED') {
      if (before) w.onEvent(ev.delivery());
    } else if (now && (before || ev.type === 'ADDED')) {
      w.onEvent(ev.delivery());
    } else if (now) {
      w.onEvent(ev.delivery('ADDED'));
    } else if (before) {
      // Left the selector: kube-apiserver sends the previous state stamped with the new version.
      const gone = cloneJson(ev.oldObject!) as KubeObject;
      gone.metadata.resourceVersion = String(ev.resourceVersion);
      w.onEvent(new EventDelivery(gone, 'DELETED'));
    }
  }
}

function parsedApply(body: unknown): unknown {
  if (typeof body !== 'string') return body;
  try {
    return YAML.parse(body);
  } catch (e) {
    throw badRequest(`error decoding YAML: ${(e as Error).message}`);
  }
}

/**
 * Removes null members (recursively), as decoding into kube-apiserver's Go types does: `null` means
 * "unset" (e.g. the `creationTimestamp: null` kubectl sends inside pod templates), so a template
 * round-tripped through kubectl compares equal to the stored one.
 */
function dropNulls(v: unknown): unknown {
  dropNullsDeep(v);
  // Go's omitempty: empty metadata maps and lists are not stored (removing the last label with a
  // merge patch leaves no `labels: {}` behind).
  const meta = (v as { metadata?: Record<string, unknown> } | null)?.metadata;
  if (meta && typeof meta === 'object') {
    for (const k of ['labels', 'annotations', 'finalizers', 'ownerReferences']) {
      const m = meta[k];
      if (m && typeof m === 'object' && Object.keys(m).length === 0) delete meta[k];
    }
  }
  return v;
}

function dropNullsDeep(v: unknown): unknown {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = dropNullsDeep(v[i]);
  } else if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    // for-in, not Object.keys: no keys array per object (deleting the current key is safe in for-in).
    for (const k in o) {
      if (!hasOwn.call(o, k)) continue;
      const x = o[k];
      if (x === null) delete o[k];
      else if (typeof x === 'object') dropNullsDeep(x);
    }
  }
  return v;
}

/** True when anything but metadata/status changed, or the annotations changed (generation bump). */
function specChanged(old: KubeObject, cur: KubeObject): boolean {
  const keys = new Set([...Object.keys(old), ...Object.keys(cur)]);
  for (const k of keys) {
    if (k === 'metadata' || k === 'status' || k === 'apiVersion' || k === 'kind') continue;
    if (!deepEqual(old[k], cur[k])) return true;
  }
  return !deepEqual(old.metadata.annotations ?? {}, cur.metadata.annotations ?? {});
}

export { ApiError } from './errors';
export type { PatchType } from './patch';

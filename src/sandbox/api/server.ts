// The HTTP face of the sandbox cluster: Kubernetes REST and watch protocol over a Store.
// `createApiServer({ store })` returns a request handler plus the hook points the simulation fills:
//   server.faults          mutable fault-injection settings (faults.ts)
//   server.hooks.serviceProxy  /api/v1/namespaces/{ns}/services/{name}[:port]/proxy/{path}
//   server.hooks.podLogs       GET .../pods/{name}/log
//   server.hooks.admin         everything under /admin/
// `listen(port)` serves HTTP/1.1 and HTTP/2 on one port (transport.ts; port 0 allowed) and `close()`
// ends open watches first.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import YAML from 'yaml';
import { ApiError, badRequest, conflict, methodNotSupported, notFound, toStatus, unsupportedMediaType, type Status } from './errors';
import { noFaults, faultReason, type Faults } from './faults';
import { apiGroupDoc, apiGroupList, apiResourceList, apiVersions, openApiDoc, openApiIndex, SERVER_VERSION } from './discovery';
import { applyPatch, patchTypeOf, type PatchType } from './patch';
import { decodeProtobuf, PROTOBUF_MEDIA_TYPE } from './protobuf';
import { apiVersionOf, resourceFor, type ResourceDef } from './resources';
import { compileSelectors, labelSelectorString, parseLabelSelector, type FieldSelector, type LabelSelector, type LabelSelectorObject } from './selectors';
import { fieldSelectorFor } from './fieldlabels';
import { httpChunk, objectBytes, objectJson, type KubeObject, type Store, type Watcher, type WriteOptions } from './store';
import { toTable, type IncludeObject } from './tables';
import { isPlainObject } from './json';
import { createTransport, type Transport } from './transport';
import type { ServingCertificate } from './tls';

export interface ServiceProxyTarget {
  namespace: string;
  service: string;
  /** Port name or number from `name:port` (undefined when absent). */
  port?: string;
  /** Path after `/proxy`, starting with '/'. */
  path: string;
  /** Raw query string including '?', or ''. */
  search: string;
}

export interface PodLogRequest {
  namespace: string;
  pod: KubeObject;
  /** Container name (defaulted to the only/first container). */
  container: string;
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  tailLines?: number;
  sinceSeconds?: number;
  limitBytes?: number;
  /** Aborted when the client goes away (for follow streams). */
  signal: AbortSignal;
}

/** Log lines (each ending in '\n'), or a stream of chunks for `follow`. */
export type PodLogResult = string | AsyncIterable<string>;

export interface ApiServerHooks {
  serviceProxy?: (req: http.IncomingMessage, res: http.ServerResponse, target: ServiceProxyTarget) => void | Promise<void>;
  podLogs?: (req: PodLogRequest) => PodLogResult | Promise<PodLogResult>;
  /** Handles /admin/...; `path` is what follows `/admin` (starts with '/'). */
  admin?: (req: http.IncomingMessage, res: http.ServerResponse, path: string) => void | Promise<void>;
}

export interface ApiServerOptions {
  store: Store;
  hooks?: ApiServerHooks;
  faults?: Partial<Faults>;
  /** Interval of BOOKMARK events on watches that allow them (default 10 s). */
  bookmarkIntervalMs?: number;
  /** Random source for fault injection (default Math.random). */
  random?: () => number;
  /** Namespaces kube-apiserver's bootstrap controller guarantees (created when missing);
   * default: default, kube-system, kube-public, kube-node-lease. */
  systemNamespaces?: string[];
  /** Serve HTTPS with this certificate (HTTP/2 or HTTP/1.1 by ALPN); default plain HTTP (and h2c). */
  tls?: ServingCertificate;
}

export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export interface ApiServer {
  readonly store: Store;
  readonly hooks: ApiServerHooks;
  readonly faults: Faults;
  /** The request listener (usable with any http.Server). */
  handle(req: http.IncomingMessage, res: http.ServerResponse): void;
  /** Starts listening (port 0 = any free port) on 127.0.0.1 by default; resolves to the base URL. */
  listen(port?: number, host?: string): Promise<string>;
  /** The base URL once listening. */
  readonly url: string | undefined;
  /** Number of open watch streams. */
  openWatches(): number;
  /** Requests answered so far by HTTP version ('1.1', '2.0'): which protocol clients chose. */
  requestsByHttpVersion(): Record<string, number>;
  /** Ends open watch streams and stops listening. */
  close(): Promise<void>;
}

const JSON_TYPE = 'application/json';

function sendJson(res: http.ServerResponse, code: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': JSON_TYPE, 'Cache-Control': 'no-cache, private', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function sendStatus(res: http.ServerResponse, s: Status, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(s);
  res.writeHead(s.code, { 'Content-Type': JSON_TYPE, 'Cache-Control': 'no-cache, private', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The parsed target of a resource request. */
interface Target {
  def: ResourceDef;
  version: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  /** Remaining path after the subresource (service proxy). */
  rest: string[];
  watchPath: boolean;
}

function parseResourcePath(segments: string[]): Target | undefined {
  let group = '';
  let version: string;
  let i: number;
  if (segments[0] === 'api') {
    version = segments[1];
    i = 2;
  } else {
    group = segments[1];
    version = segments[2];
    i = 3;
  }
  let watchPath = false;
  if (segments[i] === 'watch') {
    watchPath = true;
    i++;
  }
  let rest = segments.slice(i);
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3 && !['status', 'finalize'].includes(rest[2])) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const def = resourceFor(group, version, rest[0] ?? '');
  if (!def) return undefined;
  if (def.namespaced === false && namespace !== undefined) return undefined;
  return { def, version, namespace, name: rest[1], subresource: rest[2], rest: rest.slice(3), watchPath };
}

/** The field manager of a write: `?fieldManager=`, else the User-Agent's product (`kubectl`), as kube-apiserver does. */
function managerOf(req: http.IncomingMessage, q: URLSearchParams): string {
  const explicit = q.get('fieldManager');
  if (explicit) return explicit;
  const ua = req.headers['user-agent'] ?? '';
  return ua.split('/')[0].trim().slice(0, 128) || 'unknown';
}

/** A namespaced object written through a namespace's URL lives there; a body naming another is refused. */
function takeNamespaceFromUrl(def: ResourceDef, body: KubeObject, namespace: string | undefined): void {
  if (!def.namespaced) return;
  if (body.metadata.namespace && body.metadata.namespace !== namespace) {
    throw badRequest(`the namespace of the provided object (${body.metadata.namespace}) does not match the namespace sent on the request (${namespace})`);
  }
  body.metadata.namespace = namespace;
}

function qbool(v: string | null): boolean {
  return v === 'true' || v === '1';
}

/** Objects are stored in the preferred version; other served versions get their apiVersion rewritten. */
function outJson(def: ResourceDef, version: string, o: KubeObject): string {
  if (version === def.versions[0]) return objectJson(o);
  return JSON.stringify({ ...o, apiVersion: apiVersionOf(def, version) });
}

function outBytes(def: ResourceDef, version: string, o: KubeObject): Buffer {
  return version === def.versions[0] ? objectBytes(o) : Buffer.from(outJson(def, version, o));
}

const COMMA = Buffer.from(',');

/** Bytes queued for one watch stream beyond which the watcher is considered gone. */
const MAX_WATCH_BACKLOG = 64 * 1024 * 1024;

/**
 * One watch stream as the watch writer sees it: what it has been handed and not yet written, and how
 * to write that (to the raw socket of an HTTP/1.1 response, or through an HTTP/2 stream).
 */
interface WatchOutput {
  pending: (string | Buffer)[];
  send(items: (string | Buffer)[]): void;
}

/**
 * An HTTP/1.1 watch written straight to its socket as pre-framed chunks (the bytes res.write would
 * produce, without per-watcher framing work): one write for one event, one corked writev for several.
 */
function socketOutput(socket: Socket, onBacklog: () => void): WatchOutput {
  return {
    pending: [],
    send(items) {
      if (socket.destroyed) return;
      if (items.length === 1) socket.write(items[0]);
      else {
        socket.cork();
        for (const c of items) socket.write(c);
        socket.uncork();
      }
      // A watcher that stopped reading is dropped (as kube-apiserver does) rather than buffered forever.
      if (socket.writableLength > MAX_WATCH_BACKLOG) onBacklog();
    },
  };
}

/** An HTTP/2 watch, written through its response; `stream` because the compatibility response has no `destroyed`. */
function streamOutput(res: http.ServerResponse, stream: { destroyed: boolean }, onBacklog: () => void): WatchOutput {
  return {
    pending: [],
    send(items) {
      if (stream.destroyed) return;
      for (const l of items) res.write(l);
      if (res.writableLength > MAX_WATCH_BACKLOG) onBacklog();
    },
  };
}

/**
 * Writes watch events after the tick in which they were committed. A commit hands each watcher its event
 * with an array push (no per-watcher cork, timer or closure); right after the tick the writer writes the
 * waiting watchers, `slice` of them per turn of the event loop, so a burst of commits in one tick leaves
 * as one write per watcher. Every write of a watch stream goes through its writer, so order is kept.
 *
 * HTTP/1.1 sockets write at once, so one pass serves them all. Node's HTTP/2 session sends what its streams
 * were given only in a native immediate, after the JavaScript that wrote them returns: writing all 200
 * streams of a commit in one pass held every frame back until the last stream was written. A slice per
 * turn puts the first frames on the wire while later streams are still being written, as
 * kube-apiserver's per-connection writer sends frames as they are ready.
 */
class WatchWriter {
  private queued: WatchOutput[] = [];
  private scheduled = false;

  constructor(private readonly slice: number) {}

  push(out: WatchOutput, item: string | Buffer): void {
    if (out.pending.push(item) === 1) this.queued.push(out);
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(() => this.run());
    }
  }

  /** Writes what one stream has pending (before it ends, or in its turn). */
  flush(out: WatchOutput): void {
    const items = out.pending;
    if (!items.length) return;
    out.pending = [];
    out.send(items);
  }

  private run(): void {
    const turn = this.queued.splice(0, this.slice);
    for (const out of turn) this.flush(out);
    if (this.queued.length) setImmediate(() => this.run());
    else this.scheduled = false;
  }
}

/**
 * Streams written per turn of the event loop by the HTTP/2 watch writer. Small enough that the first
 * frames leave early, large enough that each turn's frames fill a few TLS records and socket writes.
 */
const H2_WRITE_SLICE = 25;

/**
 * Headers of a streamed response (watch, followed logs). HTTP/1.1 frames it in chunks; HTTP/2 frames every
 * response in DATA frames and forbids connection-specific headers such as Transfer-Encoding (RFC 9113 §8.2.2).
 */
function streamHeaders(req: http.IncomingMessage, headers: Record<string, string>): Record<string, string> {
  return req.httpVersionMajor >= 2 ? headers : { ...headers, 'Transfer-Encoding': 'chunked' };
}

/** A list body from the objects' cached bytes, written piecewise: no big string is ever built. */
function sendList(res: http.ServerResponse, head: string, items: Buffer[]): void {
  const first = Buffer.from(head);
  const last = Buffer.from(']}');
  let total = first.length + last.length + Math.max(0, items.length - 1);
  for (const b of items) total += b.length;
  res.writeHead(200, { 'Content-Type': JSON_TYPE, 'Cache-Control': 'no-cache, private', 'Content-Length': total });
  res.cork();
  res.write(first);
  for (let i = 0; i < items.length; i++) {
    if (i) res.write(COMMA);
    res.write(items[i]);
  }
  res.end(last);
}

function wantsTable(accept: string | undefined): boolean {
  return !!accept && /as=Table/.test(accept);
}

function includeObjectOf(q: URLSearchParams): IncludeObject {
  const v = q.get('includeObject');
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}

interface ContinueToken {
  rv: string;
  after: string;
}

function encodeContinue(t: ContinueToken): string {
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}

function decodeContinue(s: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(s, 'base64url').toString()) as ContinueToken;
    if (typeof t.after !== 'string') throw new Error('bad');
    return t;
  } catch {
    throw badRequest(`invalid continue token "${s}"`);
  }
}

function scaleOf(o: KubeObject): unknown {
  const spec = (o.spec ?? {}) as Record<string, unknown>;
  const st = (o.status ?? {}) as Record<string, unknown>;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: o.metadata.name, namespace: o.metadata.namespace, uid: o.metadata.uid, resourceVersion: o.metadata.resourceVersion, creationTimestamp: o.metadata.creationTimestamp },
    spec: { replicas: typeof spec.replicas === 'number' ? spec.replicas : 0 },
    status: { replicas: typeof st.replicas === 'number' ? st.replicas : 0, selector: labelSelectorString(spec.selector as LabelSelectorObject) },
  };
}

export function createApiServer(opts: ApiServerOptions): ApiServer {
  const store = opts.store;
  for (const name of opts.systemNamespaces ?? SYSTEM_NAMESPACES) {
    if (!store.tryGet('namespaces', undefined, name)) store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }
  const hooks: ApiServerHooks = { ...(opts.hooks ?? {}) };
  const faults: Faults = Object.assign(noFaults(), opts.faults ?? {});
  const random = opts.random ?? Math.random;
  const bookmarkMs = opts.bookmarkIntervalMs ?? 10_000;
  const watches = new Set<http.ServerResponse>();
  const socketWriter = new WatchWriter(Infinity);
  const streamWriter = new WatchWriter(H2_WRITE_SLICE);
  let transport: Transport | undefined;
  const byHttpVersion = new Map<string, number>();
  let baseUrl: string | undefined;

  async function parseBody(req: http.IncomingMessage, def: ResourceDef): Promise<KubeObject> {
    const buf = await readBody(req);
    const ct = (req.headers['content-type'] ?? JSON_TYPE).split(';')[0].trim().toLowerCase();
    if (ct === PROTOBUF_MEDIA_TYPE) return decodeProtobuf(buf) as KubeObject;
    let body: unknown;
    try {
      body = ct.includes('yaml') ? YAML.parse(buf.toString('utf8')) : JSON.parse(buf.toString('utf8'));
    } catch (e) {
      throw badRequest(`error decoding request body: ${(e as Error).message}`);
    }
    if (!isPlainObject(body)) throw badRequest('the request body is not a JSON object');
    if (body.kind !== undefined && body.kind !== def.kind) throw badRequest(`the kind "${String(body.kind)}" does not match the resource ${def.plural} (expected ${def.kind})`);
    if (!isPlainObject(body.metadata)) body.metadata = {};
    return body as KubeObject;
  }

  /** Whether the faults' `resources` / `verbs` limits take in a request (every fault honours them). */
  function faulted(verb: string, def: ResourceDef): boolean {
    return (!faults.resources.length || faults.resources.includes(def.key)) && (!faults.verbs.length || faults.verbs.includes(verb));
  }

  function applyFaults(verb: string, def: ResourceDef, name: string | undefined, res: http.ServerResponse): boolean {
    if (!faulted(verb, def)) return false;
    if (faults.errorRate > 0 && random() < faults.errorRate) {
      const codes = faults.errorCodes.length ? faults.errorCodes : [500];
      const code = codes[Math.floor(random() * codes.length)];
      const [reason, message] = faultReason(code);
      sendStatus(res, new ApiError(code, reason, message, code === 429 ? { retryAfterSeconds: 1 } : undefined).status, code === 429 ? { 'Retry-After': '1' } : {});
      return true;
    }
    if ((verb === 'update' || verb === 'patch') && faults.conflictRate > 0 && random() < faults.conflictRate) {
      // The same Status a stale write gets, naming the object (kubectl prints the message as is).
      sendStatus(res, conflict(def, name ?? '').status);
      return true;
    }
    return false;
  }

  /**
   * A write's `fieldValidation` (Strict: unknown fields of built-in kinds refused; Warn, the default:
   * dropped with a warning each; Ignore: dropped). The warnings go out with `withWarnings`.
   */
  function fieldValidation(t: Target, q: URLSearchParams): Required<Pick<WriteOptions, 'fieldValidation' | 'warnings' | 'version'>> {
    const asked = q.get('fieldValidation');
    return { fieldValidation: asked === 'Strict' || asked === 'Ignore' ? asked : 'Warn', warnings: [], version: t.version };
  }

  /** Sets a `Warning: 299 - "..."` header per warning (kubectl prints them as `Warning: ...`); returns the object. */
  function withWarnings(res: http.ServerResponse, warnings: string[], o: KubeObject): KubeObject {
    if (warnings.length) res.setHeader('Warning', warnings.map((w) => `299 - ${JSON.stringify(w)}`));
    return o;
  }

  /** A request's selectors, checked against what the resource supports (400 otherwise); `name` narrows a watch to one object. */
  function requestSelectors(def: ResourceDef, q: URLSearchParams, name?: string): { labelSelector: LabelSelector; fieldSelector: FieldSelector } {
    const field = [q.get('fieldSelector'), name === undefined ? undefined : `metadata.name=${name}`].filter(Boolean).join(',');
    return { labelSelector: parseLabelSelector(q.get('labelSelector')), fieldSelector: fieldSelectorFor(def, field) };
  }

  function list(t: Target, q: URLSearchParams, req: http.IncomingMessage, res: http.ServerResponse): void {
    const result = store.list(t.def.key, t.namespace, requestSelectors(t.def, q));
    let items = result.items;
    const meta: { resourceVersion: string; continue?: string; remainingItemCount?: number } = { resourceVersion: result.resourceVersion };
    const cont = q.get('continue');
    if (cont) {
      const tok = decodeContinue(cont);
      items = items.filter((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}` > tok.after);
    }
    const limit = Number(q.get('limit') ?? 0);
    if (limit > 0 && items.length > limit) {
      const last = items[limit - 1];
      meta.continue = encodeContinue({ rv: result.resourceVersion, after: `${last.metadata.namespace ?? ''}/${last.metadata.name}` });
      meta.remainingItemCount = items.length - limit;
      items = items.slice(0, limit);
    }
    if (wantsTable(req.headers.accept)) {
      sendJson(res, 200, toTable(t.def, items, store.now(), includeObjectOf(q), meta));
      return;
    }
    const head = `{"kind":"${t.def.listKind}","apiVersion":"${apiVersionOf(t.def, t.version)}","metadata":${JSON.stringify(meta)},"items":[`;
    sendList(res, head, items.map((o) => outBytes(t.def, t.version, o)));
  }

  function sendObject(t: Target, req: http.IncomingMessage, res: http.ServerResponse, code: number, o: KubeObject, q: URLSearchParams): void {
    if (wantsTable(req.headers.accept)) {
      sendJson(res, code, toTable(t.def, [o], store.now(), includeObjectOf(q), { resourceVersion: o.metadata.resourceVersion }));
      return;
    }
    const body = outBytes(t.def, t.version, o);
    res.writeHead(code, { 'Content-Type': JSON_TYPE, 'Cache-Control': 'no-cache, private', 'Content-Length': body.length });
    res.end(body);
  }

  function watch(t: Target, q: URLSearchParams, req: http.IncomingMessage, res: http.ServerResponse): void {
    const selectors = requestSelectors(t.def, q, t.name);
    const rv = q.get('resourceVersion') ?? undefined;
    const bookmarks = qbool(q.get('allowWatchBookmarks'));
    const sendInitial = qbool(q.get('sendInitialEvents'));
    const table = wantsTable(req.headers.accept);
    const include = includeObjectOf(q);
    const timeout = Number(q.get('timeoutSeconds') ?? 0);
    // Bad requests are answered as such before the stream starts (after it, only in-stream errors).
    const compiled = compileSelectors(selectors);
    if (rv !== undefined && rv !== '' && !/^\d+$/.test(rv)) throw badRequest(`invalid resource version "${rv}"`);
    res.writeHead(200, streamHeaders(req, { 'Content-Type': JSON_TYPE, 'Cache-Control': 'no-cache, private' }));
    res.flushHeaders();
    const sock = res.socket;
    // Events go out as soon as they are committed: no Nagle delay on a stream of small writes.
    sock?.setNoDelay(true);
    // Raw mode (HTTP/1.1 chunked): the stream's chunks are framed here and written to the socket by the
    // socket writer. HTTP/2: lines through the stream writer. Otherwise (HTTP/1.0) plain res.write.
    const raw = sock && (res as unknown as { chunkedEncoding?: boolean }).chunkedEncoding === true ? sock : undefined;
    const h2stream = req.httpVersionMajor >= 2 ? (res as unknown as { stream?: { destroyed: boolean } }).stream : undefined;
    const out = raw ? socketOutput(raw, () => end()) : h2stream ? streamOutput(res, h2stream, () => end()) : undefined;
    const writer = raw ? socketWriter : streamWriter;
    let events = 0;
    let firstTable = true;
    let watcher: Watcher | undefined;
    let ended = false;
    const timers: NodeJS.Timeout[] = [];
    const end = () => {
      if (ended) return;
      ended = true;
      watcher?.stop();
      for (const tm of timers) clearTimeout(tm);
      watches.delete(res);
      // What is queued goes out before the terminating chunk.
      if (out) writer.flush(out);
      res.end();
    };
    /** Bytes of this stream, in order with its other writes (in raw mode, an already framed chunk); drops a watcher that stopped reading. */
    const write = (data: string | Buffer) => {
      if (out) return writer.push(out, data);
      res.write(data);
      if (res.writableLength > MAX_WATCH_BACKLOG) end();
    };
    /** One line of this stream (framed here in raw mode). */
    const send = (line: string) => write(raw ? httpChunk(Buffer.from(line)) : line);
    watches.add(res);
    res.on('close', end);
    const expiredLine = (msg: string) =>
      `${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: msg, reason: 'Expired', code: 410 } })}\n`;
    if (rv && rv !== '0' && faults.forceWatchExpired !== 0 && faulted('watch', t.def)) {
      if (faults.forceWatchExpired > 0) faults.forceWatchExpired--;
      send(expiredLine(`too old resource version: ${rv} (${store.resourceVersion})`));
      end();
      return;
    }
    const preferred = t.version === t.def.versions[0];
    try {
      watcher = store.watch(t.def.key, t.namespace, rv, { labelSelector: compiled.label, fieldSelector: compiled.field }, (d) => {
        if (ended) return;
        if (table) {
          const obj = toTable(t.def, [d.object], store.now(), include, { resourceVersion: d.object.metadata.resourceVersion }, firstTable);
          firstTable = false;
          send(`{"type":"${d.type}","object":${JSON.stringify(obj)}}\n`);
        } else if (preferred) {
          // The hot path: the event's bytes (pre-framed for raw mode), built once and shared by every watcher.
          write(raw ? d.chunk() : d.line());
        } else send(`{"type":"${d.type}","object":${outJson(t.def, t.version, d.object)}}\n`);
        events++;
        if (faults.watchCutAfterEvents > 0 && events >= faults.watchCutAfterEvents && faulted('watch', t.def)) end();
      });
    } catch (e) {
      if (e instanceof ApiError && e.code === 410) {
        send(expiredLine(e.message));
        end();
        return;
      }
      throw e;
    }
    if (ended) return;
    const bookmark = (annotations?: Record<string, string>) => {
      const meta: Record<string, unknown> = { resourceVersion: store.resourceVersion };
      if (annotations) meta.annotations = annotations;
      send(`${JSON.stringify({ type: 'BOOKMARK', object: { kind: t.def.kind, apiVersion: apiVersionOf(t.def, t.version), metadata: meta } })}\n`);
    };
    if (bookmarks && sendInitial && (!rv || rv === '0')) bookmark({ 'k8s.io/initial-events-end': 'true' });
    if (bookmarks) {
      const tick = () => {
        if (ended) return;
        bookmark();
        timers[0] = setTimeout(tick, bookmarkMs);
      };
      timers[0] = setTimeout(tick, bookmarkMs);
    }
    if (timeout > 0) timers.push(setTimeout(end, timeout * 1000));
  }

  async function podLogs(t: Target, q: URLSearchParams, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const pod = store.get('pods', t.namespace, t.name!);
    const containers = ((pod.spec as { containers?: { name: string }[] } | undefined)?.containers ?? []).map((c) => c.name);
    const initContainers = ((pod.spec as { initContainers?: { name: string }[] } | undefined)?.initContainers ?? []).map((c) => c.name);
    let container = q.get('container') ?? '';
    if (!container) {
      if (containers.length > 1) {
        throw badRequest(`a container name must be specified for pod ${t.name}, choose one of: [${containers.join(' ')}]`);
      }
      container = containers[0] ?? '';
    } else if (!containers.includes(container) && !initContainers.includes(container)) {
      throw badRequest(`container ${container} is not valid for pod ${t.name}`);
    }
    const ac = new AbortController();
    res.on('close', () => ac.abort());
    const num = (k: string) => (q.get(k) !== null ? Number(q.get(k)) : undefined);
    const request: PodLogRequest = {
      namespace: t.namespace!,
      pod,
      container,
      follow: qbool(q.get('follow')),
      previous: qbool(q.get('previous')),
      timestamps: qbool(q.get('timestamps')),
      tailLines: num('tailLines'),
      sinceSeconds: num('sinceSeconds'),
      limitBytes: num('limitBytes'),
      signal: ac.signal,
    };
    const result = hooks.podLogs ? await hooks.podLogs(request) : '';
    let budget = request.limitBytes ?? Infinity;
    const clip = (s: string) => {
      if (budget === Infinity) return s;
      const b = Buffer.from(s);
      const out = b.subarray(0, Math.max(0, budget));
      budget -= out.length;
      return out.toString();
    };
    if (typeof result === 'string') {
      // Providers may hand back the whole log: tailLines is applied here too (idempotent).
      let all = result;
      if (request.tailLines !== undefined && request.tailLines >= 0) {
        const lines = all.split('\n');
        if (lines[lines.length - 1] === '') lines.pop();
        all = lines.slice(Math.max(0, lines.length - request.tailLines)).map((l) => `${l}\n`).join('');
      }
      const text = clip(all);
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    res.writeHead(200, streamHeaders(req, { 'Content-Type': 'text/plain' }));
    res.flushHeaders();
    for await (const chunk of result) {
      if (ac.signal.aborted) break;
      res.write(clip(chunk));
      if (budget <= 0) break;
    }
    res.end();
  }

  async function handleScale(t: Target, method: string, q: URLSearchParams, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const cur = store.get(t.def.key, t.namespace, t.name!);
    if (method === 'GET') return sendJson(res, 200, scaleOf(cur));
    const buf = await readBody(req);
    let body: unknown;
    try {
      body = JSON.parse(buf.toString('utf8') || 'null');
    } catch (e) {
      throw badRequest(`error decoding request body: ${(e as Error).message}`);
    }
    let scale: { metadata?: { resourceVersion?: string }; spec?: { replicas?: unknown } };
    if (method === 'PUT') scale = body as typeof scale;
    else {
      const type = patchTypeOf(req.headers['content-type']);
      if (!type || type === 'apply') throw unsupportedMediaType(req.headers['content-type'] ?? '');
      scale = applyPatch(t.def, scaleOf(cur), type, body) as typeof scale;
    }
    const replicas = scale?.spec?.replicas;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw new ApiError(422, 'Invalid', `Scale.autoscaling "${t.name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`, {
        name: t.name,
        group: 'autoscaling',
        kind: 'Scale',
        causes: [{ type: 'FieldValueInvalid', reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`, field: 'spec.replicas' }],
      });
    }
    const rv = scale.metadata?.resourceVersion;
    const next = structuredClone(cur) as KubeObject;
    (next.spec as Record<string, unknown>).replicas = replicas;
    next.metadata.resourceVersion = rv || cur.metadata.resourceVersion;
    const updated = store.update(t.def.key, next, { dryRun: q.get('dryRun') === 'All', fieldManager: managerOf(req, q) });
    sendJson(res, 200, scaleOf(updated));
  }

  async function handleResource(t: Target, method: string, q: URLSearchParams, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const def = t.def;
    const isWatch = t.watchPath || qbool(q.get('watch'));
    const dryRun = q.get('dryRun') === 'All';
    const verb = method === 'GET' ? (isWatch ? 'watch' : t.name ? 'get' : 'list') : method === 'POST' ? 'create' : method === 'PUT' ? 'update' : method === 'PATCH' ? 'patch' : method === 'DELETE' ? 'delete' : method.toLowerCase();
    if (faults.latencyMs > 0 && faulted(verb, def)) await new Promise((r) => setTimeout(r, faults.latencyMs));
    if (applyFaults(verb, def, t.name, res)) return;

    if (t.subresource) {
      const sub = t.subresource;
      if (!t.name || !def.subresources.includes(sub as never)) throw notFound(def, t.name ?? '');
      if (sub === 'log') {
        if (method !== 'GET') throw methodNotSupported(def, method);
        return podLogs(t, q, req, res);
      }
      if (sub === 'proxy') {
        const target = parseProxyTarget(t);
        if (!hooks.serviceProxy) throw new ApiError(503, 'ServiceUnavailable', `no endpoints available for service "${target.service}"`);
        store.get('services', t.namespace, target.service);
        const search = new URL(req.url ?? '/', 'http://x').search;
        return hooks.serviceProxy(req, res, { ...target, search });
      }
      if (sub === 'scale') return handleScale(t, method, q, req, res);
      // status
      if (method === 'GET') return sendObject(t, req, res, 200, store.get(def.key, t.namespace, t.name), q);
      if (method === 'PUT') {
        const body = await parseBody(req, def);
        body.metadata.name ??= t.name;
        body.metadata.namespace = t.namespace;
        if (body.metadata.name !== t.name) throw badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${t.name})`);
        return sendObject(t, req, res, 200, store.update(def.key, body, { subresource: 'status', dryRun }), q);
      }
      if (method === 'PATCH') {
        const { type, body } = await patchBody(req, def);
        return sendObject(t, req, res, 200, store.patch(def.key, t.namespace, t.name, type, body, { subresource: 'status', dryRun, fieldManager: q.get('fieldManager') ?? undefined, force: qbool(q.get('force')) }), q);
      }
      throw methodNotSupported(def, method);
    }

    if (def.namespaced && t.name !== undefined && t.namespace === undefined) throw notFound(def, t.name);
    switch (method) {
      case 'GET':
        if (isWatch) return watch(t, q, req, res);
        if (t.name) return sendObject(t, req, res, 200, store.get(def.key, t.namespace, t.name), q);
        return list(t, q, req, res);
      case 'POST': {
        if (t.name) throw methodNotSupported(def, 'create');
        const body = await parseBody(req, def);
        if (def.namespaced && !t.namespace) throw badRequest('the namespace of the provided object is empty; POST to /namespaces/{namespace}/' + def.plural);
        takeNamespaceFromUrl(def, body, t.namespace);
        const fv = fieldValidation(t, q);
        return sendObject(t, req, res, 201, withWarnings(res, fv.warnings, store.create(def.key, body, { dryRun, fieldManager: managerOf(req, q), ...fv })), q);
      }
      case 'PUT': {
        if (!t.name) throw methodNotSupported(def, 'update');
        const body = await parseBody(req, def);
        body.metadata.name ??= t.name;
        if (body.metadata.name !== t.name) throw badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${t.name})`);
        takeNamespaceFromUrl(def, body, t.namespace);
        const fv = fieldValidation(t, q);
        return sendObject(t, req, res, 200, withWarnings(res, fv.warnings, store.update(def.key, body, { dryRun, fieldManager: managerOf(req, q), ...fv })), q);
      }
      case 'PATCH': {
        if (!t.name) throw methodNotSupported(def, 'patch');
        const { type, body } = await patchBody(req, def);
        const existed = !!store.tryGet(def.key, t.namespace, t.name);
        const fv = fieldValidation(t, q);
        const o = withWarnings(res, fv.warnings, store.patch(def.key, t.namespace, t.name, type, body, { dryRun, fieldManager: type === 'apply' ? (q.get('fieldManager') ?? undefined) : managerOf(req, q), force: qbool(q.get('force')), ...fv }));
        return sendObject(t, req, res, existed ? 200 : 201, o, q);
      }
      case 'DELETE': {
        const buf = await readBody(req);
        let opts: Record<string, unknown> = {};
        if (buf.length) {
          try {
            const parsed = JSON.parse(buf.toString('utf8'));
            if (isPlainObject(parsed)) opts = parsed;
          } catch (e) {
            throw badRequest(`error decoding DeleteOptions: ${(e as Error).message}`);
          }
        }
        const policy = (q.get('propagationPolicy') ?? opts.propagationPolicy ?? undefined) as 'Background' | 'Foreground' | 'Orphan' | undefined;
        const orphan = q.get('orphanDependents') ?? opts.orphanDependents;
        const del = {
          propagationPolicy: policy ?? (orphan === true || orphan === 'true' ? 'Orphan' : undefined),
          preconditions: isPlainObject(opts.preconditions) ? (opts.preconditions as { uid?: string; resourceVersion?: string }) : undefined,
          dryRun: dryRun || (Array.isArray(opts.dryRun) && opts.dryRun.includes('All')),
        } as const;
        if (!t.name) {
          const deleted = store.deleteCollection(def.key, t.namespace, requestSelectors(def, q), del);
          return sendList(res, `{"kind":"${def.listKind}","apiVersion":"${apiVersionOf(def, t.version)}","metadata":{"resourceVersion":"${store.resourceVersion}"},"items":[`, deleted.map((o) => outBytes(def, t.version, o)));
        }
        const o = store.delete(def.key, t.namespace, t.name, del);
        return sendObject(t, req, res, 200, o, q);
      }
      default:
        throw methodNotSupported(def, method);
    }
  }

  async function patchBody(req: http.IncomingMessage, def: ResourceDef): Promise<{ type: PatchType; body: unknown }> {
    const ct = req.headers['content-type'] ?? '';
    const type = patchTypeOf(ct);
    if (!type) throw unsupportedMediaType(ct);
    if (type === 'strategic' && def.custom) throw unsupportedMediaType(ct);
    const text = (await readBody(req)).toString('utf8');
    if (type === 'apply') {
      try {
        return { type, body: YAML.parse(text) };
      } catch (e) {
        throw badRequest(`error decoding YAML: ${(e as Error).message}`);
      }
    }
    try {
      return { type, body: JSON.parse(text) };
    } catch (e) {
      throw badRequest(`error decoding patch: ${(e as Error).message}`);
    }
  }

  function parseProxyTarget(t: Target): Omit<ServiceProxyTarget, 'search'> {
    // name may be "svc", "svc:port" or "http:svc:port"
    const parts = (t.name ?? '').split(':');
    let service = parts[0];
    let port: string | undefined = parts[1];
    if (parts.length === 3) {
      service = parts[1];
      port = parts[2];
    }
    return { namespace: t.namespace ?? '', service, port: port || undefined, path: `/${t.rest.join('/')}` };
  }

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const q = url.searchParams;
    if (path === '/admin' || path.startsWith('/admin/')) {
      if (!hooks.admin) throw notFound({ plural: 'admin', group: '', kind: 'admin' }, path);
      return hooks.admin(req, res, path.slice('/admin'.length) || '/');
    }
    if (method === 'GET') {
      if (path === '/version') return sendJson(res, 200, SERVER_VERSION);
      if (path === '/healthz' || path === '/readyz' || path === '/livez') {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('ok');
        return;
      }
      if (path === '/api') return sendJson(res, 200, apiVersions(req.headers.host ?? (req.headers[':authority'] as string | undefined) ?? '127.0.0.1'));
      if (path === '/apis') return sendJson(res, 200, apiGroupList());
      if (path === '/openapi/v3') return sendJson(res, 200, openApiIndex());
      if (path.startsWith('/openapi/v3/')) {
        const doc = openApiDoc(path.slice('/openapi/v3/'.length));
        if (doc) return sendJson(res, 200, doc);
      }
    }
    const segments = path.split('/').filter(Boolean).map((s) => decodeURIComponent(s));
    if (method === 'GET' && segments[0] === 'api' && segments.length === 2) {
      const doc = apiResourceList('', segments[1]);
      if (doc) return sendJson(res, 200, doc);
    }
    if (method === 'GET' && segments[0] === 'apis' && segments.length === 2) {
      const doc = apiGroupDoc(segments[1]);
      if (doc) return sendJson(res, 200, doc);
    }
    if (method === 'GET' && segments[0] === 'apis' && segments.length === 3) {
      const doc = apiResourceList(segments[1], segments[2]);
      if (doc) return sendJson(res, 200, doc);
    }
    if ((segments[0] === 'api' && segments.length >= 3) || (segments[0] === 'apis' && segments.length >= 4)) {
      const t = parseResourcePath(segments);
      if (t) return handleResource(t, method, q, req, res);
    }
    sendStatus(res, new ApiError(404, 'NotFound', 'the server could not find the requested resource').status);
  }

  function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    byHttpVersion.set(req.httpVersion, (byHttpVersion.get(req.httpVersion) ?? 0) + 1);
    route(req, res).catch((e: unknown) => {
      const s = toStatus(e);
      if (s.code === 500 && !(e instanceof ApiError) && process.env.KD_DEBUG) process.stderr.write(`sandbox api: ${(e as Error)?.stack ?? String(e)}\n`);
      sendStatus(res, s);
    });
  }

  const api: ApiServer = {
    store,
    hooks,
    faults,
    handle,
    get url() {
      return baseUrl;
    },
    openWatches: () => watches.size,
    requestsByHttpVersion: () => Object.fromEntries(byHttpVersion),
    listen(port = 0, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        // Clients reuse connections between slow steps (and under load): keep idle sockets a while.
        transport = createTransport(handle, { keepAliveTimeout: 30_000, tls: opts.tls });
        const server = transport.server;
        server.once('error', reject);
        server.listen(port, host, () => {
          const addr = server!.address() as AddressInfo;
          baseUrl = `${opts.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${addr.port}`;
          resolve(baseUrl);
        });
      });
    },
    close() {
      for (const res of [...watches]) res.end();
      watches.clear();
      return new Promise((resolve) => {
        if (!transport) return resolve();
        transport.server.close(() => resolve());
        transport.closeAll();
      });
    },
  };
  return api;
}


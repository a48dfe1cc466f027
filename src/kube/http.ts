// A small HTTP client for the Kubernetes API: every request has a timeout (AbortSignal), failures become
// KubeErrors phrased for humans, and requests are counted (benchmarks check there is no polling).
import * as http from 'node:http';
import * as https from 'node:https';
import { createHash } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeError, type RequestStats } from '../engine/ports';
import { httpError, networkError, type ClusterIdentity, type RequestDescription } from './errors';

export const DEFAULT_TIMEOUT_MS = 15_000;
/** Credentials from exec plugins and token files expire: re-read them this often. */
const AUTH_REFRESH_MS = 5 * 60_000;

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  accept?: string;
  timeoutMs?: number;
  describe: RequestDescription;
  /** Non-2xx statuses whose body is still the answer (Prometheus errors come as 400/422 JSON). */
  acceptStatus?: number[];
}

export interface KubeHttpOptions {
  /**
   * Reads (GET: lists, gets) in flight at once; more wait their turn, and their timeout starts when they
   * are sent. Opening 1,500 targets used to send 7,500 LISTs at once: each on a new connection, the last
   * ones answered after their 15 s timeout, and each timeout cost a retry. Writes are never held back
   * (an abort must not queue behind a screenful of lists), nor are watches (they stay open).
   */
  maxReadsInFlight?: number;
}

export const DEFAULT_MAX_READS_IN_FLIGHT = 32;

interface Auth {
  agent: http.Agent;
  headers: Record<string, string>;
  at: number;
  /** What the agent's TLS settings are made of: a credentials refresh that leaves them alone keeps the agent and its connections. */
  tls: string;
}

function tlsFingerprint(agent: http.Agent): string {
  const o = ((agent as unknown as { options?: Record<string, unknown> }).options ?? {}) as Record<string, unknown>;
  const pick = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername', 'proxy'].map((k) => [k, o[k]]);
  return createHash('sha256').update(agent.constructor.name).update(JSON.stringify(pick)).digest('hex');
}

/**
 * Newline-delimited lines from byte chunks, each decoded from its own bytes: no string of everything
 * received is built up and re-sliced per line, and nothing parsed from one line can refer into the text
 * of others. Splitting on the byte 0x0A is safe in UTF-8 (it never occurs inside a multi-byte character).
 */
export class LineSplitter {
  /** The unfinished line: copies of its bytes so far, chunk by chunk (joined once, when it ends). */
  private rest: Buffer[] = [];

  push(chunk: Buffer, onLine: (line: string) => void): void {
    // Only the bytes of the line a chunk finishes are joined with what came before it: the rest of the
    // chunk is read in place, not copied along with it, and a long line is not copied again per chunk.
    let start = 0;
    let i: number;
    while ((i = chunk.indexOf(10, start)) >= 0) {
      this.finish(chunk.subarray(start, i), onLine);
      start = i + 1;
    }
    // A copy of the unfinished line only, not a view that would hold on to the whole chunk.
    if (start < chunk.length) this.rest.push(Buffer.from(chunk.subarray(start)));
  }

  end(onLine: (line: string) => void): void {
    this.finish(Buffer.alloc(0), onLine);
  }

  /** Ends the current line with `tail` and delivers it (unless blank). */
  private finish(tail: Buffer, onLine: (line: string) => void): void {
    let bytes = tail;
    if (this.rest.length) {
      bytes = Buffer.concat([...this.rest, tail]);
      this.rest = [];
    }
    const line = bytes.toString('utf8').trim();
    if (line) onLine(line);
  }
}

export interface StreamHandle {
  abort(): void;
}

export class KubeHttp {
  readonly context: string;
  readonly server: string;
  private auth?: Auth;
  private authLoading?: Promise<Auth>;
  private readsInFlight = 0;
  private readonly waitingReads: (() => void)[] = [];
  private readonly maxReadsInFlight: number;
  /** false once this server refused or ignored a watch-list (sendInitialEvents): informers LIST instead. */
  watchListSupported?: boolean;
  private counts: Required<RequestStats> = { total: 0, byVerb: {}, byResource: {} };
  private agents = new Set<http.Agent>();

  constructor(
    private readonly kc: KubeConfig,
    readonly identity: ClusterIdentity,
    private readonly now: () => number = Date.now,
    opts: KubeHttpOptions = {},
  ) {
    this.maxReadsInFlight = Math.max(1, opts.maxReadsInFlight ?? DEFAULT_MAX_READS_IN_FLIGHT);
    this.context = identity.context;
    this.server = identity.server.replace(/\/+$/, '');
  }

  private disposed = false;

  stats(): RequestStats {
    return { total: this.counts.total, byVerb: { ...this.counts.byVerb }, byResource: { ...this.counts.byResource } };
  }

  private options(): Promise<Auth> {
    // After dispose a request would quietly load the credentials again and open a new socket pool that
    // nothing closes: refuse it, naming the context, so a caller that outlives its client shows up.
    if (this.disposed) return Promise.reject(new KubeError(`the connection to context '${this.context}' was closed (the client was disposed)`, 'other', 0, false));
    if (this.auth && this.now() - this.auth.at < AUTH_REFRESH_MS) return Promise.resolve(this.auth);
    // One read of the credentials for every request that asks meanwhile: thousands of watches starting
    // together each read them and each built an agent (a socket pool of its own) before.
    this.authLoading ??= this.loadAuth().finally(() => (this.authLoading = undefined));
    return this.authLoading;
  }

  private async loadAuth(): Promise<Auth> {
    const opts: https.RequestOptions = {};
    try {
      await this.kc.applyToHTTPSOptions(opts);
    } catch (err) {
      throw new KubeError(`cannot use the credentials of context '${this.context}': ${(err as Error).message}`, 'forbidden', 0, false);
    }
    let agent = opts.agent as http.Agent;
    const tls = tlsFingerprint(agent);
    if (this.auth && this.auth.tls === tls) agent = this.auth.agent;
    else {
      // Reuse connections: the client-node agent does not keep them alive by default.
      (agent as unknown as { keepAlive: boolean }).keepAlive = true;
      (agent as unknown as { options: { keepAlive?: boolean } }).options.keepAlive = true;
      this.agents.add(agent);
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.headers ?? {})) if (v !== undefined) headers[k] = String(v);
    if (opts.auth) headers.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    this.auth = { agent, headers, at: this.now(), tls };
    return this.auth;
  }

  /**
   * Waits for a read slot; the returned function gives it back (once). request() takes one for each GET;
   * a caller streaming something as heavy as a list (a watch-list's initial state) takes one itself.
   */
  async acquireRead(): Promise<() => void> {
    if (this.readsInFlight >= this.maxReadsInFlight) await new Promise<void>((r) => this.waitingReads.push(r));
    else this.readsInFlight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // Hand the slot straight to the next waiter (the count stays), or free it.
      const next = this.waitingReads.shift();
      if (next) next();
      else this.readsInFlight--;
    };
  }

  /** Reads waiting for a slot and in flight (tests and diagnostics). */
  pendingReads(): { inFlight: number; waiting: number } {
    return { inFlight: this.readsInFlight, waiting: this.waitingReads.length };
  }

  url(path: string, query?: HttpRequest['query']): URL {
    const u = new URL(this.server + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    return u;
  }

  private count(d: RequestDescription) {
    this.counts.total++;
    this.counts.byVerb[d.verb] = (this.counts.byVerb[d.verb] ?? 0) + 1;
    const k = `${d.verb} ${d.resource}`;
    this.counts.byResource[k] = (this.counts.byResource[k] ?? 0) + 1;
  }

  /** One request; resolves with the parsed JSON (or text for non-JSON answers). */
  async request<T = unknown>(req: HttpRequest): Promise<T> {
    const release = req.method === 'GET' ? await this.acquireRead() : undefined;
    try {
      return await this.send<T>(req);
    } finally {
      release?.();
    }
  }

  private async send<T>(req: HttpRequest): Promise<T> {
    const { agent, headers } = await this.options();
    const u = this.url(req.path, req.query);
    const timeoutMs = req.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const body = req.body === undefined ? undefined : typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
    this.count(req.describe);
    const lib = u.protocol === 'http:' ? http : https;
    return new Promise<T>((resolve, reject) => {
      const r = lib.request(
        u,
        {
          method: req.method,
          agent,
          signal: AbortSignal.timeout(timeoutMs),
          headers: {
            ...headers,
            Accept: req.accept ?? 'application/json',
            ...(body !== undefined ? { 'Content-Type': req.contentType ?? 'application/json', 'Content-Length': Buffer.byteLength(body) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (err) => reject(networkError(err, req.describe, this.identity, timeoutMs)));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            if ((status < 200 || status >= 300) && !req.acceptStatus?.includes(status)) return reject(httpError(status, text, req.describe, this.identity));
            const ct = String(res.headers['content-type'] ?? '');
            if (ct.includes('json')) {
              try {
                return resolve(JSON.parse(text) as T);
              } catch {
                return reject(new KubeError(`${req.describe.verb} ${req.describe.resource}: the server sent invalid JSON`, 'other', status, true));
              }
            }
            resolve(text as unknown as T);
          });
        },
      );
      r.on('error', (err) => reject(networkError(err, req.describe, this.identity, timeoutMs)));
      if (body !== undefined) r.write(body);
      r.end();
    });
  }

  /**
   * A streaming GET (watch): calls onLine per newline-delimited line; onEnd(err?) once when the stream
   * ends, fails or is aborted. The first response must arrive within connectTimeoutMs. onOpen is called
   * when the server accepted the watch (200), so a caller can tell a watch that could not be opened from
   * an open one that was cut.
   */
  stream(
    path: string,
    query: HttpRequest['query'],
    describe: RequestDescription,
    onLine: (line: string) => void,
    onEnd: (err?: KubeError) => void,
    connectTimeoutMs = DEFAULT_TIMEOUT_MS,
    onOpen?: () => void,
  ): StreamHandle {
    const ac = new AbortController();
    let ended = false;
    const end = (err?: KubeError) => {
      if (ended) return;
      ended = true;
      onEnd(err);
    };
    this.count(describe);
    void this.options().then(
      ({ agent, headers }) => {
        if (ac.signal.aborted) return end();
        const u = this.url(path, query);
        const lib = u.protocol === 'http:' ? http : https;
        const connectTimer = setTimeout(() => ac.abort(new DOMException('timeout', 'TimeoutError')), connectTimeoutMs);
        connectTimer.unref?.();
        const r = lib.request(u, { method: 'GET', agent, signal: ac.signal, headers: { ...headers, Accept: 'application/json' } }, (res) => {
          clearTimeout(connectTimer);
          const status = res.statusCode ?? 0;
          if (status !== 200) {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => end(httpError(status, Buffer.concat(chunks).toString('utf8'), describe, this.identity)));
            res.on('error', () => end(httpError(status, '', describe, this.identity)));
            return;
          }
          onOpen?.();
          const lines = new LineSplitter();
          const deliver = (line: string) => {
            if (!ended) onLine(line);
          };
          res.on('data', (c: Buffer) => lines.push(c, deliver));
          res.on('end', () => {
            lines.end(deliver);
            end();
          });
          res.on('error', (err) => end(ac.signal.aborted ? undefined : networkError(err, describe, this.identity, connectTimeoutMs)));
          res.on('close', () => end());
        });
        r.on('error', (err) => {
          clearTimeout(connectTimer);
          end(ac.signal.aborted && !(ac.signal.reason instanceof DOMException && ac.signal.reason.name === 'TimeoutError') ? undefined : networkError(ac.signal.reason ?? err, describe, this.identity, connectTimeoutMs));
        });
        r.end();
      },
      (err) => end(err instanceof KubeError ? err : networkError(err, describe, this.identity, connectTimeoutMs)),
    );
    return {
      abort: () => {
        ac.abort();
        end();
      },
    };
  }

  dispose(): void {
    this.disposed = true;
    for (const a of this.agents) a.destroy();
    this.agents.clear();
    this.auth = undefined;
  }
}

// A tiny scripted API server for the kube layer's tests: LISTs answer with what the test set, watches stay
// open until the test writes to, ends or cuts them, and every request is announced as an event so a test
// waits on what the client does (with a deadline), never on time passing.
import { EventEmitter, once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KubeObject } from '../../../src/engine/ports';
import { loadKubeconfig } from '../../../src/kube/config';
import { KubeHttp, type KubeHttpOptions } from '../../../src/kube/http';

export interface OpenWatch {
  query: URLSearchParams;
  res: http.ServerResponse;
  send(type: string, object: unknown): void;
}

export interface HeldRequest {
  method: string;
  path: string;
  release(body?: unknown): void;
}

export class FakeApi extends EventEmitter {
  url = '';
  /** What a LIST answers. */
  items: KubeObject[] = [];
  listRv = '1';
  /** When set, watches are refused with this HTTP status (and a Status body). */
  watchStatus?: number;
  /**
   * How a watch with sendInitialEvents=true is answered: 'stream' sends the items as ADDED and the
   * initial-events-end bookmark at listRv (Kubernetes 1.27+ with WatchList); 'ignore' sends the items
   * and no marker (a server that does not know the parameter); a number refuses it with that status.
   */
  watchList: 'stream' | 'ignore' | number = 'ignore';
  /** When set, GETs of other paths and writes are held until the test releases them. */
  hold = false;
  lists: URLSearchParams[] = [];
  /** Watches that asked for the initial state (sendInitialEvents=true). */
  initialWatches = 0;
  watches: OpenWatch[] = [];
  held: HeldRequest[] = [];
  /** Every request that reached the server. */
  requests = 0;
  inFlight = 0;
  maxInFlight = 0;
  private server = http.createServer((req, res) => this.handle(req, res));

  async start(): Promise<this> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  close(): Promise<void> {
    for (const w of this.watches) w.res.destroy();
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }

  /** The next `event` ('list', 'watch', 'held'), or an error naming what was awaited after `ms`. */
  next<T>(event: 'list' | 'watch' | 'held', ms = 5000): Promise<T> {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), ms);
    return once(this, event, { signal: ac.signal }).then(
      ([v]) => {
        clearTimeout(timer);
        return v as T;
      },
      () => {
        throw new Error(`no ${event} request within ${ms} ms`);
      },
    );
  }

  /** A KubeHttp for this server's kubeconfig. */
  client(opts: KubeHttpOptions = {}, now?: () => number): KubeHttp {
    const kc = loadKubeconfig({
      yaml: `apiVersion: v1
kind: Config
current-context: fake
clusters: [{ name: fake, cluster: { server: '${this.url}', insecure-skip-tls-verify: true } }]
users: [{ name: fake, user: { token: secret } }]
contexts: [{ name: fake, context: { cluster: fake, user: fake } }]
`,
    });
    if (!kc.ok) throw new Error(kc.message);
    return new KubeHttp(kc.value.kc, { context: 'fake', server: this.url }, now, opts);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.requests++;
    const u = new URL(req.url ?? '/', 'http://x');
    const q = u.searchParams;
    if (q.get('watch') === 'true') {
      const initial = q.get('sendInitialEvents') === 'true';
      if (initial) this.initialWatches++;
      const refuse = this.watchStatus ?? (initial && typeof this.watchList === 'number' ? this.watchList : undefined);
      if (refuse) {
        res.writeHead(refuse, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Status', status: 'Failure', code: refuse, message: `refused with ${refuse}` }));
        this.emit('watch', { query: q, res, send() {} });
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
      res.flushHeaders();
      const w: OpenWatch = { query: q, res, send: (type, object) => res.write(`${JSON.stringify({ type, object })}\n`) };
      if (initial) {
        for (const o of this.items) w.send('ADDED', o);
        if (this.watchList === 'stream') w.send('BOOKMARK', { kind: 'ConfigMap', apiVersion: 'v1', metadata: { resourceVersion: this.listRv, annotations: { 'k8s.io/initial-events-end': 'true' } } });
      }
      this.watches.push(w);
      this.emit('watch', w);
      return;
    }
    const answer = (body: unknown) => {
      this.inFlight--;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    if (this.hold) {
      // Read the body first: a held write must be fully received to count as sent.
      req.resume();
      req.on('end', () => {
        const h: HeldRequest = { method: req.method ?? '', path: u.pathname, release: (body = {}) => answer(body) };
        this.held.push(h);
        this.emit('held', h);
      });
      return;
    }
    this.lists.push(q);
    answer({ kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: this.listRv }, items: this.items });
    this.emit('list', q);
  }
}

export const cm = (name: string, rv: string, data: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns', resourceVersion: rv }, data });

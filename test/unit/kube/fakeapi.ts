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
  /** When set, GETs of other paths and writes are held until the test releases them. */
  hold = false;
  lists: URLSearchParams[] = [];
  watches: OpenWatch[] = [];
  held: HeldRequest[] = [];
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
    const u = new URL(req.url ?? '/', 'http://x');
    const q = u.searchParams;
    if (q.get('watch') === 'true') {
      if (this.watchStatus) {
        res.writeHead(this.watchStatus, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Status', status: 'Failure', code: this.watchStatus, message: `refused with ${this.watchStatus}` }));
        this.emit('watch', { query: q, res, send() {} });
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
      res.flushHeaders();
      const w: OpenWatch = { query: q, res, send: (type, object) => res.write(`${JSON.stringify({ type, object })}\n`) };
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

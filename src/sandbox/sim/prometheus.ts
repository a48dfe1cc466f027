// Prometheus's HTTP API over the sandbox TSDB, served behind the API server's service proxy for
// `monitoring/prometheus:9090` so a client that talks to Prometheus through the Kubernetes API
// (`/api/v1/namespaces/monitoring/services/prometheus:9090/proxy/api/v1/query`) works unchanged.
// Endpoints: /api/v1/query, /api/v1/query_range (GET or POST form), /api/v1/labels,
// /api/v1/label/<name>/values, /api/v1/status/buildinfo, /-/healthy, /-/ready.
import type http from 'node:http';
import type { Tsdb } from './tsdb';
import { PromQLError, instantQuery, parseDuration, rangeQuery } from './promql';

type PromBody = { status: 'success'; data: unknown; warnings?: string[] } | { status: 'error'; errorType: string; error: string };

function send(res: http.ServerResponse, code: number, body: PromBody | string): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function badData(res: http.ServerResponse, message: string): void {
  send(res, 400, { status: 'error', errorType: 'bad_data', error: message });
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Parses a Prometheus time parameter (unix seconds, possibly fractional, or RFC 3339) to ms. */
export function parseTimeParam(v: string, name: string): number {
  const n = Number(v);
  if (v.trim() !== '' && Number.isFinite(n)) return n * 1000;
  const t = Date.parse(v);
  if (!Number.isNaN(t)) return t;
  throw new PromQLError(`invalid parameter "${name}": cannot parse "${v}" to a valid timestamp`);
}

function parseStep(v: string): number {
  const n = Number(v);
  if (v.trim() !== '' && Number.isFinite(n)) return n * 1000;
  try {
    return parseDuration(v);
  } catch {
    throw new PromQLError(`invalid parameter "step": cannot parse "${v}" to a valid duration`);
  }
}

export interface PrometheusApi {
  handle(req: http.IncomingMessage, res: http.ServerResponse, path: string, search: string): Promise<void>;
}

export function createPrometheusApi(db: Tsdb, now: () => number): PrometheusApi {
  return {
    async handle(req, res, path, search) {
      const params = new URLSearchParams(search.startsWith('?') ? search.slice(1) : search);
      if (req.method === 'POST') {
        const ct = String(req.headers['content-type'] ?? '');
        const body = await readBody(req);
        if (ct.includes('application/x-www-form-urlencoded') || (body && !ct)) for (const [k, v] of new URLSearchParams(body)) params.set(k, v);
      } else if (req.method !== 'GET') {
        send(res, 405, { status: 'error', errorType: 'bad_data', error: `method ${req.method} not allowed` });
        return;
      }
      try {
        switch (path) {
          case '/-/healthy':
            return send(res, 200, 'Prometheus Server is Healthy.\n');
          case '/-/ready':
            return send(res, 200, 'Prometheus Server is Ready.\n');
          case '/api/v1/status/buildinfo':
            return send(res, 200, { status: 'success', data: { version: '2.54.1', revision: 'sandbox', branch: 'sandbox', buildUser: 'kube-delivery', buildDate: '20250101-00:00:00', goVersion: 'sandbox' } });
          case '/api/v1/query': {
            const query = params.get('query');
            if (!query) return badData(res, 'invalid parameter "query": query must not be empty');
            const t = params.get('time') ? parseTimeParam(params.get('time')!, 'time') : now();
            return send(res, 200, { status: 'success', data: instantQuery(db, query, t) });
          }
          case '/api/v1/query_range': {
            const query = params.get('query');
            if (!query) return badData(res, 'invalid parameter "query": query must not be empty');
            for (const k of ['start', 'end', 'step']) if (!params.get(k)) return badData(res, `invalid parameter "${k}": missing`);
            const start = parseTimeParam(params.get('start')!, 'start');
            const end = parseTimeParam(params.get('end')!, 'end');
            const step = parseStep(params.get('step')!);
            return send(res, 200, { status: 'success', data: rangeQuery(db, query, start, end, step) });
          }
          case '/api/v1/labels': {
            const names = new Set<string>();
            for (const s of db.select([])) for (const k of Object.keys(s.labels)) names.add(k);
            return send(res, 200, { status: 'success', data: [...names].sort() });
          }
          default: {
            const m = /^\/api\/v1\/label\/([^/]+)\/values$/.exec(path);
            if (m) {
              const name = decodeURIComponent(m[1]);
              const values = new Set<string>();
              for (const s of db.select([])) if (s.labels[name] !== undefined) values.add(s.labels[name]);
              return send(res, 200, { status: 'success', data: [...values].sort() });
            }
            return send(res, 404, '404 page not found\n');
          }
        }
      } catch (err) {
        if (err instanceof PromQLError) {
          return send(res, err.errorType === 'execution' ? 422 : 400, { status: 'error', errorType: err.errorType, error: err.message });
        }
        return send(res, 500, { status: 'error', errorType: 'internal', error: (err as Error).message });
      }
    },
  };
}

// Fault injection for the HTTP API server. The simulation's admin endpoint and the in-process handle
// set these fields on `server.faults` (plain mutable object, read on every request), so a test can make
// the cluster misbehave the way real ones do: flaky 5xx/429 answers, slow answers, watch streams that
// drop, watches that must relist (410), and write conflicts. Discovery, /version, /openapi and /admin
// are never faulted, so kubectl and clients can still find their way.

export interface Faults {
  /** Share (0..1) of resource requests answered with one of `errorCodes` instead of being served. */
  errorRate: number;
  /** Codes drawn uniformly for `errorRate` (500 InternalError, 503 ServiceUnavailable, 429 TooManyRequests). */
  errorCodes: number[];
  /** Milliseconds added before answering every resource request (watches: before the stream starts). */
  latencyMs: number;
  /** Close every watch stream after this many events (0 = never). */
  watchCutAfterEvents: number;
  /** Answer this many upcoming watch requests that resume from a resourceVersion with ERROR 410
   * Expired (-1 = all of them, 0 = none). Decremented as they are used. */
  forceWatchExpired: number;
  /** Share (0..1) of PUT/PATCH requests answered 409 Conflict without being applied. */
  conflictRate: number;
  /** Only fault requests on these resource keys (`deployments.apps`); empty = all resources. */
  resources: string[];
  /** Only fault these verbs (get, list, watch, create, update, patch, delete); empty = all. */
  verbs: string[];
}

export function noFaults(): Faults {
  return { errorRate: 0, errorCodes: [500, 503, 429], latencyMs: 0, watchCutAfterEvents: 0, forceWatchExpired: 0, conflictRate: 0, resources: [], verbs: [] };
}

/** Validates a partial fault configuration (from the admin endpoint) and returns the problems found. */
export function checkFaults(f: Partial<Record<keyof Faults, unknown>>): string[] {
  const problems: string[] = [];
  const share = (k: 'errorRate' | 'conflictRate') => {
    const v = f[k];
    if (v !== undefined && (typeof v !== 'number' || !(v >= 0 && v <= 1))) problems.push(`${k}: expected a number between 0 and 1, got ${JSON.stringify(v)}`);
  };
  share('errorRate');
  share('conflictRate');
  for (const k of ['latencyMs', 'watchCutAfterEvents'] as const) {
    const v = f[k];
    if (v !== undefined && (typeof v !== 'number' || !(v >= 0))) problems.push(`${k}: expected a number >= 0, got ${JSON.stringify(v)}`);
  }
  if (f.forceWatchExpired !== undefined && (typeof f.forceWatchExpired !== 'number' || !Number.isInteger(f.forceWatchExpired) || f.forceWatchExpired < -1)) {
    problems.push(`forceWatchExpired: expected an integer >= -1, got ${JSON.stringify(f.forceWatchExpired)}`);
  }
  if (f.errorCodes !== undefined && (!Array.isArray(f.errorCodes) || f.errorCodes.length === 0 || f.errorCodes.some((c) => ![429, 500, 502, 503, 504].includes(c as number)))) {
    problems.push(`errorCodes: expected a non-empty list of 429, 500, 502, 503, 504, got ${JSON.stringify(f.errorCodes)}`);
  }
  for (const k of ['resources', 'verbs'] as const) {
    const v = f[k];
    if (v !== undefined && (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))) problems.push(`${k}: expected a list of strings, got ${JSON.stringify(v)}`);
  }
  // A verb the server never matches would leave the fault silently off.
  if (Array.isArray(f.verbs)) {
    const unknown = f.verbs.filter((v) => typeof v === 'string' && !FAULT_VERBS.includes(v));
    if (unknown.length) problems.push(`verbs: unknown ${unknown.map((v) => `'${v}'`).join(', ')} (known: ${FAULT_VERBS.join(', ')})`);
  }
  return problems;
}

/** The verbs requests are faulted by (DELETE of a collection counts as delete). */
export const FAULT_VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];

/**
 * The resource keys (`deployments.apps`) for the names a user gives in `resources`: a key, a plural,
 * a short name or a kind (`deployments`, `deploy`, `Deployment`), as kubectl would accept them. A name
 * that matches nothing is a problem, not a fault that never fires.
 */
export function resolveFaultResources(names: string[], known: readonly { key: string; plural: string; kind: string; shortNames: string[] }[]): { keys: string[]; problems: string[] } {
  const keys: string[] = [];
  const problems: string[] = [];
  for (const name of names) {
    const n = name.toLowerCase();
    const hits = known.filter((r) => r.key === n || r.plural === n || r.kind.toLowerCase() === n || r.shortNames.includes(n));
    if (hits.length === 1) keys.push(hits[0].key);
    else if (hits.length > 1) problems.push(`resources: '${name}' is ambiguous (${hits.map((r) => r.key).join(', ')}); use one of these keys`);
    else problems.push(`resources: unknown resource '${name}' (known: ${known.map((r) => r.key).join(', ')})`);
  }
  return { keys, problems };
}

const REASONS: Record<number, [string, string]> = {
  429: ['TooManyRequests', 'the server has received too many requests and has asked us to try again later'],
  500: ['InternalError', 'Internal error occurred: injected fault'],
  502: ['InternalError', 'an error on the server ("bad gateway") has prevented the request from succeeding'],
  503: ['ServiceUnavailable', 'the server is currently unable to handle the request'],
  504: ['Timeout', 'the server was unable to return a response in the time allotted'],
};

export function faultReason(code: number): [string, string] {
  return REASONS[code] ?? ['InternalError', 'injected fault'];
}

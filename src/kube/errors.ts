// Turning HTTP failures into KubeErrors that say what failed and what to do: 403 names the verb and
// resource, an unreachable cluster names the context and server, 404 names the object.
import { KubeError } from '../engine/ports';

export interface RequestDescription {
  verb: string; // get, list, watch, create, update, patch, delete, deletecollection, proxy
  resource: string; // deployments.apps
  namespace?: string;
  name?: string;
  kind?: string;
}

export interface ClusterIdentity {
  context: string;
  server: string;
}

function where(d: RequestDescription): string {
  return d.namespace ? ` in namespace ${d.namespace}` : '';
}

function statusMessage(body: string): { message?: string; reason?: string } {
  try {
    const s = JSON.parse(body) as { kind?: string; message?: string; reason?: string };
    if (s && s.kind === 'Status') return { message: s.message, reason: s.reason };
  } catch {}
  return {};
}

export function httpError(status: number, body: string, d: RequestDescription, c: ClusterIdentity): KubeError {
  const { message, reason } = statusMessage(body);
  const obj = d.name ? `${d.kind ?? d.resource} ${d.name}` : d.resource;
  switch (status) {
    case 401:
      return new KubeError(`unauthorized by the cluster of context '${c.context}' (${c.server}): the credentials in the kubeconfig were refused; log in again or fix the user entry`, 'forbidden', 401, false);
    case 403:
      return new KubeError(
        `forbidden: cannot ${d.verb} ${d.resource}${d.name ? ` "${d.name}"` : ''}${where(d)} (context '${c.context}')${message ? `: ${message}` : ''}. Ask for RBAC permission (check with: kubectl auth can-i ${d.verb} ${d.resource}${d.namespace ? ` -n ${d.namespace}` : ''})`,
        'forbidden',
        403,
        false,
      );
    case 404:
      return new KubeError(`${obj} not found${where(d)}${message && !d.name ? `: ${message}` : ''}`, 'notFound', 404, false);
    case 409:
      if (reason === 'AlreadyExists') return new KubeError(`${obj} already exists${where(d)}`, 'alreadyExists', 409, false);
      return new KubeError(`${obj}${where(d)} was changed by someone else (409 Conflict): re-read and retry`, 'conflict', 409, true);
    case 410:
      return new KubeError(`watch of ${d.resource} expired (410 Gone)`, 'other', 410, true);
    case 415:
    case 400:
    case 422:
      return new KubeError(`the cluster rejected ${d.verb} of ${obj}${where(d)}: ${message ?? `HTTP ${status}`}`, 'invalid', status, false);
    case 429:
      return new KubeError(`the cluster asked to slow down (429) on ${d.verb} ${obj}${where(d)}`, 'other', 429, true);
    default:
      if (status >= 500) return new KubeError(`the API server of context '${c.context}' failed ${d.verb} ${obj}${where(d)} (HTTP ${status}${message ? `: ${message}` : ''}); retrying`, 'other', status, true);
      return new KubeError(`${d.verb} ${obj}${where(d)} failed: HTTP ${status}${message ? `: ${message}` : ''}`, 'other', status, false);
  }
}

export function networkError(err: unknown, d: RequestDescription, c: ClusterIdentity, timeoutMs: number): KubeError {
  const e = err as NodeJS.ErrnoException & { name?: string; cause?: NodeJS.ErrnoException };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError' || e?.code === 'ABORT_ERR') {
    return new KubeError(`the cluster of context '${c.context}' (${c.server}) did not answer ${d.verb} ${d.resource} within ${Math.round(timeoutMs / 1000)}s: check the network or VPN`, 'timeout', 0, true);
  }
  const code = e?.code ?? e?.cause?.code ?? '';
  return new KubeError(
    `cannot reach the cluster of context '${c.context}' at ${c.server}${code ? ` (${code})` : ''}${e?.message && !code ? `: ${e.message}` : ''}: is it running and is the kubeconfig's server address right?`,
    'unreachable',
    0,
    true,
  );
}

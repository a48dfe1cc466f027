// Discovery and OpenAPI documents. Legacy JSON discovery (APIVersions, APIGroupList, APIResourceList):
// kubectl asks for aggregated discovery but falls back to these when the answer is plain JSON.
// OpenAPI v3 is minimal: per group-version a PATCH operation per kind carrying
// `x-kubernetes-group-version-kind` and a `fieldValidation` parameter, which is what kubectl looks for
// before sending `fieldValidation=Strict` instead of validating client-side.
import { apiVersionOf, groups, resourcesIn, type ResourceDef } from './resources';

export const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.4',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2025-04-22T16:00:00Z',
  goVersion: 'go1.23.8',
  compiler: 'gc',
  platform: 'linux/amd64',
};

export function apiVersions(serverAddress: string): unknown {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function apiGroup(group: string, versions: string[]): unknown {
  const vs = versions.map((v) => ({ groupVersion: `${group}/${v}`, version: v }));
  return { name: group, versions: vs, preferredVersion: vs[0] };
}

export function apiGroupList(): unknown {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups().filter((x) => x.group !== '').map((x) => apiGroup(x.group, x.versions)) };
}

export function apiGroupDoc(group: string): unknown | undefined {
  const found = groups().find((x) => x.group === group && group !== '');
  return found ? { kind: 'APIGroup', apiVersion: 'v1', ...(apiGroup(found.group, found.versions) as object) } : undefined;
}

function subresourceEntries(r: ResourceDef): unknown[] {
  const out: unknown[] = [];
  for (const sub of r.subresources) {
    if (sub === 'status') out.push({ name: `${r.plural}/status`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'patch', 'update'] });
    if (sub === 'scale') out.push({ name: `${r.plural}/scale`, singularName: '', namespaced: r.namespaced, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] });
    if (sub === 'log') out.push({ name: `${r.plural}/log`, singularName: '', namespaced: r.namespaced, kind: 'Pod', verbs: ['get'] });
    if (sub === 'proxy') out.push({ name: `${r.plural}/proxy`, singularName: '', namespaced: r.namespaced, kind: 'ServiceProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] });
  }
  return out;
}

export function apiResourceList(group: string, version: string): unknown | undefined {
  const rs = resourcesIn(group, version);
  if (rs.length === 0) return undefined;
  const resources: unknown[] = [];
  for (const r of rs) {
    resources.push({
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
      ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
      ...(r.categories.length ? { categories: r.categories } : {}),
    });
    resources.push(...subresourceEntries(r));
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
}

// --- OpenAPI v3 ----------------------------------------------------------------------------------------

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

export function openApiIndex(): unknown {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const { group, versions } of groups()) {
    for (const v of versions) {
      const p = gvPath(group, v);
      paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=sandbox-${group || 'core'}-${v}` };
    }
  }
  return { paths };
}

function schemaName(r: ResourceDef, version: string): string {
  const g = r.group ? r.group.split('.').reverse().join('.') : 'io.k8s.api.core';
  return `${g}.${version}.${r.kind}`;
}

export function openApiDoc(path: string): unknown | undefined {
  const m = /^(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(path);
  if (!m) return undefined;
  const group = m[1] ? '' : m[2];
  const version = m[1] ?? m[3];
  const rs = resourcesIn(group, version);
  if (rs.length === 0) return undefined;
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  const params = [
    { name: 'dryRun', in: 'query', schema: { type: 'string', uniqueItems: true } },
    { name: 'fieldManager', in: 'query', schema: { type: 'string', uniqueItems: true } },
    { name: 'fieldValidation', in: 'query', description: 'fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields.', schema: { type: 'string', uniqueItems: true } },
    { name: 'force', in: 'query', schema: { type: 'boolean', uniqueItems: true } },
  ];
  for (const r of rs) {
    const gvk = { group: r.group, version, kind: r.kind };
    const base = `/${gvPath(group, version)}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.plural}`;
    const name = schemaName(r, version);
    const ref = { $ref: `#/components/schemas/${name}` };
    const body = { content: { 'application/json': { schema: ref } } };
    const ok = { '200': { description: 'OK', content: { 'application/json': { schema: ref } } } };
    paths[base] = {
      get: { operationId: `list${r.kind}`, 'x-kubernetes-action': 'list', 'x-kubernetes-group-version-kind': gvk, responses: ok },
      post: { operationId: `create${r.kind}`, 'x-kubernetes-action': 'post', 'x-kubernetes-group-version-kind': gvk, parameters: params, requestBody: body, responses: ok },
    };
    paths[`${base}/{name}`] = {
      get: { operationId: `read${r.kind}`, 'x-kubernetes-action': 'get', 'x-kubernetes-group-version-kind': gvk, responses: ok },
      put: { operationId: `replace${r.kind}`, 'x-kubernetes-action': 'put', 'x-kubernetes-group-version-kind': gvk, parameters: params, requestBody: body, responses: ok },
      patch: {
        operationId: `patch${r.kind}`,
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': gvk,
        parameters: params,
        requestBody: { content: { 'application/json-patch+json': { schema: { type: 'object' } }, 'application/merge-patch+json': { schema: { type: 'object' } }, ...(r.custom ? {} : { 'application/strategic-merge-patch+json': { schema: { type: 'object' } } }), 'application/apply-patch+yaml': { schema: { type: 'object' } } } },
        responses: ok,
      },
      delete: { operationId: `delete${r.kind}`, 'x-kubernetes-action': 'delete', 'x-kubernetes-group-version-kind': gvk, responses: ok },
    };
    // Open schemas: the sandbox validates server-side, kubectl must not reject unknown fields.
    schemas[name] = { type: 'object', description: `${r.kind} (${apiVersionOf(r, version)})`, 'x-kubernetes-preserve-unknown-fields': true };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: SERVER_VERSION.gitVersion }, paths, components: { schemas } };
}

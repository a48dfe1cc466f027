// A kubeconfig for a sandbox API server. Plain http needs `insecure-skip-tls-verify: true` or
// @kubernetes/client-node refuses before sending; the sandbox has no authentication, so the user
// entry is empty (no credentials are written).
import YAML from 'yaml';

export function kubeconfigYaml(server: string, context = 'sandbox', namespace?: string): string {
  return YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: context, cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: context, user: {} }],
    contexts: [{ name: context, context: { cluster: context, user: context, ...(namespace ? { namespace } : {}) } }],
    'current-context': context,
    preferences: {},
  });
}

// A kubeconfig for a sandbox API server. Plain http needs `insecure-skip-tls-verify: true` or
// @kubernetes/client-node refuses before sending; over https the server's own certificate is the CA to
// trust (certificate-authority-data, base64 of the PEM, as kubectl writes it). The sandbox has no
// authentication, so over http the user entry is empty (no credentials are written). Over https kubectl
// prompts for a username when a user has no way to identify itself, so the entry carries a token
// that says what it is; the sandbox accepts any request and never checks it.
import YAML from 'yaml';

/** Not a secret: the sandbox accepts every request. */
export const SANDBOX_TOKEN = 'kube-delivery-sandbox-accepts-any-request';

export function kubeconfigYaml(server: string, context = 'sandbox', namespace?: string, caPem?: string): string {
  const trust = caPem ? { 'certificate-authority-data': Buffer.from(caPem).toString('base64') } : { 'insecure-skip-tls-verify': true };
  return YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: context, cluster: { server, ...trust } }],
    users: [{ name: context, user: caPem ? { token: SANDBOX_TOKEN } : {} }],
    contexts: [{ name: context, context: { cluster: context, user: context, ...(namespace ? { namespace } : {}) } }],
    'current-context': context,
    preferences: {},
  });
}

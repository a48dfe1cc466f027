// The sandbox's serving certificate for `--tls`: self-signed, made at start, never written anywhere but
// the kubeconfig (as the CA clients trust). Real clusters serve HTTPS, and Go clients (kubectl, client-go)
// then speak HTTP/2, chosen by ALPN; with TLS the sandbox gives them the same connection.
import net from 'node:net';

export interface ServingCertificate {
  /** PEM private key (EC P-256). */
  key: string;
  /** PEM certificate; also the CA a client trusts (it signs itself). */
  cert: string;
}

/**
 * A certificate for the given host names and addresses, plus localhost, 127.0.0.1 and ::1. Clients check
 * the server's name against its subjectAltName entries (Go ignores the common name), so every name a
 * kubeconfig may carry must be there.
 */
export async function servingCertificate(hosts: string[] = []): Promise<ServingCertificate> {
  const names = [...new Set(['localhost', '127.0.0.1', '::1', ...hosts.map((h) => h.replace(/^\[|\]$/g, ''))])];
  const notBeforeDate = new Date(Date.now() - 60_000); // tolerate a client clock a little behind
  // Loaded on first use: its X.509 stack installs the reflect-metadata polyfill on the global Reflect,
  // which a sandbox without TLS (and the extension host it may run in) has no reason to carry.
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: 'kube-delivery-sandbox' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + 365 * 24 * 3600_000),
    extensions: [
      // It is its own CA: the kubeconfig's certificate-authority-data is this certificate.
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: names.map((n) => (net.isIP(n) ? { type: 7 as const, ip: n } : { type: 2 as const, value: n })) },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}

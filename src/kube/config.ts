// Kubeconfig loading with kubectl's rules: KUBECONFIG may list several files, merged in order where the
// FIRST file to set a value wins (current-context and same-named entries); or an inline YAML (the
// sandbox's). Files are never written. @kubernetes/client-node does the parsing and the TLS/auth options.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, resolve } from 'node:path';
import { KubeConfig, type Cluster, type Context, type User } from '@kubernetes/client-node';

export interface KubeconfigSource {
  /** Files merged in order (KUBECONFIG semantics). Empty/undefined: $KUBECONFIG, then ~/.kube/config. */
  paths?: string[];
  /** Inline YAML, used instead of files when set. */
  yaml?: string;
  /** Context to use (default: the merged current-context). */
  context?: string;
  env?: NodeJS.ProcessEnv;
}

export interface LoadedKubeconfig {
  kc: KubeConfig;
  context: string;
  server: string;
  namespace?: string;
  /** Where it came from, for messages. */
  origin: string;
}

export type KubeconfigResult = { ok: true; value: LoadedKubeconfig } | { ok: false; message: string };

export function defaultPaths(env: NodeJS.ProcessEnv = process.env): string[] {
  const k = env.KUBECONFIG;
  if (k && k.trim()) return k.split(delimiter).filter(Boolean);
  return [resolve(homedir(), '.kube', 'config')];
}

function absolutise(kc: KubeConfig, file: string): void {
  // Relative certificate paths are relative to the kubeconfig file, as kubectl reads them.
  const dir = dirname(file);
  for (const c of kc.clusters as (Cluster & { caFile?: string })[]) if (c.caFile && !isAbsolute(c.caFile)) (c as { caFile?: string }).caFile = resolve(dir, c.caFile);
  for (const u of kc.users as (User & { certFile?: string; keyFile?: string })[]) {
    if (u.certFile && !isAbsolute(u.certFile)) (u as { certFile?: string }).certFile = resolve(dir, u.certFile);
    if (u.keyFile && !isAbsolute(u.keyFile)) (u as { keyFile?: string }).keyFile = resolve(dir, u.keyFile);
  }
}

export function loadKubeconfig(src: KubeconfigSource): KubeconfigResult {
  const parts: { kc: KubeConfig; file: string }[] = [];
  if (src.yaml !== undefined) {
    const kc = new KubeConfig();
    try {
      kc.loadFromString(src.yaml);
    } catch (err) {
      return { ok: false, message: `inline kubeconfig is not valid: ${(err as Error).message}` };
    }
    parts.push({ kc, file: '(inline)' });
  } else {
    const explicit = src.paths && src.paths.length > 0;
    const paths = explicit ? src.paths! : defaultPaths(src.env);
    const missing: string[] = [];
    for (const file of paths) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        // kubectl skips missing files in KUBECONFIG; an explicitly named file must exist.
        if (explicit) return { ok: false, message: `kubeconfig ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
        missing.push(file);
        continue;
      }
      const kc = new KubeConfig();
      try {
        kc.loadFromString(text);
      } catch (err) {
        return { ok: false, message: `kubeconfig ${file} is not valid: ${(err as Error).message}` };
      }
      absolutise(kc, file);
      parts.push({ kc, file });
    }
    if (parts.length === 0) return { ok: false, message: `no kubeconfig found (looked at ${missing.join(', ')}): set KUBECONFIG, pass --kubeconfig, or start the sandbox with 'kube-delivery sandbox'` };
  }
  const clusters = new Map<string, Cluster>();
  const users = new Map<string, User>();
  const contexts = new Map<string, Context>();
  let current = '';
  for (const p of parts) {
    for (const c of p.kc.clusters) if (!clusters.has(c.name)) clusters.set(c.name, c);
    for (const u of p.kc.users) if (!users.has(u.name)) users.set(u.name, u);
    for (const c of p.kc.contexts) if (!contexts.has(c.name)) contexts.set(c.name, c);
    if (!current && p.kc.currentContext) current = p.kc.currentContext;
  }
  const name = src.context || current;
  const origin = parts.map((p) => p.file).join(', ');
  if (!name) return { ok: false, message: `no context chosen: ${origin} sets no current-context; pass --context (contexts: ${[...contexts.keys()].join(', ') || 'none'})` };
  const ctx = contexts.get(name);
  if (!ctx) return { ok: false, message: `context '${name}' not found in ${origin} (contexts: ${[...contexts.keys()].join(', ') || 'none'})` };
  const cluster = clusters.get(ctx.cluster);
  if (!cluster) return { ok: false, message: `context '${name}' refers to cluster '${ctx.cluster}' which is not defined in ${origin}` };
  if (ctx.user && !users.has(ctx.user)) return { ok: false, message: `context '${name}' refers to user '${ctx.user}' which is not defined in ${origin}` };
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters: [...clusters.values()], users: [...users.values()], contexts: [...contexts.values()], currentContext: name });
  return { ok: true, value: { kc, context: name, server: cluster.server, namespace: ctx.namespace, origin } };
}

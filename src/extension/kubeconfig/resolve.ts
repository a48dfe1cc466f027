// Which kubeconfig the extension reads, in the order users expect from kubectl: the
// `kubeDelivery.kubeconfig` setting (ignored in restricted workspaces: a checked-in setting must not
// point a cluster client at an attacker's file), then KUBECONFIG (several paths, merged, first wins),
// then ~/.kube/config. The files are only read, never written.
import * as path from 'node:path';

export interface KubeconfigInputs {
  setting: string | undefined;
  trusted: boolean;
  kubeconfigEnv: string | undefined;
  home: string;
  /** path.delimiter of the platform (':' or ';'). */
  delimiter?: string;
}

export interface KubeconfigSource {
  paths: string[];
  source: 'setting' | 'KUBECONFIG' | 'default';
  /** Why the setting was not used, when it was set but ignored. */
  note?: string;
}

export function resolveKubeconfigPaths(i: KubeconfigInputs): KubeconfigSource {
  const setting = i.setting?.trim();
  let note: string | undefined;
  if (setting) {
    if (i.trusted) return { paths: [expandHome(setting, i.home)], source: 'setting' };
    note = 'kubeDelivery.kubeconfig is ignored in a restricted workspace';
  }
  const env = (i.kubeconfigEnv ?? '')
    .split(i.delimiter ?? path.delimiter)
    .map((p) => p.trim())
    .filter(Boolean);
  const withNote = (r: KubeconfigSource): KubeconfigSource => (note ? { ...r, note } : r);
  if (env.length) return withNote({ paths: dedupe(env.map((p) => expandHome(p, i.home))), source: 'KUBECONFIG' });
  return withNote({ paths: [path.join(i.home, '.kube', 'config')], source: 'default' });
}

function expandHome(p: string, home: string): string {
  if (p === '~') return home;
  if (p.startsWith('~/') || p.startsWith('~\\')) return path.join(home, p.slice(2));
  return p;
}

function dedupe(paths: string[]): string[] {
  return [...new Set(paths)];
}

/** The parts of a kubeconfig the extension looks at (contexts and their servers). */
export interface KubeconfigDoc {
  'current-context'?: string;
  contexts?: { name: string; context?: { cluster?: string; user?: string; namespace?: string } }[];
  clusters?: { name: string; cluster?: { server?: string; [k: string]: unknown } }[];
  users?: { name: string; user?: unknown }[];
  [k: string]: unknown;
}

export interface ContextInfo {
  name: string;
  cluster?: string;
  server?: string;
  /** Where it came from: a file path or "sandbox". */
  origin: string;
}

/**
 * Merges kubeconfig documents with KUBECONFIG rules: for contexts, clusters and users the first
 * document naming an entry wins; current-context comes from the first document that sets one.
 */
export function mergeKubeconfigs(docs: { doc: KubeconfigDoc; origin: string }[]): { merged: KubeconfigDoc; contexts: ContextInfo[] } {
  const merged: KubeconfigDoc = { apiVersion: 'v1', kind: 'Config', contexts: [], clusters: [], users: [] };
  const origins = new Map<string, string>();
  for (const { doc, origin } of docs) {
    if (!doc || typeof doc !== 'object') continue;
    if (!merged['current-context'] && typeof doc['current-context'] === 'string' && doc['current-context']) {
      merged['current-context'] = doc['current-context'];
    }
    for (const key of ['contexts', 'clusters', 'users'] as const) {
      const list = Array.isArray(doc[key]) ? (doc[key] as { name: string }[]) : [];
      const into = merged[key] as { name: string }[];
      for (const item of list) {
        if (!item || typeof item.name !== 'string') continue;
        if (into.some((x) => x.name === item.name)) continue;
        into.push(item);
        if (key === 'contexts') origins.set(item.name, origin);
      }
    }
  }
  const contexts = (merged.contexts ?? []).map((c) => {
    const cluster = c.context?.cluster;
    const server = merged.clusters?.find((x) => x.name === cluster)?.cluster?.server;
    return { name: c.name, cluster, server, origin: origins.get(c.name) ?? '' };
  });
  return { merged, contexts };
}

// Seeding the sandbox from deploy files, so the extension has something to show on a fresh start:
// for each `*.deploy.yaml` in a directory, each pipeline environment whose context is the sandbox's
// context gets its namespace and the pipeline's manifests (the app's previous, stable version).
import { promises as fs } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { KubeObject, Store } from '../api/store';
import { resourceForKind } from '../api/resources';
import { ApiError } from '../api/errors';
import { parseDeployFile } from '../../deployfile/parse';

export interface SeedReport {
  /** Namespaces created or found. */
  namespaces: string[];
  /** `kind namespace/name` of objects created. */
  created: string[];
  /** Problems (file: message); seeding continues past them. */
  problems: string[];
}

export async function seedFromDirectory(store: Store, dir: string, context: string): Promise<SeedReport> {
  const report: SeedReport = { namespaces: [], created: [], problems: [] };
  let files: string[];
  try {
    files = (await fs.readdir(dir)).filter((f) => f.endsWith('.deploy.yaml') || f.endsWith('.deploy.yml')).sort();
  } catch (e) {
    report.problems.push(`${dir}: cannot read the seed directory (${(e as Error).message})`);
    return report;
  }
  for (const f of files) {
    const file = path.join(dir, f);
    const text = await fs.readFile(file, 'utf8');
    const parsed = parseDeployFile(text, file);
    for (const d of parsed.diagnostics) if (d.severity === 'error') report.problems.push(`${file}:${d.range.start.line + 1}: ${d.message}`);
    for (const p of parsed.pipelines) {
      for (const env of p.environments) {
        if (env.context !== context) continue;
        ensureNamespace(store, env.namespace, report);
        for (const m of p.manifests) {
          const manifest = path.resolve(path.dirname(file), m);
          await applyManifestFile(store, manifest, env.namespace, report);
        }
      }
    }
  }
  return report;
}

function ensureNamespace(store: Store, ns: string, report: SeedReport): void {
  if (!store.tryGet('namespaces', undefined, ns)) store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  if (!report.namespaces.includes(ns)) report.namespaces.push(ns);
}

/** Creates every object of a multi-document manifest in `namespace` (existing objects are left alone). */
export async function applyManifestFile(store: Store, file: string, namespace: string, report: SeedReport): Promise<void> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    report.problems.push(`${file}: cannot read manifest (${(e as Error).message})`);
    return;
  }
  const docs = YAML.parseAllDocuments(text);
  docs.forEach((doc, i) => {
    if (doc.errors.length) {
      report.problems.push(`${file}: document ${i + 1}: ${doc.errors[0].message}`);
      return;
    }
    const obj = doc.toJS() as KubeObject | null;
    if (!obj || typeof obj !== 'object') return;
    const def = typeof obj.apiVersion === 'string' && typeof obj.kind === 'string' ? resourceForKind(obj.apiVersion, obj.kind) : undefined;
    if (!def) {
      report.problems.push(`${file}: document ${i + 1}: kind ${String(obj.kind)} (${String(obj.apiVersion)}) is not served by the sandbox`);
      return;
    }
    obj.metadata = { ...(obj.metadata ?? {}) };
    if (def.namespaced) obj.metadata.namespace = namespace;
    else if (def.key === 'namespaces') ensureNamespace(store, obj.metadata.name ?? namespace, report);
    if (store.tryGet(def.key, obj.metadata.namespace, obj.metadata.name ?? '')) return;
    try {
      store.create(def.key, obj);
      report.created.push(`${obj.kind} ${def.namespaced ? `${namespace}/` : ''}${obj.metadata.name}`);
    } catch (e) {
      report.problems.push(`${file}: document ${i + 1}: ${e instanceof ApiError ? e.status.message : (e as Error).message}`);
    }
  });
}

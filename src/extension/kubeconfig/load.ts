// Reads the kubeconfig files the resolver chose (read only) and merges them with the in-memory
// sandbox kubeconfig, which comes first so the sandbox the user started from this window wins over a
// stale `sandbox` context in a file. The result is what the engine receives as ClusterAccess.
import { promises as fs } from 'node:fs';
import type { ClusterAccess } from '../../engine/api';
import { mergeKubeconfigs, type ContextInfo, type KubeconfigDoc } from './resolve';

export interface LoadedKubeconfig {
  access: ClusterAccess;
  contexts: ContextInfo[];
  /** Files that could not be read or parsed (missing files are normal and not listed, unless named by the setting). */
  problems: string[];
}

export interface LoadOptions {
  /**
   * The paths come from the kubeDelivery.kubeconfig setting: a missing file is then a problem to report
   * (the user asked for it; in a remote window it may be a path of the user's own machine), not the
   * normal absence of an optional ~/.kube/config.
   */
  fromSetting?: boolean;
}

export async function loadKubeconfig(paths: readonly string[], sandboxYaml: string | undefined, options: LoadOptions = {}): Promise<LoadedKubeconfig> {
  const YAML = await import('yaml');
  const docs: { doc: KubeconfigDoc; origin: string }[] = [];
  const problems: string[] = [];
  if (sandboxYaml) docs.push({ doc: YAML.parse(sandboxYaml) as KubeconfigDoc, origin: 'sandbox' });
  const texts = await Promise.all(
    paths.map(async (p) => {
      try {
        return { p, text: await fs.readFile(p, 'utf8') };
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT') problems.push(`${p}: ${(err as Error).message}`);
        else if (options.fromSetting) problems.push(`${p}: no such file (named by the kubeDelivery.kubeconfig setting, read on the machine where the extension runs)`);
        return { p, text: undefined };
      }
    }),
  );
  const readable: string[] = [];
  for (const { p, text } of texts) {
    if (text === undefined) continue;
    try {
      const doc = YAML.parse(text) as KubeconfigDoc | null;
      if (doc && typeof doc === 'object') {
        docs.push({ doc, origin: p });
        readable.push(p);
      }
    } catch (err) {
      problems.push(`${p}: not valid YAML (${(err as Error).message.split('\n')[0]})`);
    }
  }
  const { merged, contexts } = mergeKubeconfigs(docs);
  // With a sandbox the engine gets one merged document (held in memory only); otherwise the paths,
  // so the engine applies the same KUBECONFIG rules to the files themselves.
  const access: ClusterAccess = sandboxYaml ? { kubeconfigYaml: YAML.stringify(merged) } : { kubeconfigPaths: readable.length ? readable : [...paths] };
  return { access, contexts, problems };
}

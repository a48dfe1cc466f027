// Completion items for deploy files, from the JSON Schema (keys with snippets, enum values) and from
// the document itself (environment names for `after`, test names in `tests:` lists). Pure: the VS Code
// adapter only maps these to CompletionItems.
import type { Position, Range } from '../model';
import type { DeployFileValidator } from '../parse';
import { branchKeys, resolve, schemaAt, selectBranch, type JsonSchema } from '../schema';
import { cursorContext, type CursorContext } from './cursor';
import { documentAt, environmentNames, testNames, valueAtPath } from './documents';

export interface CompletionEntry {
  label: string;
  kind: 'property' | 'value' | 'reference' | 'snippet';
  /** Text to insert; a snippet (`${1:x}`) when `snippet` is true. */
  insertText: string;
  snippet: boolean;
  detail?: string;
  /** Markdown. */
  documentation?: string;
  replace: Range;
  sortText?: string;
}

const PIPELINE_SNIPPET = [
  'apiVersion: kube-delivery.dev/v1alpha1',
  'kind: Pipeline',
  'metadata:',
  '  name: ${1:my-app}',
  'spec:',
  '  app: { deployment: ${2:$1}, container: ${3:web}, service: ${4:$2}, port: ${5:80} }',
  '  image: ${6:registry.example.com/$1:1.0.0}',
  '  environments:',
  '    - { name: staging, context: ${7:sandbox}, namespace: ${8:$1-staging} }',
  '  strategy:',
  '    type: ${9|simple,canary,blueGreen|}',
  '',
].join('\n');

/** Hand-written snippets where a generic one would be unhelpful. Keyed by `parentKey.key`. */
const SNIPPETS: Record<string, string> = {
  'spec.environments': 'environments:\n  - name: ${1:staging}\n    context: ${2:sandbox}\n    namespace: ${3:default}',
  'spec.strategy': 'strategy:\n  type: ${1|simple,canary,blueGreen|}',
  'strategy.stages': 'stages:\n  - weights: { canary: ${1:10}, current: ${2:90} }\n    mode: ${3|manual,auto|}',
  'strategy.traffic': 'traffic:\n  router: ${1|replicas,istio,gatewayApi,nginx|}',
  'strategy.analysis': 'analysis:\n  successRate: ${1:99}\n  schedule: "${2:*/1 * * * *}"\n  checks: ${3:3}',
  'stages.analysis': 'analysis:\n  successRate: ${1:99}\n  schedule: "${2:*/1 * * * *}"\n  checks: ${3:3}',
  'stages.weights': 'weights: { canary: ${1:10}, current: ${2:90} }',
  'spec.tests': 'tests:\n  ${1:smoke}:\n    image: ${2:curlimages/curl:8.10.1}\n    command: [${3:curl, -fsS, http://app/healthz}]',
  'spec.app': 'app:\n  deployment: ${1:my-app}\n  container: ${2:web}\n  service: ${3:$1}\n  port: ${4:80}',
  'spec.metrics': 'metrics:\n  prometheus:\n    service: ${1:monitoring/prometheus:9090}',
  'spec.manifests': 'manifests:\n  - ${1:k8s/app.yaml}',
};

function parentKey(path: readonly (string | number)[]): string {
  for (let i = path.length - 1; i >= 0; i--) if (typeof path[i] === 'string' && !/^\d+$/.test(String(path[i]))) return String(path[i]);
  return '';
}

function escapeSnippet(s: string): string {
  return s.replace(/[$}\\]/g, '\\$&');
}

function scalarText(v: unknown): string {
  if (typeof v === 'string') return /^[*&!|>%@`{}[\],#?:-]|: | #|^\s|\s$|^(true|false|null|~|\d.*)$/i.test(v) ? JSON.stringify(v) : v;
  return String(v);
}

function typeOf(s: JsonSchema): string {
  if (s.enum || s.const !== undefined) return 'enum';
  return Array.isArray(s.type) ? s.type.join(' | ') : s.type ?? (s.oneOf ? 'object' : 'value');
}

function keySnippet(key: string, child: JsonSchema, parent: string, flow: boolean): { text: string; snippet: boolean } {
  const special = SNIPPETS[`${parent}.${key}`];
  if (special && !flow) return { text: special, snippet: true };
  if (child.const !== undefined) return { text: `${key}: ${scalarText(child.const)}`, snippet: false };
  if (child.enum) return { text: `${key}: \${1|${child.enum.map((e) => String(e).replace(/[,|]/g, '\\$&')).join(',')}|}`, snippet: true };
  if (child.type === 'boolean') {
    const first = child.default === true ? 'true,false' : 'false,true';
    return { text: `${key}: \${1|${first}|}`, snippet: true };
  }
  if (child.type === 'array') {
    const item = resolve(child.items);
    if (item?.type === 'object' && !flow) return { text: `${key}:\n  - $1`, snippet: true };
    return { text: `${key}: [$1]`, snippet: true };
  }
  if (child.type === 'object' || child.oneOf) {
    if (flow) return { text: `${key}: { $1 }`, snippet: true };
    const req = child.required ?? [];
    if (req.length) return { text: `${key}:\n${req.map((r, i) => `  ${r}: $${i + 1}`).join('\n')}`, snippet: true };
    return { text: `${key}:\n  $1`, snippet: true };
  }
  const example = child.default ?? child.examples?.[0];
  if (example !== undefined && typeof example !== 'object') return { text: `${key}: \${1:${escapeSnippet(scalarText(example))}}`, snippet: true };
  return { text: `${key}: $1`, snippet: true };
}

function docsOf(s: JsonSchema | undefined): string | undefined {
  if (!s?.description) return undefined;
  const parts = [s.description];
  if (s.default !== undefined && typeof s.default !== 'object') parts.push(`Default: \`${String(s.default)}\``);
  return parts.join('\n\n');
}

function keyCompletions(ctx: CursorContext, path: (string | number)[], root: unknown, currentLineKey: string | undefined): CompletionEntry[] {
  const here = valueAtPath(root, path);
  const schema = schemaAt(path, root);
  if (!schema) return [];
  const branch = selectBranch(schema, here);
  const keys = branchKeys(branch);
  const existing = here && typeof here === 'object' && !Array.isArray(here) ? Object.keys(here) : [];
  const parent = parentKey(path);
  const out: CompletionEntry[] = [];
  keys.forEach((key, i) => {
    if (existing.includes(key) && key !== currentLineKey) return;
    const child = schemaAt([...path, key], root) ?? {};
    const { text, snippet } = keySnippet(key, child, parent, ctx.inFlow);
    const required = (branch.required ?? []).includes(key);
    out.push({
      label: key,
      kind: 'property',
      insertText: text,
      snippet,
      detail: `${typeOf(child)}${required ? ' (required)' : ''}`,
      documentation: docsOf(child),
      replace: ctx.replace,
      // Required keys first, then schema order.
      sortText: `${required ? 0 : 1}${String(i).padStart(3, '0')}`,
    });
  });
  if (path.length === 0 && existing.length === 0) {
    out.unshift({ label: 'Pipeline', kind: 'snippet', insertText: PIPELINE_SNIPPET, snippet: true, detail: 'a whole deploy-file pipeline', documentation: 'Inserts a minimal Pipeline document.', replace: ctx.replace, sortText: '0000' });
  }
  return out;
}

function valueEntries(values: readonly unknown[], kind: CompletionEntry['kind'], ctx: CursorContext, detail: string, docs?: (v: unknown) => string | undefined): CompletionEntry[] {
  return values.map((v, i) => ({
    label: String(v),
    kind,
    insertText: ctx.inFlow || typeof v !== 'string' ? String(v) : scalarText(v),
    snippet: false,
    detail,
    documentation: docs?.(v),
    replace: ctx.replace,
    sortText: String(i).padStart(4, '0'),
  }));
}

export function completions(validator: DeployFileValidator, text: string, position: Position): CompletionEntry[] {
  const ctx = cursorContext(text, position);
  const view = documentAt(validator, text, position);
  const root = view?.raw.value;
  const lineText = text.split('\n')[position.line] ?? '';
  const currentLineKey = /^\s*(?:-\s+)*([\w-]+)\s*:/.exec(lineText)?.[1];

  if (ctx.kind === 'key') return keyCompletions(ctx, ctx.path, root, currentLineKey);

  const path = ctx.path;
  const last = String(path[path.length - 1] ?? '');
  const schema = schemaAt(path, root);
  // A new block-list item whose items are mappings: offer the item's keys (`- name: `, ...).
  if (ctx.listItem && !ctx.inFlow && schema?.items && resolve(schema.items)?.type === 'object') {
    return keyCompletions({ ...ctx, inFlow: true }, [...path, ctx.itemIndex ?? 0], root, undefined);
  }
  // References into the document itself.
  if (last === 'after' && path.includes('environments')) {
    const envIndex = path[path.indexOf('environments') + 1];
    const self = valueAtPath(root, ['spec', 'environments', envIndex as number, 'name']);
    return valueEntries(environmentNames(root).filter((n) => n !== self), 'reference', ctx, 'environment', (n) => {
      const env = (valueAtPath(root, ['spec', 'environments']) as Record<string, unknown>[]).find((e) => e?.name === n);
      return env ? `context \`${String(env.context ?? '')}\`, namespace \`${String(env.namespace ?? 'default')}\`` : undefined;
    });
  }
  if (last === 'tests' && path.length > 2 && schema?.type === 'array') {
    const listed = valueAtPath(root, path);
    const already = Array.isArray(listed) ? listed : [];
    return valueEntries(testNames(root).filter((n) => !already.includes(n) || n === ctx.prefix), 'reference', ctx, 'test', (n) => {
      const t = valueAtPath(root, ['spec', 'tests', String(n)]) as Record<string, unknown> | undefined;
      return t ? `image \`${String(t.image ?? '')}\`` : undefined;
    });
  }
  // The discriminator (`strategy.type`) lists every branch.
  const parentSchema = schemaAt(path.slice(0, -1), root);
  if (parentSchema?.discriminator?.propertyName === last && parentSchema.oneOf) {
    const types = parentSchema.oneOf.map((b) => resolve(b)?.properties?.[last]?.const).filter((c) => c !== undefined);
    const described = (t: unknown) => resolve(parentSchema.oneOf!.find((b) => resolve(b)?.properties?.[last]?.const === t))?.description;
    return valueEntries(types, 'value', ctx, 'strategy', described);
  }
  if (!schema) return [];
  const item = ctx.listItem && schema.items ? resolve(schema.items) ?? schema : schema;
  if (item.enum) return valueEntries(item.enum, 'value', ctx, last, () => item.description);
  if (item.const !== undefined) return valueEntries([item.const], 'value', ctx, last, () => item.description);
  if (item.type === 'boolean') return valueEntries(item.default === true ? [true, false] : [false, true], 'value', ctx, last, () => item.description);
  const examples = [...new Set([...(item.default !== undefined && typeof item.default !== 'object' ? [item.default] : []), ...(item.examples ?? []).filter((e) => typeof e !== 'object')])];
  return valueEntries(examples, 'value', ctx, `example ${last}`, () => item.description);
}

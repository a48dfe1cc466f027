// Hover text: the field's description from the schema, its default, and for cron schedules the
// schedule in words ("every 5 minutes"); on references, what they point at.
import type { Position, Range } from '../model';
import type { DeployFileValidator } from '../parse';
import { contains, parsePointer } from '../ranges';
import { schemaAt } from '../schema';
import { cronError, describeCron } from '../cron';
import { parseDuration, formatDuration } from '../duration';
import { documentAt, toFile, toLocal, valueAtPath } from './documents';

export interface HoverInfo {
  markdown: string;
  range: Range;
}

export function hover(validator: DeployFileValidator, text: string, position: Position): HoverInfo | undefined {
  const view = documentAt(validator, text, position);
  if (!view) return undefined;
  const local = toLocal(view, position);
  // The innermost node whose key, or single-line value, is under the cursor.
  let best: { pointer: string; range: Range; onKey: boolean } | undefined;
  for (const [ptr, n] of view.raw.nodes) {
    if (!ptr) continue;
    const onKey = n.key && contains(n.key, local);
    const onValue = !onKey && n.value.start.line === n.value.end.line && contains(n.value, local);
    if (!onKey && !onValue) continue;
    const range = onKey ? n.key! : n.value;
    if (!best || ptr.length > best.pointer.length) best = { pointer: ptr, range, onKey: Boolean(onKey) };
  }
  if (!best) return undefined;
  const segments = parsePointer(best.pointer);
  const root = view.raw.value;
  const key = segments[segments.length - 1];
  const isItem = /^\d+$/.test(key);
  const fieldPath = isItem ? segments.slice(0, -1) : segments;
  const field = fieldPath[fieldPath.length - 1];
  const schema = schemaAt(isItem ? segments : segments, root) ?? schemaAt(fieldPath, root);
  const fieldSchema = schemaAt(fieldPath, root);
  const value = valueAtPath(root, segments);
  const parts: string[] = [];
  parts.push(`**\`${field}\`**`);
  const description = fieldSchema?.description ?? schema?.description;
  if (description) parts.push(description);
  if (typeof value === 'string' && field === 'schedule') {
    const err = cronError(value);
    parts.push(err ? `⚠ not a valid schedule: ${err}` : `Runs ${describeCron(value) ?? value}.`);
  }
  if (typeof value === 'string' && /^(timeout|pause|scaleDownDelay|autoPromoteDelay)$/.test(field)) {
    const ms = parseDuration(value);
    if (ms !== undefined) parts.push(`= ${formatDuration(ms)} (${ms.toLocaleString('en-US')} ms)`);
  }
  if (field === 'after' && typeof value === 'string') {
    const env = (valueAtPath(root, ['spec', 'environments']) as Record<string, unknown>[] | undefined)?.find?.((e) => e?.name === value);
    if (env) parts.push(`Environment \`${value}\`: context \`${String(env.context ?? '')}\`, namespace \`${String(env.namespace ?? 'default')}\`.`);
  }
  if (fieldPath[fieldPath.length - 1] === 'tests' && isItem && typeof value === 'string') {
    const t = valueAtPath(root, ['spec', 'tests', value]) as Record<string, unknown> | undefined;
    if (t) parts.push(`Test \`${value}\`: image \`${String(t.image ?? '')}\`${Array.isArray(t.command) ? `, command \`${t.command.join(' ')}\`` : ''}.`);
  }
  const d = fieldSchema?.default;
  if (d !== undefined && typeof d !== 'object') parts.push(`Default: \`${String(d)}\``);
  if (fieldSchema?.enum) parts.push(`One of: ${fieldSchema.enum.map((e) => `\`${String(e)}\``).join(', ')}`);
  return { markdown: parts.join('\n\n'), range: toFile(view, best.range) };
}

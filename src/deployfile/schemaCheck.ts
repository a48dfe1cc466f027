// JSON Schema validation through the precompiled (standalone) ajv validator, and the translation of
// ajv's errors into messages that say what to write instead, at the key or value at fault.
import type { Diagnostic } from './model';
import type { RawDocument } from './yamlDoc';
import { allowedKeys, expectedTypeName, resolve, schemaAt, typeName } from './schema';
import { closest, orList } from './suggest';
import { lastSegment, parentPointer, parsePointer, escapeSegment } from './ranges';
import { anchorRange, keyRangeAt, valueRangeAt } from './locate';
import validatePipeline from './generated/validate-pipeline';

interface AjvError {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
  propertyName?: string;
}

export function schemaDiagnostics(doc: RawDocument): Diagnostic[] {
  if (validatePipeline(doc.value)) return [];
  const errors = (validatePipeline.errors ?? []) as AjvError[];
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    // ajv reports a bad property name twice: the pattern error (with propertyName) and a generic one.
    if (e.keyword === 'propertyNames') continue;
    const d = translate(e, doc);
    if (!d) continue;
    const key = `${d.code}|${d.message}|${d.range.start.line}:${d.range.start.character}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d);
  }
  return out;
}

function valueAt(doc: RawDocument, pointer: string): unknown {
  let v: unknown = doc.value;
  for (const s of parsePointer(pointer)) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[s];
  }
  return v;
}

/** The name people see for the thing at `pointer`: its key, or `<parent>[i]` for list items. */
function fieldName(pointer: string): string {
  if (!pointer) return 'the document';
  const last = lastSegment(pointer);
  if (/^\d+$/.test(last)) {
    const parent = lastSegment(parentPointer(pointer));
    return `${parent}[${last}]`;
  }
  return last;
}

function show(v: unknown): string {
  if (typeof v === 'string') return `\`${v}\``;
  if (v === null || v === undefined) return 'nothing';
  if (typeof v === 'object') return typeName(v);
  return `\`${String(v)}\``;
}

const PATTERN_HINTS: Record<string, { code: string; expected: string }> = {
  duration: { code: 'KD107', expected: 'a duration like `30s`, `5m` or `1h30m` (units ms, s, m, h)' },
  dnsLabel: { code: 'KD055', expected: 'a DNS label: lowercase letters, digits and `-`, starting and ending with a letter or digit, at most 63 characters' },
  dnsName: { code: 'KD055', expected: 'a Kubernetes name: lowercase letters, digits, `-` and `.`, starting and ending with a letter or digit' },
  intOrPercent: { code: 'KD055', expected: 'a number of pods or a percentage like `25%`' },
};

function translate(e: AjvError, doc: RawDocument): Diagnostic | undefined {
  const path = e.instancePath;
  const value = valueAt(doc, path);
  const name = fieldName(path);
  const segments = parsePointer(path);
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(e.params.additionalProperty);
      const keyPath = `${path}/${escapeSegment(key)}`;
      const range = keyRangeAt(doc, keyPath);
      const allowed = allowedKeys(segments, doc.value);
      const suggestion = closest(key, allowed);
      const where = path ? ` in \`${name}\`` : '';
      if (suggestion) {
        return {
          code: 'KD052',
          severity: 'error',
          message: `unknown key \`${key}\`${where}: did you mean \`${suggestion}\`?`,
          range,
          fix: { title: `Change to \`${suggestion}\``, edits: [{ range, newText: suggestion }] },
        };
      }
      return { code: 'KD052', severity: 'error', message: `unknown key \`${key}\`${where}; allowed keys: ${orList(allowed)}`, range };
    }
    case 'required': {
      const missing = String(e.params.missingProperty);
      const where = path ? `\`${name}\`` : 'the pipeline';
      return { code: 'KD053', severity: 'error', message: `${where} is missing the required key \`${missing}\``, range: anchorRange(doc, path) };
    }
    case 'discriminator': {
      const tag = String(e.params.tag);
      if (e.params.error === 'mapping') {
        const allowed = strategyTypes(segments, doc.value, tag);
        const got = (value as Record<string, unknown>)?.[tag];
        const range = valueRangeAt(doc, `${path}/${tag}`);
        const suggestion = typeof got === 'string' ? closest(got, allowed) : undefined;
        return {
          code: 'KD051',
          severity: 'error',
          message: `\`${tag}\` must be ${orList(allowed)}, got ${show(got)}`,
          range,
          fix: suggestion ? { title: `Change to \`${suggestion}\``, edits: [{ range, newText: suggestion }] } : undefined,
        };
      }
      const present = value && typeof value === 'object' && tag in (value as object);
      if (present) {
        return { code: 'KD050', severity: 'error', message: `\`${tag}\` must be text, got ${typeName((value as Record<string, unknown>)[tag])}`, range: valueRangeAt(doc, `${path}/${tag}`) };
      }
      return { code: 'KD053', severity: 'error', message: `\`${name}\` is missing the required key \`${tag}\``, range: anchorRange(doc, path) };
    }
    case 'type': {
      const expected = String(e.params.type).split(',').map(expectedTypeName);
      return { code: 'KD050', severity: 'error', message: `\`${name}\` must be ${expected.join(' or ')}, got ${typeName(value)}${isScalar(value) ? ` ${show(value)}` : ''}`, range: valueRangeAt(doc, path) };
    }
    case 'enum':
    case 'const': {
      const allowed = e.keyword === 'enum' ? (e.params.allowedValues as unknown[]) : [e.params.allowedValue];
      const range = valueRangeAt(doc, path);
      const suggestion = typeof value === 'string' ? closest(value, allowed.map(String)) : undefined;
      return {
        code: 'KD051',
        severity: 'error',
        message: `\`${name}\` must be ${orList(allowed)}, got ${show(value)}`,
        range,
        fix: suggestion && suggestion !== value ? { title: `Change to \`${suggestion}\``, edits: [{ range, newText: suggestion }] } : undefined,
      };
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const range = valueRangeAt(doc, path);
      if (e.schemaPath.includes('/percent/')) {
        return { code: 'KD106', severity: 'error', message: `\`${name}\` is a percentage: it must be more than 0 and at most 100, got ${show(value)}`, range };
      }
      const limit = e.params.limit;
      const words = { minimum: 'at least', maximum: 'at most', exclusiveMinimum: 'more than', exclusiveMaximum: 'less than' }[e.keyword];
      return { code: 'KD054', severity: 'error', message: `\`${name}\` must be ${words} ${String(limit)}, got ${show(value)}`, range };
    }
    case 'minItems':
      return { code: 'KD054', severity: 'error', message: `\`${name}\` needs at least ${String(e.params.limit)} item${e.params.limit === 1 ? '' : 's'}`, range: anchorRange(doc, path) };
    case 'minLength':
      return { code: 'KD054', severity: 'error', message: `\`${name}\` must not be empty`, range: valueRangeAt(doc, path) };
    case 'uniqueItems': {
      const j = Math.max(Number(e.params.i), Number(e.params.j));
      const itemPath = `${path}/${j}`;
      const item = valueAt(doc, itemPath);
      return { code: 'KD056', severity: 'error', message: `\`${name}\` lists ${show(item)} twice`, range: valueRangeAt(doc, itemPath) };
    }
    case 'pattern': {
      const def = /#\/definitions\/(\w+)\//.exec(e.schemaPath)?.[1];
      const hint = def ? PATTERN_HINTS[def] : undefined;
      if (e.propertyName !== undefined) {
        const range = keyRangeAt(doc, `${path}/${escapeSegment(e.propertyName)}`);
        const what = path === '/spec/tests' ? 'test name' : 'name';
        return { code: 'KD055', severity: 'error', message: `${what} \`${e.propertyName}\` must be ${hint?.expected ?? `like ${e.params.pattern}`}`, range };
      }
      const range = valueRangeAt(doc, path);
      if (hint) return { code: hint.code, severity: 'error', message: `\`${name}\` must be ${hint.expected}, got ${show(value)}`, range };
      if (name === 'service') return { code: 'KD055', severity: 'error', message: `\`service\` must be \`namespace/name:port\`, e.g. \`monitoring/prometheus:9090\`, got ${show(value)}`, range };
      if (name === 'url') return { code: 'KD055', severity: 'error', message: `\`url\` must start with \`http://\` or \`https://\`, got ${show(value)}`, range };
      return { code: 'KD055', severity: 'error', message: `\`${name}\` must match ${String(e.params.pattern)}, got ${show(value)}`, range };
    }
    case 'oneOf':
    case 'if':
      return undefined;
    default:
      return { code: 'KD055', severity: 'error', message: `\`${name}\` ${e.message ?? 'is not valid'}`, range: valueRangeAt(doc, path) };
  }
}

function isScalar(v: unknown): boolean {
  return v !== null && v !== undefined && typeof v !== 'object';
}

function strategyTypes(segments: readonly string[], root: unknown, tag: string): string[] {
  const out: string[] = [];
  for (const b of schemaAt(segments, root)?.oneOf ?? []) {
    const c = resolve(b)?.properties?.[tag]?.const;
    if (typeof c === 'string') out.push(c);
  }
  return out;
}

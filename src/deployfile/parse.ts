// Deploy file → pipelines + diagnostics. The text is cut at `---` document markers into chunks that
// are parsed and checked independently; results are cached per chunk text, so after an edit inside
// one document of a 5,000-line file only that document is parsed again. Cross-document rules (unique
// pipeline names) run over the assembled results. A fresh validator and a reused one give identical
// results (test/unit/deployfile/incremental.test.ts).
import type { Diagnostic, ParseResult, Pipeline, Range } from './model';
import { parseYamlDocuments, type RawDocument } from './yamlDoc';
import { schemaDiagnostics } from './schemaCheck';
import { ruleDiagnostics } from './rules';
import { buildPipeline } from './build';
import { shiftLines } from './ranges';
import { valueRangeAt } from './locate';

export interface Chunk {
  text: string;
  /** Zero-based line of the chunk's first line in the file. */
  line: number;
}

// A line that starts a new document: `---` alone or followed by a space/tab (content or a comment).
const MARKER = /^---(?=[ \t\r\n]|$)/gm;

/** Splits at document markers; each chunk but the first begins with its `---` line. */
export function splitChunks(text: string): Chunk[] {
  const chunks: Chunk[] = [];
  let start = 0;
  let line = 0;
  MARKER.lastIndex = 0;
  for (let m = MARKER.exec(text); m; m = MARKER.exec(text)) {
    if (m.index === 0) continue;
    const piece = text.slice(start, m.index);
    chunks.push({ text: piece, line });
    line += countNewlines(piece);
    start = m.index;
  }
  chunks.push({ text: text.slice(start), line });
  return chunks;
}

function countNewlines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

/** One document's checked result, relative to its chunk's first line. */
interface CheckedDocument {
  raw: RawDocument;
  diagnostics: Diagnostic[];
  /** Built when the document has no errors. documentIndex/file are set at assembly. */
  pipeline?: Omit<Pipeline, 'documentIndex'>;
  name?: string;
}

interface ChunkResult {
  docs: CheckedDocument[];
  /** The documents moved to where the chunk last sat in the file (reused while it stays there). */
  placed?: { line: number; docs: PlacedDocument[] };
}

interface PlacedDocument {
  raw: RawDocument;
  diagnostics: Diagnostic[];
  pipeline?: Omit<Pipeline, 'documentIndex'>;
  name?: string;
  nameRange?: Range;
}

function place(result: ChunkResult, line: number): PlacedDocument[] {
  if (result.placed?.line === line) return result.placed.docs;
  const docs = result.docs.map((d) => ({
    raw: d.raw,
    diagnostics: shiftLines(d.diagnostics, line),
    pipeline: d.pipeline && shiftLines(d.pipeline, line),
    name: d.name,
    nameRange: d.name === undefined ? undefined : shiftLines(valueRangeAt(d.raw, '/metadata/name'), line),
  }));
  result.placed = { line, docs };
  return docs;
}

function checkChunk(text: string, file: string): ChunkResult {
  const docs: CheckedDocument[] = [];
  for (const raw of parseYamlDocuments(text)) {
    if (raw.empty) {
      if (raw.diagnostics.length) docs.push({ raw, diagnostics: raw.diagnostics });
      continue;
    }
    const diagnostics = [...raw.diagnostics];
    if (!raw.broken) {
      diagnostics.push(...schemaDiagnostics(raw), ...ruleDiagnostics(raw));
    }
    diagnostics.sort(byPosition);
    const doc: CheckedDocument = { raw, diagnostics };
    const meta = (raw.value as { metadata?: { name?: unknown } } | null)?.metadata;
    if (meta && typeof meta === 'object' && typeof meta.name === 'string') doc.name = meta.name;
    if (!raw.broken && !diagnostics.some((d) => d.severity === 'error')) {
      const { documentIndex: _i, ...p } = buildPipeline(raw, file, 0);
      doc.pipeline = p;
    }
    docs.push(doc);
  }
  return { docs };
}

function byPosition(a: Diagnostic, b: Diagnostic): number {
  return a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character;
}

export interface DocumentView {
  /** Index among the file's non-empty documents. */
  index: number;
  /** Line of the chunk's first line: add it to the raw document's (chunk-relative) ranges. */
  lineOffset: number;
  raw: RawDocument;
}

/**
 * Validates one file repeatedly (the editor keeps one per open document). Only chunks whose text
 * changed are parsed again; the cache holds exactly the chunks of the last text.
 */
export class DeployFileValidator {
  private cache = new Map<string, ChunkResult>();
  private last: { text: string; result: ParseResult; views: DocumentView[] } | undefined;
  /** Chunks parsed by the last validate() call (for tests and the benchmark). */
  lastParsedChunks = 0;

  constructor(readonly file: string) {}

  validate(text: string): ParseResult {
    if (this.last && this.last.text === text) return this.last.result;
    const chunks = splitChunks(text);
    const next = new Map<string, ChunkResult>();
    const pipelines: Pipeline[] = [];
    const diagnostics: Diagnostic[] = [];
    const views: DocumentView[] = [];
    const names = new Map<string, { line: number }>();
    let index = 0;
    let parsed = 0;
    for (const chunk of chunks) {
      let result = next.get(chunk.text) ?? this.cache.get(chunk.text);
      if (!result) {
        result = checkChunk(chunk.text, this.file);
        parsed++;
      }
      next.set(chunk.text, result);
      for (const doc of place(result, chunk.line)) {
        diagnostics.push(...doc.diagnostics);
        views.push({ index, lineOffset: chunk.line, raw: doc.raw });
        let duplicate = false;
        if (doc.name !== undefined && doc.nameRange) {
          const at: Range = doc.nameRange;
          const first = names.get(doc.name);
          if (first) {
            duplicate = true;
            diagnostics.push({
              code: 'KD113',
              severity: 'error',
              message: `pipeline \`${doc.name}\` is already defined in this file (line ${first.line + 1}); pipeline names must be unique`,
              range: at,
            });
          } else names.set(doc.name, { line: at.start.line });
        }
        if (doc.pipeline && !duplicate) pipelines.push({ ...doc.pipeline, documentIndex: index } as Pipeline);
        index++;
      }
    }
    this.cache = next;
    this.lastParsedChunks = parsed;
    const result: ParseResult = { pipelines, diagnostics };
    this.last = { text, result, views };
    return result;
  }

  /** The documents of the last validated text, for the editor helpers. */
  documents(text: string): DocumentView[] {
    this.validate(text);
    return this.last!.views;
  }
}

/** One-shot validation (no cache kept). */
export function parseDeployFile(text: string, file: string): ParseResult {
  return new DeployFileValidator(file).validate(text);
}

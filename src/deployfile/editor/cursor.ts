// Where the cursor is in the YAML structure, read from the lines above it. Completion runs while the
// user is typing, when the document is often not valid YAML yet, so this works on indentation and
// the current line (block mappings, lists and one-line flow collections) rather than on the AST.
import type { Position, Range } from '../model';

export interface CursorContext {
  /** Path of the mapping (kind 'key') or of the key whose value is typed (kind 'value'). */
  path: (string | number)[];
  kind: 'key' | 'value';
  /** For kind 'value': true when typing an item of a list (`- x` or `[a, x`). */
  listItem: boolean;
  /** The partial word under the cursor and the range it covers (replaced by the completion). */
  prefix: string;
  replace: Range;
  /** True when the cursor is inside a flow collection (`{ ... }` or `[ ... ]`) on this line. */
  inFlow: boolean;
  /** For a new block list item (`- |`): its index, so a mapping item's keys can be offered. */
  itemIndex?: number;
}

interface LineShape {
  /** Column of the key (or scalar) token, after any `- `. */
  col: number;
  /** Column of the `-` when the line is a list item. */
  dash?: number;
  key?: string;
  blank: boolean;
}

const KEY_LINE = /^(\s*)((?:-\s+)*)(?:(["']?)([^"'#:{}[\],]+?)\3\s*:(?:\s|$))?/;

function shape(line: string): LineShape {
  const trimmed = line.trimStart();
  if (!trimmed || trimmed.startsWith('#')) return { col: 0, blank: true };
  const m = KEY_LINE.exec(line)!;
  const indent = m[1].length;
  const dashes = m[2];
  const col = indent + dashes.length;
  const out: LineShape = { col, blank: false };
  if (dashes) out.dash = indent + dashes.lastIndexOf('-');
  if (m[4] !== undefined) out.key = m[4].trim();
  return out;
}

/** Lines from the start of the YAML document containing `line` (after its `---`) to `line`. */
function documentStart(lines: readonly string[], line: number): number {
  for (let i = line; i >= 0; i--) if (/^---(\s|$)/.test(lines[i]) && i !== line) return i + 1;
  return 0;
}

/** Path of the block mapping a token at column `col` on `line` belongs to. */
function blockPath(lines: readonly string[], line: number, col: number, isItemAtDash?: number): (string | number)[] {
  const start = documentStart(lines, line);
  const out: (string | number)[] = [];
  let need = col;
  if (isItemAtDash !== undefined) {
    out.push(itemIndex(lines, line, isItemAtDash, start));
    need = isItemAtDash;
  }
  for (let j = line - 1; j >= start && need > 0; j--) {
    const s = shape(lines[j]);
    if (s.blank) continue;
    if (s.col < need) {
      if (s.key !== undefined) out.push(s.key);
      need = s.col;
      if (s.dash !== undefined && s.dash < need) {
        out.push(itemIndex(lines, j, s.dash, start));
        need = s.dash;
      }
    } else if (s.dash !== undefined && s.dash < need) {
      out.push(itemIndex(lines, j, s.dash, start));
      need = s.dash;
    }
  }
  return out.reverse();
}

/** Index of the list item starting on `line` (dash at `dash`) among its siblings above. */
function itemIndex(lines: readonly string[], line: number, dash: number, start: number): number {
  let n = 0;
  for (let j = line - 1; j >= start; j--) {
    const s = shape(lines[j]);
    if (s.blank) continue;
    if (s.dash === dash) n++;
    else if (s.col <= dash && (s.dash === undefined || s.dash < dash)) break;
  }
  return n;
}

/** The innermost flow collection open at the end of `text` (the line up to the cursor). */
function openFlow(text: string): { char: '{' | '['; at: number } | undefined {
  const stack: { char: '{' | '['; at: number }[] = [];
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]))) break;
    else if (c === '{' || c === '[') stack.push({ char: c, at: i });
    else if (c === '}' || c === ']') stack.pop();
  }
  return stack[stack.length - 1];
}

export function cursorContext(text: string, position: Position): CursorContext {
  const lines = text.split('\n');
  const lineText = (lines[position.line] ?? '').replace(/\r$/, '');
  const before = lineText.slice(0, position.character);
  const wordMatch = /[\w./*-]*$/.exec(before)!;
  const prefix = wordMatch[0];
  const afterWord = /^[\w./*-]*/.exec(lineText.slice(position.character))![0];
  const replace: Range = {
    start: { line: position.line, character: position.character - prefix.length },
    end: { line: position.line, character: position.character + afterWord.length },
  };
  const s = shape(lineText);
  const flow = openFlow(before);
  if (flow) {
    // `key: { a: 1, |` or `key: [a, |`: the flow collection belongs to the key before it.
    const head = before.slice(0, flow.at);
    const hs = shape(head);
    const ownerKey = /([\w-]+)\s*:\s*$/.exec(head)?.[1];
    const basePath = blockPath(lines, position.line, hs.col, hs.dash !== undefined && hs.key !== undefined ? hs.dash : undefined);
    // A flow collection nested in another on the same line: the innermost key is the owner.
    const path = ownerKey ? [...basePath, ownerKey] : basePath;
    const inside = before.slice(flow.at + 1);
    const segment = inside.slice(Math.max(inside.lastIndexOf(','), -1) + 1);
    if (flow.char === '[') return { path, kind: 'value', listItem: true, prefix, replace, inFlow: true };
    const keyInFlow = /^\s*([\w-]+)\s*:\s*/.exec(segment);
    if (keyInFlow) return { path: [...path, keyInFlow[1]], kind: 'value', listItem: false, prefix, replace, inFlow: true };
    return { path, kind: 'key', listItem: false, prefix, replace, inFlow: true };
  }
  const valueMatch = /^(\s*)((?:-\s+)*)(["']?)([\w-]+)\3\s*:\s+/.exec(before);
  if (valueMatch) {
    const keyCol = valueMatch[1].length + valueMatch[2].length;
    const dash = valueMatch[2] ? valueMatch[1].length + valueMatch[2].lastIndexOf('-') : undefined;
    const parent = blockPath(lines, position.line, keyCol, dash);
    return { path: [...parent, valueMatch[4]], kind: 'value', listItem: false, prefix, replace, inFlow: false };
  }
  // `  - |`: an item of the list owned by the key above (a scalar item, or the first key of a mapping item).
  const itemMatch = /^(\s*)-\s+([\w./*-]*)$/.exec(before);
  if (itemMatch) {
    const dash = itemMatch[1].length;
    const listPath = blockPath(lines, position.line, dash);
    const index = itemIndex(lines, position.line, dash, documentStart(lines, position.line));
    return { path: listPath, kind: 'value', listItem: true, prefix, replace, inFlow: false, itemIndex: index };
  }
  // Typing a key (or on an empty line): the column decides the parent.
  const col = s.blank ? position.character : s.col;
  const parent = blockPath(lines, position.line, Math.min(col, position.character), s.dash);
  return { path: parent, kind: 'key', listItem: false, prefix, replace, inFlow: false };
}

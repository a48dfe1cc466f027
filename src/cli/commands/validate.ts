// `kube-delivery validate [FILE|GLOB|DIR ...] [--format text|json]`: checks deploy files the way the
// editor does. Exit 0 without errors, 1 with any error, 2 for usage errors or unreadable files.
import fs from 'node:fs';
import path from 'node:path';
import { ExitCode, UsageError, type CliIO } from '../io';
import { parseDeployFile } from '../../deployfile/parse';
import { findDeployFiles, isGlob, matchGlob } from '../../deployfile/files';
import type { Diagnostic } from '../../deployfile/model';

const HELP = `Usage: kube-delivery validate [FILE|GLOB|DIR ...] [--format text|json]

Checks deploy files (*.deploy.yaml, *.deploy.yml): YAML syntax, the Pipeline schema and the KD1xx
rules. Directories are searched recursively; without arguments, the current directory.

Options:
  --format text   one line per problem: path:line:column: error|warning CODE message (default)
  --format json   a JSON array of {file, line, column, endLine, endColumn, severity, code, message}
  -h, --help      show this help

Exit codes: 0 no errors (warnings allowed), 1 errors found, 2 usage error or unreadable file.
`;

export interface ValidateEntry {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  severity: Diagnostic['severity'];
  code: string;
  message: string;
}

function parseArgs(argv: string[]): { targets: string[]; format: 'text' | 'json'; help: boolean } {
  const targets: string[] = [];
  let format: 'text' | 'json' = 'text';
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') help = true;
    else if (a === '--format' || a.startsWith('--format=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v !== 'text' && v !== 'json') throw new UsageError(`--format must be text or json, got ${v === undefined ? 'nothing' : `'${v}'`}`);
      format = v;
    } else if (a === '--') {
      targets.push(...argv.slice(i + 1));
      break;
    } else if (a.startsWith('-') && a !== '-') throw new UsageError(`unknown option '${a}' (see --help)`);
    else targets.push(a);
  }
  return { targets, format, help };
}

/** Files to check, as shown to the user (relative paths stay relative). */
function expandTargets(targets: string[], cwd: string): string[] {
  const out: string[] = [];
  for (const t of targets.length ? targets : ['.']) {
    const abs = path.resolve(cwd, t);
    if (isGlob(t)) {
      const matches = matchGlob(t, cwd);
      if (!matches.length) throw new UsageError(`no files match '${t}'`);
      out.push(...matches);
      continue;
    }
    let stat: fs.Stats;
    try {
      stat = fs.statSync(abs);
    } catch (err) {
      throw new UsageError(`cannot read '${t}': ${describeFsError(err)}`);
    }
    if (stat.isDirectory()) {
      const found = findDeployFiles(abs).map((f) => displayPath(f, cwd, t));
      if (!found.length) throw new UsageError(`no deploy files (*.deploy.yaml, *.deploy.yml) in '${t}'`);
      out.push(...found);
    } else out.push(t);
  }
  return [...new Set(out)];
}

function displayPath(abs: string, cwd: string, given: string): string {
  return path.isAbsolute(given) ? abs : path.relative(cwd, abs) || '.';
}

function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return (err as Error)?.message ?? String(err);
}

export async function validate(argv: string[], io: CliIO): Promise<number> {
  const { targets, format, help } = parseArgs(argv);
  if (help) {
    io.stdout(HELP);
    return ExitCode.ok;
  }
  const files = expandTargets(targets, io.cwd);
  const entries: ValidateEntry[] = [];
  for (const file of files) {
    const abs = path.resolve(io.cwd, file);
    let text: string;
    try {
      text = fs.readFileSync(abs, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read '${file}': ${describeFsError(err)}`);
    }
    for (const d of parseDeployFile(text, abs).diagnostics) {
      entries.push({
        file,
        line: d.range.start.line + 1,
        column: d.range.start.character + 1,
        endLine: d.range.end.line + 1,
        endColumn: d.range.end.character + 1,
        severity: d.severity,
        code: d.code,
        message: d.message,
      });
    }
  }
  const errors = entries.filter((e) => e.severity === 'error').length;
  if (format === 'json') {
    io.stdout(`${JSON.stringify(entries, null, 2)}\n`);
  } else {
    for (const e of entries) io.stdout(`${e.file}:${e.line}:${e.column}: ${e.severity} ${e.code} ${e.message}\n`);
    const warnings = entries.filter((e) => e.severity === 'warning').length;
    io.stderr(`${files.length} file${files.length === 1 ? '' : 's'} checked: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}\n`);
  }
  return errors ? ExitCode.failed : ExitCode.ok;
}

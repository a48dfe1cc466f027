// Finding deploy files on disk for the CLI: directory walks and simple globs (`*`, `**`, `?`, `{a,b}`),
// since Node 20 has no fs.glob.
import fs from 'node:fs';
import path from 'node:path';

export const DEPLOY_FILE = /\.deploy\.ya?ml$/;
const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', 'out']);

/** Deploy files under `dir`, sorted, skipping node_modules, .git and build output. */
export function findDeployFiles(dir: string): string[] {
  const out: string[] = [];
  walk(dir, (f) => DEPLOY_FILE.test(f) && out.push(f));
  return out.sort();
}

function walk(dir: string, visit: (file: string) => unknown): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name) && !e.name.startsWith('.')) walk(p, visit);
    } else if (e.isFile()) visit(p);
  }
}

export function isGlob(s: string): boolean {
  return /[*?{[]/.test(s);
}

export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        // `**/` matches any number of directories, including none.
        if (glob[i + 2] === '/') {
          re += '(?:.*/)?';
          i += 2;
        } else {
          re += '.*';
          i += 1;
        }
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '{') {
      const close = glob.indexOf('}', i);
      if (close === -1) re += '\\{';
      else {
        re += `(?:${glob.slice(i + 1, close).split(',').map(escape).join('|')})`;
        i = close;
      }
    } else re += escape(c);
  }
  return new RegExp(`^${re}$`);
}

function escape(s: string): string {
  return s.replace(/[.+^$()|[\]\\{}*?]/g, '\\$&');
}

/** Files matching `glob` (relative to cwd unless absolute), returned as the user would write them. */
export function matchGlob(glob: string, cwd: string): string[] {
  const normalized = glob.split(path.sep).join('/');
  const parts = normalized.split('/');
  const staticParts: string[] = [];
  for (const p of parts) {
    if (isGlob(p)) break;
    staticParts.push(p);
  }
  const base = staticParts.join('/') || (normalized.startsWith('/') ? '/' : '.');
  const absBase = path.resolve(cwd, base);
  const re = globToRegExp(path.isAbsolute(normalized) ? normalized : path.posix.normalize(normalized));
  const out: string[] = [];
  walk(absBase, (file) => {
    const shown = path.isAbsolute(normalized) ? file : path.relative(cwd, file).split(path.sep).join('/');
    if (re.test(shown)) out.push(shown);
  });
  return out.sort();
}

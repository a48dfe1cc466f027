#!/usr/bin/env node
// Installs code-server 4.100.3 (= VS Code 1.100.3) from the npm registry into an ignored cache folder,
// offline-safe: no step downloads anything from outside the npm registry. Idempotent: a completed install
// leaves a stamp file and the next run returns at once. Recipe: ../shared/docs/real-vscode-offline.md.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CODE_SERVER_VERSION = '4.100.3';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const cacheDir = process.env.KD_CODE_SERVER_DIR
  ? path.resolve(process.env.KD_CODE_SERVER_DIR)
  : path.join(root, '.vscode-test', `code-server-${CODE_SERVER_VERSION}`);
export const codeServerPkg = path.join(cacheDir, 'node_modules', 'code-server');
export const codeServerEntry = path.join(codeServerPkg, 'out', 'node', 'entry.js');
const stamp = path.join(cacheDir, '.installed');

function run(cmd, args, cwd, extraEnv = {}) {
  console.log(`[install-code-server] (${path.relative(root, cwd) || '.'}) ${cmd} ${args.join(' ')}`);
  execFileSync(cmd, args, {
    cwd,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      ...process.env,
      npm_config_nodedir: '/usr',
      npm_config_yes: 'true',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
      ...extraEnv,
    },
  });
}

function link(target, at) {
  try { fs.rmSync(at, { recursive: true, force: true }); } catch { /* absent */ }
  fs.mkdirSync(path.dirname(at), { recursive: true });
  fs.symlinkSync(target, at);
}

export function isInstalled() {
  return fs.existsSync(stamp) && fs.existsSync(codeServerEntry);
}

export function installCodeServer() {
  if (isInstalled()) return codeServerPkg;
  const started = Date.now();
  for (const bin of ['/usr/bin/rg']) {
    if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: install Debian's ripgrep (see .ci/run)`);
  }
  fs.mkdirSync(cacheDir, { recursive: true });
  if (!fs.existsSync(path.join(cacheDir, 'package.json'))) {
    fs.writeFileSync(path.join(cacheDir, 'package.json'), JSON.stringify({ name: 'kd-code-server-cache', private: true }, null, 2));
  }
  // 1. code-server itself, without its postinstall (which downloads ripgrep from GitHub).
  run('npm', ['i', '--ignore-scripts', '--no-save', '--no-package-lock', `code-server@${CODE_SERVER_VERSION}`], cacheDir);
  // 2. argon2's prebuilt download fails; its source build works against Node's own headers.
  run('npm', ['rebuild', 'argon2'], cacheDir);
  // 3. VS Code's own server dependencies, with ripgrep taken from Debian.
  const vscodeDir = path.join(codeServerPkg, 'lib', 'vscode');
  run('npm', ['install', '--omit=dev', '--ignore-scripts', '--no-package-lock'], vscodeDir);
  const rgBin = path.join(vscodeDir, 'node_modules', '@vscode', 'ripgrep', 'bin');
  fs.mkdirSync(rgBin, { recursive: true });
  link('/usr/bin/rg', path.join(rgBin, 'rg'));
  run('npm', ['rebuild'], vscodeDir);
  // 4. What code-server's postinstall would have done.
  link('node_modules', path.join(vscodeDir, 'node_modules.asar'));
  const remoteCli = path.join(vscodeDir, 'bin', 'remote-cli');
  if (fs.existsSync(path.join(remoteCli, 'code-linux.sh'))) link('code-linux.sh', path.join(remoteCli, 'code-server'));
  const helpers = path.join(vscodeDir, 'bin', 'helpers');
  if (fs.existsSync(path.join(helpers, 'browser-linux.sh'))) link('browser-linux.sh', path.join(helpers, 'browser.sh'));
  run('npm', ['install', '--omit=dev', '--no-package-lock'], path.join(vscodeDir, 'extensions'));
  fs.writeFileSync(stamp, `${CODE_SERVER_VERSION} ${new Date().toISOString()}\n`);
  console.log(`[install-code-server] ready in ${((Date.now() - started) / 1000).toFixed(0)} s: ${codeServerPkg}`);
  return codeServerPkg;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    installCodeServer();
    console.log(`[install-code-server] ${isInstalled() ? 'installed' : 'NOT installed'} at ${cacheDir}`);
  } catch (err) {
    console.error(`[install-code-server] failed: ${err.message}`);
    process.exit(1);
  }
}

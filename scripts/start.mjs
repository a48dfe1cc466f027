#!/usr/bin/env node
// `npm start`: build, start the sandbox cluster seeded from examples/, start code-server on 127.0.0.1 with
// the extension loaded from the working tree and examples/ open, print the URL, run until Ctrl-C and
// clean up every process group. The sandbox's kubeconfig reaches only this code-server (KUBECONFIG in
// its environment, merged before the user's own); the user's kubeconfig is never written.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startCodeServer, workbenchUrl } from './lib/code-server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const port = Number(opt('--port', process.env.PORT ?? 8080));
const speed = opt('--speed', '10');
const workspaceArg = opt('--workspace', path.join(root, 'examples'));

function log(msg) {
  console.log(`[start] ${msg}`);
}

async function startSandbox(tmp) {
  const kubeconfig = path.join(tmp, 'sandbox.kubeconfig');
  const proc = spawn(process.execPath, [path.join(root, 'dist', 'cli.js'), 'sandbox', '--port', '0', '--kubeconfig', kubeconfig, '--seed', path.join(root, 'examples'), '--speed', speed], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = readline.createInterface({ input: proc.stdout });
  proc.stderr.on('data', (d) => process.stderr.write(`[sandbox] ${d}`));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the sandbox did not start within 30 s')), 30_000);
    lines.on('line', (line) => {
      console.log(`[sandbox] ${line}`);
      const m = /listening on (\S+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the sandbox exited with ${code}`));
    });
  });
  return { proc, url, kubeconfig };
}

const stops = [];
async function cleanup() {
  for (const s of stops.splice(0).reverse()) await s();
}

async function main() {
  if (!args.includes('--no-build')) execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { stdio: 'inherit', cwd: root });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kd-start-'));
  const workspace = path.resolve(workspaceArg);
  stops.push(() => fs.rmSync(tmp, { recursive: true, force: true }));
  let sandbox;
  if (!args.includes('--no-sandbox')) {
    sandbox = await startSandbox(tmp);
    stops.push(async () => {
      const exited = sandbox.proc.exitCode !== null ? Promise.resolve() : new Promise((r) => sandbox.proc.once('exit', r));
      try { process.kill(-sandbox.proc.pid, 'SIGTERM'); } catch { /* gone */ }
      const timer = setTimeout(() => {
        try { process.kill(-sandbox.proc.pid, 'SIGKILL'); } catch { /* gone */ }
      }, 5000);
      await exited;
      clearTimeout(timer);
    });
  }
  const userKubeconfig = process.env.KUBECONFIG || (fs.existsSync(path.join(os.homedir(), '.kube', 'config')) ? path.join(os.homedir(), '.kube', 'config') : '');
  const kubeconfigEnv = [sandbox?.kubeconfig, userKubeconfig].filter(Boolean).join(path.delimiter);
  const server = await startCodeServer({
    label: 'start',
    port,
    env: kubeconfigEnv ? { KUBECONFIG: kubeconfigEnv } : {},
  });
  stops.push(async () => {
    await server.stop();
    fs.rmSync(server.dirs.base, { recursive: true, force: true });
  });
  const url = workbenchUrl(server, { folder: workspace, extensionDevelopmentPath: root });
  console.log('');
  log(`VS Code (code-server) is listening on 127.0.0.1:${server.port}`);
  log(`Open Kube Delivery in your browser:\n\n    ${url}\n`);
  if (sandbox) log(`Sandbox cluster ${sandbox.url}; kubectl: KUBECONFIG=${sandbox.kubeconfig} kubectl get deploy -A`);
  log('Press Ctrl-C to stop.');

  let stopping = false;
  const stop = async (signal) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping…`);
    await cleanup();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  server.proc.once('exit', (code) => {
    if (!stopping) {
      console.error(`[start] code-server exited (${code}); log: ${server.logFile}`);
      void stop('exit');
    }
  });
}

main().catch(async (err) => {
  console.error(`[start] ${err.message}`);
  await cleanup();
  process.exit(1);
});

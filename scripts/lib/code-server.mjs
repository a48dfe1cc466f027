// Starts a fresh code-server (VS Code 1.100 in the browser) for tests and `npm start`: its own config,
// data and extensions folders under a temp dir, its own process group (so stopping it also stops the
// extension host and watchers), and a readiness wait on /healthz.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { codeServerEntry, installCodeServer } from '../install-code-server.mjs';

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const quietSettings = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'telemetry.telemetryLevel': 'off',
  'git.enabled': false,
  'git.openRepositoryInParentFolders': 'never',
  'security.workspace.trust.enabled': true,
  'window.restoreWindows': 'none',
  'chat.commandCenter.enabled': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'chat.disableAIFeatures': true,
  'files.hotExit': 'off',
};

async function waitHealthy(url, proc, deadlineMs, logFile) {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`code-server exited with ${proc.exitCode}; log: ${logFile}`);
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 150)); // polling a starting process's port: there is no event to wait on
  }
  throw new Error(`code-server did not become healthy within ${deadlineMs} ms; log: ${logFile}`);
}

/**
 * @param {{ workspace?: string, trust?: boolean, settings?: object, env?: object, port?: number, extensionsDir?: string, label?: string }} opts
 */
export async function startCodeServer(opts = {}) {
  installCodeServer();
  const base = fs.mkdtempSync(path.join(os.tmpdir(), `kd-${opts.label ?? 'vscode'}-`));
  const dirs = {
    base,
    config: path.join(base, 'config'),
    data: path.join(base, 'data'),
    userData: path.join(base, 'user-data'),
    extensions: opts.extensionsDir ?? path.join(base, 'extensions'),
  };
  for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });
  const port = opts.port || (await freePort());
  const configFile = path.join(dirs.config, 'config.yaml');
  fs.writeFileSync(configFile, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  const userSettingsDir = path.join(dirs.userData, 'User');
  fs.mkdirSync(userSettingsDir, { recursive: true });
  fs.writeFileSync(path.join(userSettingsDir, 'settings.json'), JSON.stringify({ ...quietSettings, ...(opts.settings ?? {}) }, null, 2));
  const logFile = path.join(base, 'code-server.log');
  const out = fs.openSync(logFile, 'a');
  const args = [
    codeServerEntry,
    '--config', configFile,
    '--user-data-dir', dirs.userData,
    '--extensions-dir', dirs.extensions,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    ...(opts.trust === false ? [] : ['--disable-workspace-trust']),
    ...(opts.extraArgs ?? []),
  ];
  if (opts.workspace) args.push(opts.workspace);
  const proc = spawn(process.execPath, args, {
    detached: true, // own process group: kill(-pid) stops the extension host too
    stdio: ['ignore', out, out],
    env: {
      ...process.env,
      XDG_CONFIG_HOME: dirs.config,
      XDG_DATA_HOME: dirs.data,
      XDG_CACHE_HOME: path.join(base, 'cache'),
      ...(opts.env ?? {}),
    },
  });
  fs.closeSync(out);
  const url = `http://127.0.0.1:${port}`;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    try { process.kill(-proc.pid, 'SIGTERM'); } catch { /* gone */ }
    const exited = await Promise.race([
      new Promise((r) => (proc.exitCode !== null ? r(true) : proc.once('exit', () => r(true)))),
      new Promise((r) => setTimeout(() => r(false), 5000).unref()),
    ]);
    try { process.kill(-proc.pid, 'SIGKILL'); } catch { /* gone */ }
    return exited;
  };
  try {
    await waitHealthy(url, proc, 60_000, logFile);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, port, proc, dirs, logFile, stop };
}

/** The workbench URL that loads an extension from a folder and (optionally) runs its tests in the host. */
export function workbenchUrl(server, { folder, extensionDevelopmentPath, extensionTestsPath }) {
  const host = `127.0.0.1:${server.port}`;
  const payload = [];
  if (extensionDevelopmentPath) payload.push(['extensionDevelopmentPath', `vscode-remote://${host}${extensionDevelopmentPath}`]);
  if (extensionTestsPath) payload.push(['extensionTestsPath', `vscode-remote://${host}${extensionTestsPath}`]);
  const q = new URLSearchParams();
  if (folder) q.set('folder', folder);
  if (payload.length) q.set('payload', JSON.stringify(payload));
  return `${server.url}/?${q.toString()}`;
}

export const chromiumArgs = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
];

export async function launchBrowser(label = 'browser') {
  const { chromium } = await import('playwright-core');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), `kd-${label}-`));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.KD_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: chromiumArgs,
    viewport: { width: 1400, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

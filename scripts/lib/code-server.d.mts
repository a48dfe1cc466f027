import type { BrowserContext } from 'playwright-core';
import type { ChildProcess } from 'node:child_process';

export interface CodeServer {
  url: string;
  port: number;
  proc: ChildProcess;
  dirs: { base: string; config: string; data: string; userData: string; extensions: string };
  logFile: string;
  stop(): Promise<boolean | undefined>;
}
export function freePort(): Promise<number>;
export function startCodeServer(opts?: {
  workspace?: string;
  trust?: boolean;
  settings?: Record<string, unknown>;
  env?: Record<string, string>;
  port?: number;
  extensionsDir?: string;
  label?: string;
  extraArgs?: string[];
}): Promise<CodeServer>;
export function workbenchUrl(server: CodeServer, o: { folder?: string; extensionDevelopmentPath?: string; extensionTestsPath?: string }): string;
export const chromiumArgs: string[];
export function launchBrowser(label?: string): Promise<{ context: BrowserContext; close(): Promise<void> }>;

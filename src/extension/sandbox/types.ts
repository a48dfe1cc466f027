// The contract between the sandbox manager and dist/lazy-sandbox.js (kept apart so the manager never
// imports the emulator, even for types).
export interface StartOptions {
  /** Directories whose deploy files (and their manifests) seed the sandbox (not recursive). */
  seed: string[];
  port?: number;
  /** Clock speed factor (a ten-minute canary in thirty seconds at 20). */
  speed?: number;
}

/** The part of the sandbox handle the extension uses; `store`, `admin` and `clock` are for tests. */
export interface SandboxLike {
  url: string;
  kubeconfig: string;
  admin: unknown;
  store: unknown;
  clock: unknown;
  /** Namespaces seeded from the workspace's deploy files, and what could not be seeded. */
  seeded: { namespaces: string[]; problems: string[] };
  close(): Promise<void>;
}

export interface LazySandboxModule {
  start(options: StartOptions): Promise<SandboxLike>;
}

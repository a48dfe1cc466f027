// A minimal event emitter with the VS Code `Event` shape, so pure modules stay free of `vscode` and
// run in plain Node unit tests.
export interface Disposable { dispose(): void }
export type Event<T> = (listener: (e: T) => void) => Disposable;

export class Emitter<T> {
  private listeners = new Set<(e: T) => void>();
  readonly event: Event<T> = (listener) => {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch (err) {
        // A broken listener must not starve the others; surface it without throwing into the emitter.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
  dispose(): void {
    this.listeners.clear();
  }
}

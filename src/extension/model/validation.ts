// Pure input checks shared by the prompts and the unit tests.

/** The typed confirmation of a protected environment: exactly its name. */
export function confirmationError(expected: string, typed: string): string | undefined {
  return typed === expected ? undefined : `Type "${expected}" exactly to confirm`;
}

export function validateImage(v: string): string | undefined {
  const s = v.trim();
  if (!s) return 'Enter an image reference, e.g. registry.example.com/app:1.2.3';
  if (/\s/.test(s)) return 'An image reference has no spaces';
  if (!/^[a-z0-9][a-z0-9._\-/:@]*$/i.test(s)) return 'Not an image reference: use registry/name:tag or name@sha256:…';
  return undefined;
}

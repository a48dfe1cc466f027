// Seeded pseudo-random numbers so a simulation is reproducible from its seed (traffic, pod names,
// latencies). mulberry32: tiny, fast and good enough for simulation (not for anything secret).

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  /** Standard normal deviate (Box-Muller). */
  normal(): number;
  /** `n` characters from the Kubernetes name-suffix alphabet (no vowels, no confusable digits). */
  suffix(n: number): string;
  /** A derived generator with its own stream, so adding draws in one place does not shift another. */
  fork(label: string): Random;
}

/** The alphabet Kubernetes uses for generated name suffixes (k8s.io/apimachinery util/rand). */
export const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** FNV-1a 32-bit hash of a string. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function createRandom(seed: string | number): Random {
  let state = typeof seed === 'number' ? seed >>> 0 : fnv1a32(seed);
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const rnd: Random = {
    next,
    int: (n) => Math.floor(next() * n),
    normal: () => {
      const u = 1 - next();
      const v = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    suffix: (n) => {
      let s = '';
      for (let i = 0; i < n; i++) s += NAME_ALPHABET[Math.floor(next() * NAME_ALPHABET.length)];
      return s;
    },
    fork: (label) => createRandom(`${typeof seed === 'number' ? seed : seed}/${label}`),
  };
  return rnd;
}

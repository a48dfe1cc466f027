// "Did you mean": the closest candidate by edit distance, ignoring case, when it is close enough to be
// a typo rather than a different word.

export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  const m = a.length;
  const n = b.length;
  if (!m) return n;
  if (!n) return m;
  let prev = new Array<number>(n + 1);
  let cur = new Array<number>(n + 1);
  for (let j = 0; j <= n; j++) prev[j] = j;
  for (let i = 1; i <= m; i++) {
    cur[0] = i;
    for (let j = 1; j <= n; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      // Transposition (Damerau): "sucessRate" vs "successRate" is one step, "mdoe" vs "mode" too.
    }
    [prev, cur] = [cur, prev];
  }
  return prev[n];
}

export function closest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const lc = c.toLowerCase();
    let d = editDistance(w, lc);
    if (lc === w) d = 0;
    else if (sameLetters(w, lc)) d = Math.min(d, 1);
    else if (Math.min(w.length, lc.length) >= 3 && (w.startsWith(lc) || lc.startsWith(w))) d = Math.min(d, 1);
    if (d < bestScore) {
      bestScore = d;
      best = c;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(1, Math.floor(Math.max(word.length, best.length) / 3));
  return bestScore <= limit ? best : undefined;
}

function sameLetters(a: string, b: string): boolean {
  return a.length === b.length && a.length > 2 && [...a].sort().join('') === [...b].sort().join('');
}

/** `a`, `a` or `b`, `a`, `b` or `c`. */
export function orList(items: readonly unknown[]): string {
  const q = items.map((i) => `\`${String(i)}\``);
  if (q.length <= 1) return q.join('');
  return `${q.slice(0, -1).join(', ')} or ${q[q.length - 1]}`;
}

// The pod log provider behind `GET .../pods/{name}/log`: the kubelet's per-container lines (start-up,
// request log sample, crash panic, test-job output), honouring previous, tailLines, sinceSeconds,
// timestamps and follow like the kubelet does.
import { ApiError } from '../api/errors';
import type { PodLogRequest, PodLogResult } from '../api/server';
import type { Clock } from './clock';
import type { Kubelet, LogLine } from './kubelet';

/** How often a follow stream looks for new lines (wall time). */
const FOLLOW_POLL_MS = 250;

function format(lines: LogLine[], timestamps: boolean): string {
  return lines.map((l) => `${timestamps ? `${new Date(l.t).toISOString().replace(/Z$/, '000000Z')} ` : ''}${l.text}\n`).join('');
}

export function podLogs(kubelet: Kubelet, clock: Clock, req: PodLogRequest): PodLogResult {
  const name = req.pod.metadata.name!;
  const read = () => {
    const got = kubelet.logs(req.namespace, name, req.container, req.previous);
    if ('error' in got) throw new ApiError(got.code, 'BadRequest', got.error);
    return got.lines;
  };
  let lines = read();
  if (req.sinceSeconds !== undefined && Number.isFinite(req.sinceSeconds)) {
    const from = clock.now() - req.sinceSeconds * 1000;
    lines = lines.filter((l) => l.t >= from);
  }
  if (req.tailLines !== undefined && Number.isFinite(req.tailLines) && req.tailLines >= 0) lines = req.tailLines === 0 ? [] : lines.slice(-req.tailLines);
  const first = format(lines, req.timestamps);
  if (!req.follow || req.previous) return first;
  // Follow: what is there now, then new lines as the pod produces them, until the client goes away
  // or the pod is gone.
  let seen = new Set(read());
  return (async function* follow() {
    yield first;
    while (!req.signal.aborted) {
      await new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS));
      if (!kubelet.record(req.namespace, name)) return;
      let now: LogLine[];
      try {
        now = read();
      } catch {
        return;
      }
      const fresh = now.filter((l) => !seen.has(l));
      seen = new Set(now);
      if (fresh.length) yield format(fresh, req.timestamps);
    }
  })();
}

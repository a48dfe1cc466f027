// The pod log provider behind `GET .../pods/{name}/log`: the kubelet's per-container lines (start-up,
// request log sample, crash panic, test-job output), honouring previous, tailLines, sinceSeconds
// and timestamps like the kubelet does.
import { ApiError } from '../api/errors';
import type { PodLogRequest } from '../api/server';
import type { Clock } from './clock';
import type { Kubelet } from './kubelet';

export function podLogs(kubelet: Kubelet, clock: Clock, req: PodLogRequest): string {
  const name = req.pod.metadata.name!;
  const got = kubelet.logs(req.namespace, name, req.container, req.previous);
  if ('error' in got) throw new ApiError(got.code, 'BadRequest', got.error);
  let lines = got.lines;
  if (req.sinceSeconds !== undefined && Number.isFinite(req.sinceSeconds)) {
    const from = clock.now() - req.sinceSeconds * 1000;
    lines = lines.filter((l) => l.t >= from);
  }
  if (req.tailLines !== undefined && Number.isFinite(req.tailLines) && req.tailLines >= 0) lines = req.tailLines === 0 ? [] : lines.slice(-req.tailLines);
  return lines.map((l) => `${req.timestamps ? `${new Date(l.t).toISOString().replace(/Z$/, '000000Z')} ` : ''}${l.text}\n`).join('');
}

// Writes core/v1 Events like kube-controller-manager and the kubelet do (`kubectl describe` and
// `kubectl get events` read them). Repeats of the same (object, reason, message) are aggregated into
// one Event with a rising count, as the real event recorder does.
import type { KubeObject, Store } from '../api/store';
import type { Clock } from './clock';
import { rfc3339 } from './k8s';

export interface EventSource {
  component: string;
  host?: string;
}

export class EventRecorder {
  private readonly seen = new Map<string, string>();
  private seq = 0;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  record(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string, source: EventSource): void {
    const ns = obj.metadata.namespace ?? 'default';
    const key = `${obj.metadata.uid}\0${reason}\0${message}`;
    const now = rfc3339(this.clock.now());
    const existing = this.seen.get(key);
    if (existing && this.store.tryGet('events', ns, existing)) {
      try {
        this.store.modify('events', ns, existing, (e) => {
          e.count = ((e.count as number | undefined) ?? 1) + 1;
          e.lastTimestamp = now;
        });
        return;
      } catch {
        // Fall through and write a fresh event.
      }
    }
    // Event names are `<object>.<16 hex>` in real clusters; a counter keeps them unique and ordered.
    const name = `${obj.metadata.name}.${(this.clock.now() * 1000 + (this.seq++ % 1000)).toString(16).padStart(16, '0').slice(-16)}`;
    const event: KubeObject = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: ns },
      involvedObject: {
        kind: obj.kind,
        namespace: obj.metadata.namespace,
        name: obj.metadata.name,
        uid: obj.metadata.uid,
        apiVersion: obj.apiVersion,
        resourceVersion: obj.metadata.resourceVersion,
      },
      reason,
      message,
      source: source.host ? { component: source.component, host: source.host } : { component: source.component },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      type,
      eventTime: null,
      reportingComponent: source.component,
      reportingInstance: source.host ?? '',
    };
    try {
      this.store.create('events', event);
      this.seen.set(key, name);
      if (this.seen.size > 50_000) this.seen.clear();
    } catch {
      // The namespace may be going away; events are best-effort, as in Kubernetes.
    }
  }
}

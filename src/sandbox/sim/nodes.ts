// The sandbox's Node objects: the three nodes the ReplicaSet controller and the kubelet place pods on
// (`spec.nodeName`, host IPs 172.18.0.x, pod IPs 10.244.<n>.x), so `kubectl get nodes` (often a
// user's first command) and `describe node` show a small, healthy cluster. Static: Ready, with the
// kubelet version the API server reports.
import type { KubeObject, Store } from '../api/store';
import { SERVER_VERSION } from '../api/discovery';
import { NODES } from './replicaset';
import { rfc3339 } from './k8s';

/** The kubelets run the API server's version, as on a freshly made cluster. */
const KUBELET_VERSION = SERVER_VERSION.gitVersion;

/** A node's InternalIP (also the hostIP of its pods): 172.18.0.2 for the first node. */
export function hostIPOf(node: string): string {
  return `172.18.0.${2 + Math.max(0, NODES.indexOf(node))}`;
}

export function nodeObject(name: string, index: number, now: number): KubeObject {
  const at = rfc3339(now);
  const cond = (type: string, status: string, reason: string, message: string) => ({ type, status, reason, message, lastHeartbeatTime: at, lastTransitionTime: at });
  const resources = { cpu: '8', memory: '16318844Ki', pods: '110', 'ephemeral-storage': '102626232Ki' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', 'beta.kubernetes.io/os': 'linux', 'beta.kubernetes.io/arch': 'amd64' },
    },
    spec: { podCIDR: `10.244.${index + 1}.0/24`, podCIDRs: [`10.244.${index + 1}.0/24`], providerID: `sandbox://${name}` },
    status: {
      capacity: resources,
      allocatable: resources,
      conditions: [
        cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
      ],
      addresses: [
        { type: 'InternalIP', address: hostIPOf(name) },
        { type: 'Hostname', address: name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: '',
        systemUUID: '',
        bootID: '',
        kernelVersion: '6.1.0-sandbox',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        containerRuntimeVersion: 'containerd://1.7.24',
        kubeletVersion: KUBELET_VERSION,
        kubeProxyVersion: KUBELET_VERSION,
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    },
  };
}

/** The node's heartbeat Lease in kube-node-lease (what `describe node` shows as Lease). */
export function nodeLease(name: string, now: number): KubeObject {
  const at = new Date(now).toISOString().replace('Z', '000Z');
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace: 'kube-node-lease' },
    spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: at },
  };
}

/** Creates the Node objects (and their Leases) that are missing; they keep their status: nothing else writes it. */
export function ensureNodes(store: Store, now: number): void {
  NODES.forEach((name, i) => {
    if (!store.tryGet('nodes', undefined, name)) store.create('nodes', nodeObject(name, i, now), { keepStatus: true });
    if (store.tryGet('namespaces', undefined, 'kube-node-lease') && !store.tryGet('leases.coordination.k8s.io', 'kube-node-lease', name)) {
      store.create('leases.coordination.k8s.io', nodeLease(name, now));
    }
  });
}

// The deploy file written by "Create Deploy File": a canary on the sandbox context that validates and
// runs as is, so a new user can press "Start rollout" straight away.
export function deployFileTemplate(name: string): string {
  return `# yaml-language-server: $schema=https://kube-delivery.dev/schemas/pipeline.schema.json
apiVersion: kube-delivery.dev/v1alpha1
kind: Pipeline
metadata:
  name: ${name}
spec:
  app: { deployment: ${name}, container: web, service: ${name}, port: 80 }
  image: registry.example.com/${name}:1.0.0
  environments:
    - { name: staging, context: sandbox, namespace: ${name}-staging }
    - { name: production, context: sandbox, namespace: ${name}, protected: true, after: staging }
  strategy:
    type: canary
    traffic: { router: replicas }
    baseline: true
    stages:
      - weights: { canary: 10, baseline: 10, current: 80 }
        mode: auto
        analysis: { successRate: 99, latencyP50Ms: 250, schedule: "*/1 * * * *", checks: 3 }
      - weights: { canary: 50, baseline: 10, current: 40 }
        mode: manual
`;
}

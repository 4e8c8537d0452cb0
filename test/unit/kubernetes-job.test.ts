import { describe, expect, it } from 'vitest';
import { databaseJob } from '../support/database-job';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests are plain JSON
const podOf = (job: any) => job.spec.template.spec;

describe('the Kubernetes Job of a Pipeline, as Kratix builds it', () => {
  it('runs in the pipeline namespace under the rbac ServiceAccount, with Kratix labels and job options', async () => {
    const { id, namespace, job } = await databaseJob();
    expect(id).toBe('database-resource-configure-configure');
    expect(namespace).toBe('pipelines');
    expect(job.metadata).toMatchObject({
      namespace: 'pipelines',
      labels: {
        'kratix.io/promise-name': 'database',
        'kratix.io/workflow-type': 'resource',
        'kratix.io/workflow-action': 'configure',
        'kratix.io/pipeline-name': 'configure',
        'kratix.io/resource-name': 'orders',
        'app.kubernetes.io/managed-by': 'Kratix',
        team: 'data',
      },
    });
    expect(job.metadata.name).toMatch(/^kratix-database-orders-configure-[0-9a-f]{5}$/);
    expect((job.spec as { backoffLimit: number }).backoffLimit).toBe(2);
    const pod = podOf(job);
    expect(pod.serviceAccountName).toBe('database-pipeline');
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(pod.imagePullSecrets).toEqual([{ name: 'registry' }]);
  });

  it('has a reader init container, then one init container per Pipeline container, then the collector', async () => {
    const pod = podOf((await databaseJob()).job);
    expect(pod.initContainers.map((c: { name: string }) => c.name)).toEqual(['reader', 'render']);
    expect(pod.containers.map((c: { name: string }) => c.name)).toEqual(['collect']);
    const render = pod.initContainers[1];
    expect(render.image).toBe('ghcr.io/promiseflow/examples/database:v1');
    expect(render.command).toEqual(['sh', '-c']);
    expect(render.args).toEqual(['echo render']);
    expect(render.imagePullPolicy).toBe('IfNotPresent');
    expect(render.volumeMounts.slice(0, 3)).toEqual([
      { name: 'shared-input', mountPath: '/kratix/input', readOnly: true },
      { name: 'shared-output', mountPath: '/kratix/output' },
      { name: 'shared-metadata', mountPath: '/kratix/metadata' },
    ]);
    // KRATIX_* first, the container's own after (so its own wins, as in Kratix); valueFrom is the kubelet's.
    const names = render.env.map((e: { name: string }) => e.name);
    expect(names.slice(0, 2)).toEqual(['KRATIX_WORKFLOW_ACTION', 'KRATIX_WORKFLOW_TYPE']);
    expect(render.env.at(-2)).toEqual({
      name: 'PASSWORD',
      valueFrom: { secretKeyRef: { name: 'database-credentials', key: 'password' } },
    });
    expect(render.env).toContainEqual({ name: 'KRATIX_OBJECT_NAME', value: 'orders' });
    expect(pod.volumes.map((v: { name: string }) => v.name)).toEqual([
      'shared-input',
      'shared-output',
      'shared-metadata',
      'promiseflow-input',
      'promise-scheduling',
      'scratch',
      'credentials',
    ]);
  });

  it('turns rbac.permissions into a Role for the pipeline namespace and a ClusterRole for "*"', async () => {
    const { objects } = await databaseJob();
    expect(objects.map((o) => `${o.kind}/${o.metadata.name as string}`)).toEqual([
      expect.stringMatching(/^ConfigMap\/kratix-database-orders-configure-[0-9a-f]{5}-input$/),
      'ServiceAccount/database-pipeline',
      'ConfigMap/destination-selectors-database',
      'Role/database-resource-configure-configure',
      'RoleBinding/database-resource-configure-configure',
      'ClusterRole/database-resource-configure-configure-kratix-all-namespaces',
      'ClusterRoleBinding/database-resource-configure-configure-kratix-all-namespaces',
    ]);
    const role = objects.find((o) => o.kind === 'Role') as unknown as { rules: unknown[] };
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] },
    ]);
  });
});

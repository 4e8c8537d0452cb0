import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeCluster, type KubeCluster } from '../../tools/servers/kube-cluster';
import { KubeConfig } from '@kubernetes/client-node';
import { buildPipelineJob } from '../../src/pipelines/kubernetes-job';
import { KubernetesJobPipelineRunner } from '../../src/pipelines/kubernetes-job-runner';
import { databaseJob, databaseRun } from '../support/database-job';

const exec = promisify(execFile);

describe('a Pipeline Job on a real kube-apiserver (no kubelet: nothing runs)', () => {
  let cluster: KubeCluster;
  beforeAll(async () => {
    cluster = await startKubeCluster({ dir: mkdtempSync(join(tmpdir(), 'pf-job-')) });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('is accepted with its ConfigMaps, ServiceAccount and RBAC', async () => {
    const { namespace, job, objects } = await databaseJob();
    const kubectl = (args: string[], input?: string) => {
      const run = exec(cluster.kubectl, args, { env: cluster.env });
      if (input !== undefined) run.child.stdin?.end(input);
      return run;
    };
    await kubectl(['create', 'namespace', namespace]);
    const list = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [...objects, job] });
    const { stdout } = await kubectl(['create', '-f', '-', '-o', 'name'], list);
    expect(stdout.trim().split('\n')).toContain(`job.batch/${job.metadata.name as string}`);
    const stored = JSON.parse(
      (await kubectl(['-n', namespace, 'get', 'job', job.metadata.name as string, '-o', 'json']))
        .stdout,
    ) as { spec: { template: { spec: { initContainers: { name: string }[] } } } };
    expect(stored.spec.template.spec.initContainers.map((c) => c.name)).toEqual([
      'reader',
      'render',
    ]);
  });
  it('is run by the Job runner: applied, followed, and its failed container named', async () => {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(cluster.kubeconfig);
    const runner = new KubernetesJobPipelineRunner({ kubeConfig, timeoutMs: 3_000, pollMs: 200 });
    const { run } = await databaseRun(mkdtempSync(join(tmpdir(), 'pf-job-run-')));
    // No controller-manager here: the Job gets no Pod, and the runner says so when it gives up.
    await expect(runner.run(run)).rejects.toThrow(
      /did not finish within 3s: no Pod yet \(is the Job controller running\?\)/,
    );
    const { job } = buildPipelineJob(run, { helperImage: 'docker.io/library/busybox:1.36' });
    const name = job.metadata.name as string;
    const kubectl = (args: string[], input?: string) => {
      const r = exec(cluster.kubectl, args, { env: cluster.env });
      if (input !== undefined) r.child.stdin?.end(input);
      return r;
    };
    expect((await kubectl(['-n', 'default', 'get', 'job', name, '-o', 'name'])).stdout.trim()).toBe(
      `job.batch/${name}`,
    );
    expect(
      (
        await kubectl([
          '-n',
          'default',
          'get',
          'configmap',
          `${name}-input`,
          '-o',
          'jsonpath={.data.object\\.yaml}',
        ])
      ).stdout,
    ).toContain('name: orders');

    // Play the node: the Job's Pod, whose pipeline container `render` exited with 3.
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `${name}-abcde`, namespace: 'default', labels: { 'job-name': name } },
      spec: { containers: [{ name: 'collect', image: 'docker.io/library/busybox:1.36' }] },
    };
    await kubectl(['create', '-f', '-'], JSON.stringify(pod));
    const status = {
      status: {
        phase: 'Failed',
        initContainerStatuses: [
          {
            name: 'render',
            image: 'busybox',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode: 3, reason: 'Error' } },
          },
        ],
      },
    };
    await kubectl([
      '-n',
      'default',
      'patch',
      'pod',
      pod.metadata.name,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify(status),
    ]);
    // Run again (a retried activity): the same Job is found, and its failure reported.
    await expect(runner.run(run)).rejects.toThrow(
      new RegExp(`container "render" failed: Job default/${name}: exited with code 3 \\(Error\\)`),
    );
  });
});

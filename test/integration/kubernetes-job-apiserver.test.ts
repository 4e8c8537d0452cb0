import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeCluster, type KubeCluster } from '../../tools/servers/kube-cluster';
import { databaseJob } from '../support/database-job';

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
});

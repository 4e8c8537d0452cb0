import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubePlatform } from '../../support/kube-platform';
import { promiseAvailableAt, startKubeScenario } from '../../support/kube-scenario';
import { logLinesWithMessage } from '../../support/state-repo';
import type { StateRepo } from '../../support/state-repo';

/** Scheduling (Kratix docs: Scheduling Promises) with kubectl: waiting work, its log line, and `kubectl label`. */

const NO_DESTINATIONS = 'no Destinations can be selected for scheduling';

describe('Scheduling Promises on a cluster: the elastic-cloud walk-through (Kratix docs: Scheduling Promises)', () => {
  let platform: KubePlatform;
  let repo: StateRepo;
  let render: (file: string) => string;
  const example = (f: string) => `examples/elastic-cloud/${f}`;
  const resourceDir = 'worker-1/resources/default/elastic-cloud/example/instance-configure/5058f/';
  const unschedulable = () =>
    logLinesWithMessage(platform.workerLog, NO_DESTINATIONS).map((l) => l.destinationSelectors);

  beforeAll(async () => {
    ({ platform, repo, render } = await startKubeScenario('sched', example('platform.yaml')));
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('writes nothing to an unlabelled worker-1 and logs why, with the Promise selectors', async () => {
    await platform.kubectlOk(['apply', '-f', render(example('promise.yaml'))]);
    await promiseAvailableAt(platform, 'elastic-cloud', 'v0.1.0');
    expect(await repo.workloads('worker-1/')).toEqual([]);
    expect(JSON.stringify(unschedulable()[0])).toBe(
      '{"promise":[{"target":{"matchLabels":{"environment":"dev"}}}]}',
    );
  });

  it('writes the dependencies once `kubectl label destination worker-1 environment=dev`, with no other action', async () => {
    await platform.kubectlOk(['label', 'destination', 'worker-1', 'environment=dev']);
    const files = await platform.eventually('the dependencies on worker-1', async () => {
      const f = await repo.workloads('worker-1/');
      return f.length > 0 ? f : false;
    });
    expect(files).toEqual([
      'worker-1/dependencies/elastic-cloud/5058f/static/elastic-cloud-dependencies.yaml',
    ]);
    expect(await repo.read(files[0]!)).toMatch(
      /kind: Namespace\s+metadata:\s+name: elastic-system/,
    );
  });

  it('keeps a request that asks for pvCapacity=large waiting, logging both selectors', async () => {
    const before = unschedulable().length;
    await platform.kubectlOk(['apply', '-f', render(example('resource-request.yaml'))]);
    await platform.eventually('the request to be reconciled', async () => {
      const r = await platform.kubectl([
        'get',
        'elasticclouds',
        'example',
        '-o',
        'jsonpath={.status.conditions[?(@.type=="Reconciled")].status}',
      ]);
      return r.stdout === 'True';
    });
    expect(await repo.workloads('worker-1/resources/')).toEqual([]);
    const lines = unschedulable();
    expect(lines.length).toBeGreaterThan(before);
    expect(JSON.stringify(lines.at(-1))).toBe(
      '{"promise":[{"target":{"matchLabels":{"environment":"dev"}}}],"resource":[{"target":{"matchLabels":{"pvCapacity":"large"}}}]}',
    );
    expect(
      await platform.kubectlOk([
        'get',
        'works',
        '-o',
        'jsonpath={.items[?(@.metadata.name=="elastic-cloud-example-instance-configure")].status.conditions[?(@.type=="Scheduled")].message}',
      ]),
    ).toBe(NO_DESTINATIONS);
  });

  it('schedules the waiting request once `kubectl label destination worker-1 pvCapacity=large`', async () => {
    await platform.kubectlOk(['label', 'destination', 'worker-1', 'pvCapacity=large']);
    const files = await platform.eventually('the request on worker-1', async () => {
      const f = await repo.workloads('worker-1/resources/');
      return f.length === 3 ? f : false;
    });
    expect(files).toEqual([
      `${resourceDir}beats.yaml`,
      `${resourceDir}elasticsearch.yaml`,
      `${resourceDir}kibana.yaml`,
    ]);
    expect(await platform.kubectlOk(['get', 'workplacements', '-A', '--show-labels'])).toMatch(
      /elastic-cloud-example-instance-configure\.worker-1\s+worker-1\s/,
    );
  });
});

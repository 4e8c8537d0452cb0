import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config';
import { renderExample, startTestPlatform } from '../support/platform';
import type { TestPlatform } from '../support/platform';
import { applyWait, cliOk } from '../support/cli';
import { createStateRepo, groupId5, logLinesWithMessage } from '../support/state-repo';
import type { StateRepo } from '../support/state-repo';

/**
 * Scheduling (behaviour §5, Kratix docs: Scheduling Promises) end to end: the `promiseflow` CLI against the real dev
 * server, a real worker and a real Git state store, with the YAML of examples/.
 */

const NO_DESTINATIONS = 'no Destinations can be selected for scheduling';

/** Writes an example file with its `${STATE_STORE_URL}` filled in; returns its path. */
function rendered(platform: TestPlatform, repo: StateRepo, file: string): string {
  const out = path.join(platform.dir, file.replace(/\//g, '_'));
  fs.writeFileSync(out, renderExample(file, { STATE_STORE_URL: repo.url }));
  return out;
}

/** A platform with its own Git state store and the example's Destinations registered. */
async function startSchedulingPlatform(
  name: string,
  platformYaml: string,
): Promise<{ platform: TestPlatform; repo: StateRepo }> {
  const platform = await startTestPlatform(name);
  const repo = await createStateRepo(path.join(platform.dir, 'state.git'));
  await cliOk(platform, ['apply', '-f', rendered(platform, repo, platformYaml), '--wait']);
  return { platform, repo };
}

function unschedulableLines(platform: TestPlatform): unknown[] {
  return logLinesWithMessage(platform.logFile, NO_DESTINATIONS).map((l) => l.destinationSelectors);
}

describe('Scheduling Promises: the elastic-cloud walk-through (Kratix docs: Scheduling Promises)', () => {
  let platform: TestPlatform;
  let repo: StateRepo;
  const example = (f: string) => `examples/elastic-cloud/${f}`;
  const resourceDir = 'worker-1/resources/default/elastic-cloud/example/instance-configure/5058f/';

  beforeAll(async () => {
    ({ platform, repo } = await startSchedulingPlatform('sched-eck', example('platform.yaml')));
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('writes nothing to an unlabelled worker-1 and logs why, with the Promise selectors', async () => {
    const out = await applyWait(platform, rendered(platform, repo, example('promise.yaml')));
    expect(out).toContain('promise/elastic-cloud created');

    expect(await repo.workloads('worker-1/')).toEqual([]);
    // kubectl logs ... | grep --max-count 1 "no Destinations can be selected for scheduling"
    const [first] = unschedulableLines(platform);
    expect(JSON.stringify(first)).toBe(
      '{"promise":[{"target":{"matchLabels":{"environment":"dev"}}}]}',
    );
  });

  it('writes the dependencies to worker-1 once it is labelled environment=dev, with no other action', async () => {
    await cliOk(platform, ['label', 'destination', 'worker-1', 'environment=dev', '--wait']);

    const files = await repo.workloads('worker-1/');
    expect(files).toEqual([
      'worker-1/dependencies/elastic-cloud/5058f/static/elastic-cloud-dependencies.yaml',
    ]);
    const deps = await repo.read(files[0]!);
    expect(deps).toMatch(/kind: Namespace\s+metadata:\s+name: elastic-system/);
    expect(deps).toContain('name: elastic-operator');
    const destinations = await cliOk(platform, ['get', 'destinations', '--show-labels']);
    expect(destinations).toMatch(/worker-1\s.*environment=dev/);
  });

  it('does not schedule a request that collects data until a Destination has pvCapacity=large, logging both selectors', async () => {
    const before = unschedulableLines(platform).length;
    const out = await applyWait(
      platform,
      rendered(platform, repo, example('resource-request.yaml')),
    );
    expect(out).toContain('elasticcloud/default/example created');

    expect(await repo.workloads('worker-1/resources/')).toEqual([]);
    // kubectl logs ... | tac | grep --max-count 1 "no Destinations can be selected for scheduling"
    const lines = unschedulableLines(platform);
    expect(lines.length).toBeGreaterThan(before);
    expect(JSON.stringify(lines.at(-1))).toBe(
      '{"promise":[{"target":{"matchLabels":{"environment":"dev"}}}],"resource":[{"target":{"matchLabels":{"pvCapacity":"large"}}}]}',
    );
  });

  it('schedules the waiting request to worker-1 once it is labelled pvCapacity=large, with no other action', async () => {
    await cliOk(platform, ['label', 'destination', 'worker-1', 'pvCapacity=large', '--wait']);

    expect(await repo.workloads('worker-1/resources/')).toEqual([
      `${resourceDir}beats.yaml`,
      `${resourceDir}elasticsearch.yaml`,
      `${resourceDir}kibana.yaml`,
    ]);
    expect(await repo.read(`${resourceDir}elasticsearch.yaml`)).toMatch(
      /kind: Elasticsearch\s+metadata:\s+name: example/,
    );
    expect(await repo.read(`${resourceDir}beats.yaml`)).toContain('type: filebeat');
  });
});

describe('Scheduling rules (behaviour §5)', () => {
  let platform: TestPlatform;
  let repo: StateRepo;
  const example = (f: string) => `examples/scheduling-rules/${f}`;
  const shopDir = (destination: string, directory = '.') =>
    `${destination}/resources/default/webapp/shop/webapp-configure/${groupId5(directory)}/`;
  /** Destinations holding the root output (deployment.yaml) of the `shop` instance. */
  const shopRootOn = async () =>
    (await repo.workloads())
      .filter((f) =>
        f.endsWith('/resources/default/webapp/shop/webapp-configure/5058f/deployment.yaml'),
      )
      .map((f) => f.split('/')[0]!);

  beforeAll(async () => {
    ({ platform, repo } = await startSchedulingPlatform('sched-rules', example('platform.yaml')));
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('sends dependencies of a Promise without selectors to every Destination except a strictMatchLabels one', async () => {
    await applyWait(platform, path.join(PROJECT_ROOT, example('shared-config-promise.yaml')));
    const file = 'dependencies/shared-config/5058f/static/shared-config-dependencies.yaml';
    for (const d of ['dev-1', 'dev-2', 'prod-1'])
      expect(await repo.read(`${d}/${file}`), d).toContain('platform-shared-config');
    expect(await repo.workloads('strict-1/')).toEqual([]);
  });

  it('sends dependencies to EVERY Destination matching the Promise selectors, a strict one included', async () => {
    await applyWait(platform, path.join(PROJECT_ROOT, example('webapp-promise.yaml')));
    const file = 'dependencies/webapp/5058f/static/webapp-dependencies.yaml';
    for (const d of ['dev-1', 'dev-2', 'strict-1'])
      expect(await repo.read(`${d}/${file}`), d).toContain('name: webapp-system');
    expect(await repo.read(`prod-1/${file}`)).toBeUndefined();
  });

  it('adds workflow selectors to the Promise ones but never lets them override a Promise key: one dev Destination gets the instance', async () => {
    await applyWait(platform, path.join(PROJECT_ROOT, example('webapp.yaml')));

    // The pipeline asked for environment=prod (ignored) and tier=app (added): exactly one
    // Destination with environment=dev AND tier=app, never prod-1 nor strict-1 (no tier).
    const on = await shopRootOn();
    expect(on).toHaveLength(1);
    expect(['dev-1', 'dev-2']).toContain(on[0]);
    expect(await repo.read(`${shopDir(on[0]!)}deployment.yaml`)).toContain('image: nginx:1.25');
    expect(await repo.workloads('prod-1/resources/')).toEqual([]);
    expect(await repo.workloads('strict-1/resources/')).toEqual([]);

    // The `monitoring/` directory has its own selectors (role=monitoring): no Destination yet.
    expect((await repo.workloads()).filter((f) => f.includes('servicemonitor'))).toEqual([]);
    expect(JSON.stringify(unschedulableLines(platform).at(-1))).toBe(
      '{"promise":[{"target":{"matchLabels":{"environment":"dev"}}}],"resource":[{"target":{"matchLabels":{"role":"monitoring"}}}]}',
    );
  });

  it('schedules waiting work when a matching Destination is added, and sends a directory by its own selectors', async () => {
    const [home] = await shopRootOn();
    const commitsBefore = (await repo.commits()).length;
    // Only applying the new Destinations: nothing else is run.
    await applyWait(platform, rendered(platform, repo, example('more-destinations.yaml')));

    // The `monitoring/` directory lands on monitoring-1, under the <id5> of `monitoring`.
    const monitoringDir = shopDir('monitoring-1', 'monitoring');
    expect(groupId5('monitoring')).not.toBe('5058f');
    expect(await repo.workloads('monitoring-1/resources/')).toEqual([
      `${monitoringDir}servicemonitor.yaml`,
    ]);
    expect(await repo.read(`${monitoringDir}servicemonitor.yaml`)).toContain(
      'kind: ServiceMonitor',
    );
    // Nowhere else, and the root output is not duplicated onto the new Destinations.
    expect((await repo.workloads()).filter((f) => f.includes('servicemonitor'))).toHaveLength(1);
    expect(await shopRootOn()).toEqual([home]);
    // The new dev Destinations get the dependencies of every Promise that matches them.
    for (const d of ['monitoring-1', 'dev-3']) {
      expect(
        await repo.read(`${d}/dependencies/webapp/5058f/static/webapp-dependencies.yaml`),
        d,
      ).toContain('webapp-system');
      expect(
        await repo.read(
          `${d}/dependencies/shared-config/5058f/static/shared-config-dependencies.yaml`,
        ),
        d,
      ).toContain('platform-shared-config');
    }
    expect((await repo.commits()).length).toBeGreaterThan(commitsBefore);
  });

  it('keeps an instance on the Destination it was given when it is re-run with a new spec', async () => {
    const [home] = await shopRootOn();
    await applyWait(platform, path.join(PROJECT_ROOT, example('webapp-v2.yaml')));

    expect(await shopRootOn()).toEqual([home]);
    expect(await repo.read(`${shopDir(home!)}deployment.yaml`)).toContain('image: nginx:1.27');
    const placements = await cliOk(platform, ['get', 'workplacements', '--show-labels']);
    const shopRoot = placements
      .split('\n')
      .filter((l) => l.startsWith('webapp-shop-webapp-configure.'));
    // One placement per workload group (root on `home`, monitoring on monitoring-1), none misplaced.
    expect(shopRoot.map((l) => l.split(/\s+/)[0]).sort()).toEqual(
      [
        `webapp-shop-webapp-configure.5058f.${home}`,
        `webapp-shop-webapp-configure.${groupId5('monitoring')}.monitoring-1`,
      ].sort(),
    );
    expect(shopRoot.join('\n')).not.toContain('misplaced=true');
  });
});

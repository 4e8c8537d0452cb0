import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubePlatform } from '../../support/kube-platform';
import { promiseAvailableAt, startKubeScenario } from '../../support/kube-scenario';
import type { StateRepo } from '../../support/state-repo';

/** Misscheduled work (Kratix docs: Updates, misplaced/misscheduled workloads) with kubectl: listed and deleted by label. */

const depsFile = (destination: string) =>
  `${destination}/dependencies/namespace/5058f/static/namespace-dependencies.yaml`;
const example = (f: string) => `examples/namespace-promise/${f}`;

describe('Misscheduled WorkPlacements on a cluster: the namespace Promise moved from dev to prod (Kratix docs: Updates, misplaced/misscheduled workloads)', () => {
  let platform: KubePlatform;
  let repo: StateRepo;
  let devBytes: string | undefined;

  beforeAll(async () => {
    ({ platform, repo } = await startKubeScenario('misplaced', example('platform.yaml')));
    await platform.kubectlOk(['apply', '-f', example('promise.yaml')]);
    await promiseAvailableAt(platform, 'namespace', 'not-set');
    devBytes = await repo.read(depsFile('dev-cluster-1'));
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('wrote foo to the dev Destination only', () => {
    expect(devBytes).toMatch(/kind: Namespace\s+metadata:\s+name: foo/);
  });

  it('labels the dev placement misscheduled after the update and leaves its files alone', async () => {
    await platform.kubectlOk(['apply', '-f', example('promise-prod.yaml')]);
    await promiseAvailableAt(platform, 'namespace', 'not-set');
    expect(await repo.read(depsFile('prod-cluster-1'))).toMatch(/name: bar/);
    expect(await repo.read(depsFile('dev-cluster-1'))).toBe(devBytes);

    const listed = await platform.kubectlOk([
      '-n',
      'kratix-platform-system',
      'get',
      'workplacements.platform.kratix.io',
      '--show-labels',
    ]);
    const rows = listed.trim().split('\n').slice(1);
    const dev = rows.find((r) => r.startsWith('namespace-static-dependencies.dev-cluster-1'));
    const prod = rows.find((r) => r.startsWith('namespace-static-dependencies.prod-cluster-1'));
    expect(dev).toMatch(/kratix\.io\/misscheduled=true/);
    expect(dev).toMatch(/kratix\.io\/work=namespace-static-dependencies/);
    expect(prod).toBeDefined();
    expect(prod).not.toMatch(/misscheduled/);
    expect(
      await platform.kubectlOk([
        'get',
        'workplacements',
        '-A',
        '-l',
        'kratix.io/misscheduled=true',
        '-o',
        'name',
      ]),
    ).toBe('workplacement.platform.kratix.io/namespace-static-dependencies.dev-cluster-1\n');
  });

  it('deletes the misscheduled placement and its files with kubectl delete --selector', async () => {
    const out = await platform.kubectlOk([
      '-n',
      'kratix-platform-system',
      'delete',
      'workplacements.platform.kratix.io',
      '--selector',
      'kratix.io/misscheduled=true',
    ]);
    // kubectl returns once the object is gone: our finalizer held it until the files went.
    expect(out).toMatch(
      /workplacements?\.platform\.kratix\.io "namespace-static-dependencies\.dev-cluster-1" deleted/,
    );
    expect(await repo.read(depsFile('dev-cluster-1'))).toBeUndefined();
    expect((await repo.commits())[0]).toBe(
      'Delete from: namespace-static-dependencies.dev-cluster-1',
    );
    expect(await repo.read(depsFile('prod-cluster-1'))).toMatch(/name: bar/);
    expect(await platform.kubectlOk(['get', 'workplacements', '-A', '-o', 'name'])).toContain(
      'namespace-static-dependencies.prod-cluster-1',
    );
  });
});

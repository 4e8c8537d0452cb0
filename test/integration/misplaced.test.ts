import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config';
import type { KratixObject } from '../../src/model/types';
import { renderExample, startTestPlatform } from '../support/platform';
import type { TestPlatform } from '../support/platform';
import { applyWait, cliOk } from '../support/cli';
import { createStateRepo } from '../support/state-repo';
import type { StateRepo } from '../support/state-repo';

/**
 * Misplaced (misscheduled) work (behaviour §6, Kratix docs: Updates) end to end: the `promiseflow` CLI
 * against the real dev server, a real worker and a real Git state store, with the YAML of
 * examples/namespace-promise/.
 */

const example = (f: string) => path.join(PROJECT_ROOT, 'examples', 'namespace-promise', f);
const depsFile = (destination: string) =>
  `${destination}/dependencies/namespace/5058f/static/namespace-dependencies.yaml`;

describe('Misplaced workloads: the namespace Promise moved from dev to prod (Kratix docs: Updates, misplaced workloads)', () => {
  let platform: TestPlatform;
  let repo: StateRepo;
  let devBytes: string | undefined;

  /** WorkPlacements by target Destination. */
  async function placements(): Promise<Record<string, KratixObject>> {
    const list = JSON.parse(await cliOk(platform, ['get', 'workplacements', '-o', 'json'])) as {
      items: KratixObject[];
    };
    return Object.fromEntries(
      list.items.map((p) => [p.metadata.labels?.['kratix.io/targetDestinationName'] ?? '', p]),
    );
  }

  beforeAll(async () => {
    platform = await startTestPlatform('misplaced');
    repo = await createStateRepo(path.join(platform.dir, 'state.git'));
    const rendered = path.join(platform.dir, 'platform.yaml');
    fs.writeFileSync(
      rendered,
      renderExample('examples/namespace-promise/platform.yaml', { STATE_STORE_URL: repo.url }),
    );
    await cliOk(platform, ['apply', '-f', rendered, '--wait']);
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('creates the namespace foo on the environment=dev Destination only', async () => {
    await applyWait(platform, example('promise.yaml'));

    devBytes = await repo.read(depsFile('dev-cluster-1'));
    expect(devBytes).toMatch(/kind: Namespace\s+metadata:\s+name: foo/);
    expect(await repo.workloads('prod-cluster-1/')).toEqual([]);
    expect(Object.keys(await placements())).toEqual(['dev-cluster-1']);
  });

  it('writes bar to prod after the update to environment=prod, leaves foo on dev byte-for-byte and labels its WorkPlacement misplaced and misscheduled', async () => {
    const devCommits = await repo.commits('dev-cluster-1/dependencies');
    await applyWait(platform, example('promise-prod.yaml'));

    expect(await repo.read(depsFile('prod-cluster-1'))).toMatch(
      /kind: Namespace\s+metadata:\s+name: bar/,
    );
    expect(await repo.read(depsFile('dev-cluster-1'))).toBe(devBytes);
    expect(await repo.workloads('dev-cluster-1/')).toEqual([depsFile('dev-cluster-1')]);
    expect(await repo.commits('dev-cluster-1/dependencies')).toEqual(devCommits);

    const byDestination = await placements();
    expect(byDestination['dev-cluster-1']?.metadata.labels).toMatchObject({
      'kratix.io/misplaced': 'true',
      'kratix.io/misscheduled': 'true',
    });
    const prodLabels = byDestination['prod-cluster-1']?.metadata.labels ?? {};
    expect(prodLabels['kratix.io/misplaced']).toBeUndefined();
    expect(prodLabels['kratix.io/misscheduled']).toBeUndefined();
  });

  it('does not update the misplaced files on a later update', async () => {
    const devCommits = await repo.commits('dev-cluster-1/dependencies');
    await applyWait(platform, example('promise-prod-baz.yaml'));

    expect(await repo.read(depsFile('prod-cluster-1'))).toMatch(/name: baz/);
    expect(await repo.read(depsFile('dev-cluster-1'))).toBe(devBytes);
    expect(await repo.commits('dev-cluster-1/dependencies')).toEqual(devCommits);
    expect((await placements())['dev-cluster-1']?.metadata.labels).toMatchObject({
      'kratix.io/misscheduled': 'true',
    });
  });

  it('lists the misscheduled WorkPlacement by label (get --show-labels, get -l)', async () => {
    const devName = (await placements())['dev-cluster-1']!.metadata.name;
    const prodName = (await placements())['prod-cluster-1']!.metadata.name;

    const table = (await cliOk(platform, ['get', 'workplacements', '--show-labels'])).split('\n');
    expect(table[0]).toMatch(/^NAME\s.*\sLABELS$/);
    const row = (name: string) => table.find((l) => l.startsWith(`${name} `)) ?? '';
    expect(row(devName)).toContain('kratix.io/misscheduled=true');
    expect(row(prodName)).not.toBe('');
    expect(row(prodName)).not.toContain('kratix.io/misscheduled=true');

    const selected = await cliOk(platform, [
      'get',
      'workplacements',
      '-l',
      'kratix.io/misscheduled=true',
    ]);
    const names = selected
      .split('\n')
      .slice(1)
      .filter((l) => l.trim() !== '')
      .map((l) => l.split(/\s+/)[0]);
    expect(names).toEqual([devName]);
  });

  it('deletes the misscheduled WorkPlacement with its files, and nothing else', async () => {
    const devName = (await placements())['dev-cluster-1']!.metadata.name;
    const prodBytes = await repo.read(depsFile('prod-cluster-1'));

    const out = await cliOk(platform, [
      'delete',
      'workplacements',
      '-l',
      'kratix.io/misscheduled=true',
      '--wait',
    ]);
    expect(out).toContain(`"${devName}" deleted`);

    expect(await repo.workloads('dev-cluster-1/')).toEqual([]);
    expect((await repo.commits())[0]).toBe(`Delete from: ${devName}`);
    expect(await repo.read(depsFile('prod-cluster-1'))).toBe(prodBytes);
    expect(Object.keys(await placements())).toEqual(['prod-cluster-1']);
  });
});

import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config';
import { provisionStateStore } from '../../tools/servers/state-store-backends';
import type { ProvisionedStateStore } from '../../tools/servers/state-store-backends';
import { startTestPlatform } from '../support/platform';
import type { TestPlatform } from '../support/platform';

const example = (f: string) => path.join(PROJECT_ROOT, 'examples', 'filepath-modes', f);

/** Destination `filepath.mode`: nestedByMetadata, aggregatedYAML and none (issue 4). */
describe('Destination filepath modes', () => {
  let platform: TestPlatform;
  let stateStore: ProvisionedStateStore;

  async function applyOk(file: string, input?: string) {
    const r = await platform.cli(['apply', '-f', file, '--wait'], input);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  }
  const kinds = (text: string | undefined) =>
    parseAllDocuments(text ?? '').map((d) => {
      const o = d.toJSON() as { kind: string; metadata: { name: string } };
      return `${o.kind}/${o.metadata.name}`;
    });

  beforeAll(async () => {
    platform = await startTestPlatform('filepath');
    stateStore = await provisionStateStore('git', path.join(platform.dir, 'state-store'));
    const platformYaml = path.join(platform.dir, 'platform.yaml');
    fs.writeFileSync(
      platformYaml,
      fs
        .readFileSync(example('platform.yaml'), 'utf8')
        .replace('${STATE_STORE_URL}', `file://${stateStore.location}`),
    );
    await applyOk(platformYaml);
    await applyOk(example('promise.yaml'));
    for (const l of ['nested', 'aggregated', 'flat']) await applyOk(example(`app-${l}.yaml`));
  });

  afterAll(async () => {
    await platform?.stop();
    await stateStore?.stop();
  });

  it('nests each placement in its own directory by default', async () => {
    expect(
      await stateStore.read('nested/dependencies/app/5058f/static/app-dependencies.yaml'),
    ).toContain('name: apps');
    expect(
      await stateStore.read(
        'nested/resources/default/app/app-nested/render/5058f/app-nested-deployment.yaml',
      ),
    ).toContain('kind: Deployment');
  });

  it('joins every placement of an aggregatedYAML Destination into its one file, and drops a deleted one', async () => {
    await applyOk(
      '-',
      fs
        .readFileSync(example('app-aggregated.yaml'), 'utf8')
        .replaceAll('app-aggregated', 'app-aggregated-2'),
    );
    const file = await stateStore.read('aggregated/all.yaml');
    expect(kinds(file).sort()).toEqual([
      'Deployment/app-aggregated',
      'Deployment/app-aggregated-2',
      'Namespace/apps',
      'Service/app-aggregated',
      'Service/app-aggregated-2',
    ]);
    expect(
      await stateStore.read('aggregated/dependencies/app/5058f/static/app-dependencies.yaml'),
    ).toBeUndefined();

    const r = await platform.cli(['delete', 'app', 'app-aggregated-2', '--wait']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(kinds(await stateStore.read('aggregated/all.yaml')).sort()).toEqual([
      'Deployment/app-aggregated',
      'Namespace/apps',
      'Service/app-aggregated',
    ]);
  });

  it('puts files at the root of a none Destination, tracks them, and removes exactly them on delete', async () => {
    expect(await stateStore.read('flat/app-flat-deployment.yaml')).toContain('kind: Deployment');
    expect(await stateStore.read('flat/app-flat-service.yaml')).toContain('kind: Service');
    expect(await stateStore.read('flat/app-dependencies.yaml')).toContain('name: apps');
    const tracking = await stateStore.read('flat/.kratix/app-app-flat-render.flat-cluster.yaml');
    expect(tracking).toContain('flat/app-flat-deployment.yaml');

    const r = await platform.cli(['delete', 'app', 'app-flat', '--wait']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(await stateStore.read('flat/app-flat-deployment.yaml')).toBeUndefined();
    expect(
      await stateStore.read('flat/.kratix/app-app-flat-render.flat-cluster.yaml'),
    ).toBeUndefined();
    // The Promise's dependencies, also at the root, stay.
    expect(await stateStore.read('flat/app-dependencies.yaml')).toContain('name: apps');
  });
});

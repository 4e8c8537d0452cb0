import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderExample, startTestPlatform } from '../../support/platform';
import type { TestPlatform } from '../../support/platform';
import { createStateRepo } from '../../support/state-repo';
import type { StateRepo } from '../../support/state-repo';

/**
 * aggregatedYAML with several workers: many requests placed on one Destination at once,
 * by two worker processes, all end in its one file — none drops another's share.
 */

const APPS = 12;

describe('one aggregatedYAML file written by two workers at once', () => {
  let platform: TestPlatform;
  let repo: StateRepo;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    platform = await startTestPlatform('aggregated', { inProcessWorker: false });
    workers.push(platform.spawnWorker(), platform.spawnWorker());
    repo = await createStateRepo(path.join(platform.dir, 'state.git'));
    const rendered = path.join(platform.dir, 'platform.yaml');
    fs.writeFileSync(
      rendered,
      renderExample('examples/filepath-modes/platform.yaml', { STATE_STORE_URL: repo.url }),
    );
    expect((await platform.cli(['apply', '-f', rendered, '--wait'])).code).toBe(0);
    const promise = path.resolve(__dirname, '../../../examples/filepath-modes/promise.yaml');
    expect((await platform.cli(['apply', '-f', promise, '--wait'])).code).toBe(0);
  });

  afterAll(async () => {
    for (const w of workers) w.kill('SIGKILL');
    await platform?.stop();
  });

  it('keeps every placement in the file', async () => {
    const apps = Array.from(
      { length: APPS },
      (_, i) =>
        `apiVersion: example.promiseflow.io/v1alpha1\nkind: App\nmetadata:\n  name: app-${i}\nspec:\n  layout: aggregated\n`,
    ).join('---\n');
    const r = await platform.cli(['apply', '-f', '-', '--wait'], apps);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const file = (await repo.read('aggregated/all.yaml')) ?? '';
    for (let i = 0; i < APPS; i++) expect(file).toMatch(new RegExp(`name: app-${i}\\b`));
    const placements = JSON.parse(
      (await platform.cli(['get', 'workplacements', '-A', '-o', 'json'])).stdout,
    ) as { items: { spec: { targetDestinationName: string } }[] };
    expect(
      placements.items.filter((p) => p.spec.targetDestinationName === 'aggregated-cluster'),
    ).toHaveLength(APPS + 1); // the apps, and the Promise's dependencies
  });
});

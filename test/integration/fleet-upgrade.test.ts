import * as fs from 'node:fs';
import * as path from 'node:path';
import { simpleGit } from 'simple-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config';
import { renderExample, startTestPlatform } from '../support/platform';
import type { TestPlatform } from '../support/platform';

/** Reads a file from the state store's `main` branch through a fresh clone. */
async function readStateStore(bareRepo: string, file: string): Promise<string | undefined> {
  const git = simpleGit();
  const show = await git
    .raw(['--git-dir', bareRepo, 'show', `main:${file}`])
    .catch(() => undefined);
  return show;
}

const instancePath = (name: string) =>
  `worker-1/resources/default/mongodb/${name}/instance-configure/5058f/mongodb-instance.yaml`;

describe('MongoDB fleet upgrade (seed 003)', () => {
  let platform: TestPlatform;
  let bareRepo: string;

  beforeAll(async () => {
    platform = await startTestPlatform('fleet');
    bareRepo = path.join(platform.dir, 'state.git');
    await simpleGit().init(true, [bareRepo, '--initial-branch=main']);
    const platformYaml = path.join(platform.dir, 'platform.yaml');
    fs.writeFileSync(
      platformYaml,
      renderExample('examples/mongodb/platform.yaml', { STATE_STORE_URL: `file://${bareRepo}` }),
    );
    const applied = await platform.cli(['apply', '-f', platformYaml, '--wait']);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('installs the Promise, creates three instances, then upgrades the fleet when the pipeline image is bumped', async () => {
    const example = (f: string) => path.join(PROJECT_ROOT, 'examples', 'mongodb', f);
    const install = await platform.cli(['apply', '-f', example('promise.yaml'), '--wait']);
    expect(install.code, install.stderr).toBe(0);
    expect(install.stdout).toContain('promise/mongodb created');

    for (const name of ['mongo-v4', 'mongo-v5', 'mongo-v6']) {
      const r = await platform.cli(['apply', '-f', example(`${name}.yaml`), '--wait']);
      expect(r.code, r.stderr + r.stdout).toBe(0);
    }

    // Before: 4.4.23 / 5.0.14 / 6.0.10 in the state store and in the resources' status.
    expect(await readStateStore(bareRepo, instancePath('mongo-v4'))).toContain('4.4.23');
    expect(await readStateStore(bareRepo, instancePath('mongo-v5'))).toContain('5.0.14');
    expect(await readStateStore(bareRepo, instancePath('mongo-v6'))).toContain('6.0.10');
    const before = await platform.cli(['get', 'mongodbs']);
    expect(before.stdout).toMatch(/mongo-v4\s+mongodb version: 4\.4\.23/);
    expect(before.stdout).toMatch(/mongo-v6\s+mongodb version: 6\.0\.10/);
    // Promise dependencies (the operator) went to worker-1 but not to the strict platform-cluster.
    expect(
      await readStateStore(
        bareRepo,
        'worker-1/dependencies/mongodb/promise-configure/5058f/mongodb-operator.yaml',
      ),
    ).toContain('mongodb-kubernetes-operator');
    expect(
      await readStateStore(
        bareRepo,
        'platform-cluster/dependencies/mongodb/promise-configure/5058f/mongodb-operator.yaml',
      ),
    ).toBeUndefined();
    const commitsBefore = (
      await simpleGit().raw(['--git-dir', bareRepo, 'rev-list', '--count', 'main'])
    ).trim();

    // The upgrade: apply the Promise with the pipeline image bumped to v0.2.0.
    const upgrade = await platform.cli(['apply', '-f', example('promise-v0.2.0.yaml'), '--wait']);
    expect(upgrade.code, upgrade.stderr + upgrade.stdout).toBe(0);
    expect(upgrade.stdout).toContain('promise/mongodb configured');

    expect(await readStateStore(bareRepo, instancePath('mongo-v4'))).toContain('4.4.24');
    expect(await readStateStore(bareRepo, instancePath('mongo-v5'))).toContain('5.0.15');
    expect(await readStateStore(bareRepo, instancePath('mongo-v6'))).toContain('6.0.10');
    const after = await platform.cli(['get', 'mongodbs']);
    expect(after.stdout).toMatch(/mongo-v4\s+mongodb version: 4\.4\.24/);
    expect(after.stdout).toMatch(/mongo-v5\s+mongodb version: 5\.0\.15/);
    expect(after.stdout).toMatch(/mongo-v6\s+mongodb version: 6\.0\.10/);

    // Every resource pipeline ran again, as a child of the update workflow...
    const children: string[] = [];
    for await (const wf of platform.client.temporal.workflow.list({
      query: `WorkflowType = 'resourceReconcile' AND TaskQueue = '${platform.config.temporal.taskQueue}' AND ExecutionStatus = 'Completed'`,
    })) {
      if (wf.workflowId.startsWith('promise-update/mongodb/')) children.push(wf.workflowId);
    }
    expect(children.sort()).toEqual([
      'promise-update/mongodb/default/mongo-v4',
      'promise-update/mongodb/default/mongo-v5',
      'promise-update/mongodb/default/mongo-v6',
    ]);
    // ...but unchanged output (mongo-v6) made no commit: 2 instance commits + nothing else.
    const commitsAfter = (
      await simpleGit().raw(['--git-dir', bareRepo, 'rev-list', '--count', 'main'])
    ).trim();
    expect(Number(commitsAfter) - Number(commitsBefore)).toBe(2);

    // Revisions: both versions, only v0.2.0 latest.
    const revisions = await platform.cli(['get', 'promiserevisions']);
    expect(revisions.stdout).toMatch(/mongodb-v0\.1\.0\s+(v0\.1\.0)?\s*\n/);
    expect(revisions.stdout).toMatch(/mongodb-v0\.2\.0\s+true/);
    const bindings = await platform.client.get('resourcebindings');
    expect(bindings.items.map((b) => b.status?.lastAppliedVersion)).toEqual([
      'v0.2.0',
      'v0.2.0',
      'v0.2.0',
    ]);
  });

  it('refuses a request that does not match the Promise API, naming file, object, field and reason', async () => {
    const bad = path.join(platform.dir, 'bad-request.yaml');
    fs.writeFileSync(
      bad,
      'apiVersion: promise.kratix.io/v1alpha1\nkind: MongoDB\nmetadata:\n  name: mongo-bad\nspec:\n  majorVersion: 7\n',
    );
    const r = await platform.cli(['apply', '-f', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('bad-request.yaml');
    expect(r.stderr).toContain('MongoDB "mongo-bad"');
    expect(r.stderr).toContain('spec.majorVersion');
    expect(r.stderr).toMatch(/expected string/);
    const list = await platform.client.get('mongodbs');
    expect(list.items.map((i) => i.metadata.name)).not.toContain('mongo-bad');
  });
});

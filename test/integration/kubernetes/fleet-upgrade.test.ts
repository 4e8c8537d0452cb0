import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStateRepo } from '../../support/state-repo';
import type { StateRepo } from '../../support/state-repo';
import { renderExample, startKubePlatform } from '../../support/kube-platform';
import type { KubePlatform } from '../../support/kube-platform';

/**
 * The MongoDB fleet upgrade (Kratix workshop: Upgrading a fleet) as a Kratix user does it: kubectl only, against a
 * real kube-apiserver with the bridge, a worker and a Git state store.
 */

const instanceFile = (name: string) =>
  `worker-1/resources/default/mongodb/${name}/instance-configure/5058f/mongodb-instance.yaml`;

/** `kubectl get mongodbs` as NAME -> STATUS. */
function table(stdout: string): Record<string, string> {
  const [header, ...rows] = stdout.trim().split('\n');
  const statusAt = header!.indexOf('STATUS');
  return Object.fromEntries(
    rows.map((r) => [r.slice(0, statusAt).trim(), r.slice(statusAt).trim()] as const),
  );
}

describe('a fleet upgrade driven by kubectl on a real API server (Kratix workshop: Upgrading a fleet)', () => {
  let platform: KubePlatform;
  let repo: StateRepo;

  /** Each instance records the Promise version it was last reconciled at. */
  const reconciledAt = (version: string) =>
    platform.eventually(`every instance reconciled at ${version}`, async () => {
      const r = await platform.kubectl([
        'wait',
        `--for=jsonpath={.status.promiseVersion}=${version}`,
        'mongodbs',
        '--all',
        '--timeout=5s',
      ]);
      return r.code === 0;
    });

  beforeAll(async () => {
    platform = await startKubePlatform('fleet');
    repo = await createStateRepo(path.join(platform.dir, 'state.git'));
    const rendered = path.join(platform.dir, 'platform.yaml');
    fs.writeFileSync(
      rendered,
      renderExample('examples/mongodb/platform.yaml', { STATE_STORE_URL: repo.url }),
    );
    await platform.eventually('the bridge to install the Kratix CRDs', async () => {
      const r = await platform.kubectl(['get', 'crd', 'destinations.platform.kratix.io']);
      return r.code === 0;
    });
    await platform.kubectlOk(['apply', '-f', rendered]);
    await platform.kubectlOk([
      'wait',
      '--for=condition=Ready',
      'destination/worker-1',
      'destination/platform-cluster',
      '--timeout=120s',
    ]);
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('lists the Destinations and state store as the tutorial shows', async () => {
    const destinations = await platform.kubectlOk(['get', 'destinations.platform.kratix.io']);
    expect(destinations).toMatch(/^NAME\s+STATESTOREKIND\s+STATESTORENAME\s+READY\s+AGE/);
    expect(destinations).toMatch(/platform-cluster\s+GitStateStore\s+default\s+True/);
    expect(destinations).toMatch(/worker-1\s+GitStateStore\s+default\s+True/);
    expect(await platform.kubectlOk(['get', 'gitstatestores'])).toMatch(/default\s+file:\/\//);
  });

  it('installs the Promise with kubectl apply and serves its API', async () => {
    await platform.kubectlOk(['apply', '--filename', 'examples/mongodb/promise.yaml']);
    await platform.kubectlOk([
      'wait',
      '--for=jsonpath={.status.status}=Available',
      'promise/mongodb',
      '--timeout=120s',
    ]);
    expect(await platform.kubectlOk(['get', 'crd', 'mongodbs.promise.kratix.io'])).toContain(
      'mongodbs.promise.kratix.io',
    );
    expect(await platform.kubectlOk(['get', 'promises'])).toMatch(
      /mongodb\s+Available\s+MongoDB\s+promise\.kratix\.io\/v1alpha1\s+v0\.1\.0/,
    );
  });

  it('refuses a request that breaks the Promise schema in kubectl apply itself, naming the field', async () => {
    const r = await platform.kubectl(
      ['apply', '-f', '-'],
      'apiVersion: promise.kratix.io/v1alpha1\nkind: MongoDB\nmetadata:\n  name: mongo-bad\nspec:\n  majorVersion: 4\n',
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('spec.majorVersion');
    expect(r.stderr).toMatch(/must be of type string|Invalid value.*string/);
    expect((await platform.kubectl(['get', 'mongodb', 'mongo-bad'])).code).not.toBe(0);
  });

  it('creates the instances from here documents and reports their versions in kubectl get', async () => {
    for (const [name, major] of [
      ['mongo-v4', '4'],
      ['mongo-v5', '5'],
      ['mongo-v6', '6'],
    ] as const) {
      await platform.kubectlOk(
        ['apply', '-f', '-'],
        `---\napiVersion: promise.kratix.io/v1alpha1\nkind: MongoDB\nmetadata:\n  name: ${name}\nspec:\n  majorVersion: "${major}"\n`,
      );
    }
    await reconciledAt('v0.1.0');
    const statuses = table(await platform.kubectlOk(['get', 'mongodbs.promise.kratix.io']));
    expect(statuses).toEqual({
      'mongo-v4': 'mongodb version: 4.4.23',
      'mongo-v5': 'mongodb version: 5.0.14',
      'mongo-v6': 'mongodb version: 6.0.10',
    });
    expect(await repo.read(instanceFile('mongo-v4'))).toContain('4.4.23');
  });

  it('upgrades every instance when the Promise is applied with the new pipeline image', async () => {
    const v6Commits = await repo.commits(instanceFile('mongo-v6'));
    await platform.kubectlOk(['apply', '-f', 'examples/mongodb/promise-v0.2.0.yaml']);
    await reconciledAt('v0.2.0');
    const statuses = table(await platform.kubectlOk(['get', 'mongodbs']));
    expect(statuses['mongo-v4']).toBe('mongodb version: 4.4.24');
    expect(statuses['mongo-v5']).toBe('mongodb version: 5.0.15');
    expect(statuses['mongo-v6']).toBe('mongodb version: 6.0.10');
    expect(await repo.read(instanceFile('mongo-v4'))).toContain('4.4.24');
    expect(await repo.read(instanceFile('mongo-v5'))).toContain('5.0.15');
    // 6.0.10's output is byte-identical: no new commit for it.
    expect(await repo.commits(instanceFile('mongo-v6'))).toEqual(v6Commits);

    await platform.kubectlOk([
      'wait',
      '--for=jsonpath={.status.version}=v0.2.0',
      'promise/mongodb',
      '--timeout=60s',
    ]);
    const revisions = await platform.kubectlOk(['get', 'promiserevisions']);
    expect(revisions.trim().split('\n')).toEqual([
      expect.stringMatching(/^NAME\s+LATEST$/),
      expect.stringMatching(/^mongodb-v0\.1\.0\s*$/),
      expect.stringMatching(/^mongodb-v0\.2\.0\s+true$/),
    ]);
    const bindings = await platform.kubectlOk(['get', 'resourcebindings']);
    expect(bindings).toMatch(/mongo-v4-mongodb\s+mongo-v4\s+mongodb\s+latest\s+v0\.2\.0/);
  });

  it('tells the story in kubectl describe: the bridge started the workflows, the worker reports the outcome', async () => {
    const described = await platform.kubectlOk(['describe', 'mongodb', 'mongo-v4']);
    expect(described).toMatch(/WorkflowStarted\s+.*resource-reconcile\/mongodb\/default\/mongo-v4/);
    expect(described).toMatch(/Reconciled\s+.*Reconciled at v0\.2\.0/);
    const promise = await platform.kubectlOk(['describe', 'promise', 'mongodb']);
    expect(promise).toMatch(/UpdateStarted\s+.*Applying v0\.2\.0/);
    expect(promise).toMatch(/Update to v0\.2\.0 complete: 3\/3 resource\(s\) reconciled, 0 failed/);
  });

  it('a metadata-only change of the Promise starts nothing', async () => {
    const runs = async () => {
      let n = 0;
      for await (const _ of platform.temporal.workflow.list({
        query: `WorkflowId = 'promise-update/mongodb' AND TaskQueue = '${platform.config.temporal.taskQueue}'`,
      })) {
        n++;
      }
      return n;
    };
    const before = await runs();
    await platform.kubectlOk(['label', 'promise', 'mongodb', 'team=data']);
    await platform.kubectlOk(['annotate', 'promise', 'mongodb', 'owner=platform-team']);
    // Give the bridge several chances (events, a resync) to get it wrong.
    await new Promise((r) => setTimeout(r, 7_000));
    expect(await runs()).toBe(before);
  });
});

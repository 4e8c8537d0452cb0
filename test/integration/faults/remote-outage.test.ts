import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import type { UpdateProgress } from '../../../src/workflows/promiseUpdate';
import { startTestPlatform, type TestPlatform } from '../../support/platform';
import { kindOf, shPromise } from '../../support/sh-promise';
import {
  destinationYaml,
  storeUnderTest,
  type StoreUnderTest,
} from '../../support/stores-under-test';

const FLEET = 20;
const OUTAGE_MS = 30_000;
const PROMISE = 'tenant';
const names = Array.from({ length: FLEET }, (_, i) => `tenant-${String(i).padStart(2, '0')}`);
const fileOf = (name: string) =>
  `worker-1/resources/default/${PROMISE}/${name}/render/5058f/config.yaml`;
const contentOf = (name: string, version: string) => `name: ${name}\nversion: ${version}\n`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Fault suite, behaviour §11: a state store that is unavailable for 30 s in the middle of a
 * Promise update (the Git repository moved away, MinIO stopped and restarted on the same
 * data) only delays it: writes are retried, and the update ends with every resource at
 * the new version, each written once.
 */
describe.each([
  ['git', 'the repository is moved away and back', /does not exist or is not accessible/],
  ['s3', 'MinIO is stopped and restarted on the same data', /cannot reach/],
] as const)('a %s state store unavailable for 30 s during an update (%s)', (kind, _how, why) => {
  let platform: TestPlatform;
  let store: StoreUnderTest;

  async function update(input: object) {
    return platform.client.temporal.workflow.start('promiseUpdate', {
      taskQueue: platform.config.temporal.taskQueue,
      workflowId: `promise-update/${PROMISE}`,
      args: [{ ...input, options: { concurrency: 2 } }],
    });
  }

  beforeAll(async () => {
    platform = await startTestPlatform(`outage-${kind}`);
    store = await storeUnderTest(kind, path.join(platform.dir, 'store'));
    const platformYaml = path.join(platform.dir, 'platform.yaml');
    fs.writeFileSync(platformYaml, `${store.storeYaml}---\n${destinationYaml(store, 'worker-1')}`);
    let r = await platform.cli(['apply', '-f', platformYaml, '--wait']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    r = await platform.cli(
      ['apply', '-f', '-', '--wait'],
      shPromise({ name: PROMISE, version: 'v1' }),
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const name of names) {
      await platform.client.store.apply({
        apiVersion: 'example.promiseflow.io/v1alpha1',
        kind: kindOf(PROMISE),
        metadata: { name, namespace: 'default' },
        spec: { team: 'a' },
      });
    }
    const v1 = (await (await update({ promiseName: PROMISE })).result()) as UpdateProgress;
    expect(v1).toMatchObject({ phase: 'done', done: FLEET, failed: 0 });
  });

  afterAll(async () => {
    await platform?.stop();
    await store?.stop();
  });

  it('retries the writes, says why while waiting, and ends with every resource upgraded once', async () => {
    const before = await store.head();
    const promise = YAML.parse(shPromise({ name: PROMISE, version: 'v2' })) as object;
    const handle = await update({ promise });
    for (let i = 0; i < 600; i++) {
      const p = await handle.query<UpdateProgress>('progress').catch(() => undefined);
      if (p && p.done >= 2) break;
      await sleep(100);
    }
    await store.takeDown();
    const atOutage = await handle.query<UpdateProgress>('progress');
    expect(atOutage.done).toBeLessThan(FLEET);

    // While the store is away, the resources waiting on it say why in Temporal.
    const reasons = new Set<string>();
    const outageEnds = Date.now() + OUTAGE_MS;
    while (Date.now() < outageEnds) {
      for (const name of names) {
        const child = platform.client.temporal.workflow.getHandle(
          `resource-reconcile/${PROMISE}/default/${name}`,
        );
        const described = await child.describe().catch(() => undefined);
        for (const a of described?.raw.pendingActivities ?? []) {
          if (a.lastFailure?.message) reasons.add(a.lastFailure.message);
        }
      }
      const p = await handle.query<UpdateProgress>('progress');
      expect(p.phase).toBe('resources');
      await sleep(2_000);
    }
    await store.bringBack();

    const result = (await handle.result()) as UpdateProgress;
    expect(result).toMatchObject({ phase: 'done', total: FLEET, done: FLEET, failed: 0 });
    expect(
      [...reasons].some((m) => why.test(m)),
      [...reasons].join('\n'),
    ).toBe(true);

    expect(await store.files('worker-1/resources/default/')).toEqual(names.map(fileOf).sort());
    const writes = await store.writes('worker-1/resources/default/');
    for (const name of names) {
      expect((await store.readBytes(fileOf(name)))?.toString(), name).toBe(contentOf(name, 'v2'));
      // Written once at v1 and once at v2: the retries repeated no completed write.
      expect(writes.get(fileOf(name)), name).toEqual([
        contentOf(name, 'v1'),
        contentOf(name, 'v2'),
      ]);
    }
    if (kind === 'git') {
      const commits = await store.commits(before);
      // Each resource listed by exactly one commit, which holds its listed resources' files.
      expect(commits.flatMap((c) => c.placements).sort()).toEqual(
        names.map((n) => `Update from: ${PROMISE}-${n}-render.worker-1`).sort(),
      );
      for (const c of commits) {
        const files = c.placements.map((m) =>
          fileOf(m.replace(`Update from: ${PROMISE}-`, '').replace('-render.worker-1', '')),
        );
        expect(c.files, c.message).toEqual(files.sort());
      }
    }
  });
});

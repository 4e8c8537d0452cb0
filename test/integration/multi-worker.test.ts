import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import type { UpdateProgress } from '../../src/workflows/promiseUpdate';
import { startTestPlatform, type TestPlatform } from '../support/platform';
import { kindOf, shPromise } from '../support/sh-promise';
import { destinationYaml, storeUnderTest, type StoreUnderTest } from '../support/stores-under-test';

const FLEET = 200;
const WORKERS = 3;
const PROMISE = 'tenant';
const names = Array.from({ length: FLEET }, (_, i) => ({
  namespace: `team-${i % 4}`,
  name: `tenant-${String(i).padStart(3, '0')}`,
}));
const fileOf = (r: { namespace: string; name: string }) =>
  `worker-1/resources/${r.namespace}/${PROMISE}/${r.name}/render/5058f/config.yaml`;
const contentOf = (name: string, version: string) => `name: ${name}\nversion: ${version}\n`;
const placementOf = (name: string) => `${PROMISE}-${name}-render.worker-1`;

/**
 * behaviour §11: any number of worker processes share one platform with no lost, duplicated or
 * mixed-up write. Three `promiseflow worker` processes on one data directory (so one
 * state-store cache directory) run a fleet update together.
 */
describe.each(['git', 's3'] as const)(
  `${WORKERS} worker processes through a ${FLEET}-resource upgrade on %s`,
  (kind) => {
    let platform: TestPlatform;
    let store: StoreUnderTest;
    const workers: ChildProcess[] = [];

    /** Runs a Promise update over the whole fleet and waits for it. */
    async function update(input: object): Promise<UpdateProgress> {
      const handle = await platform.client.temporal.workflow.start('promiseUpdate', {
        taskQueue: platform.config.temporal.taskQueue,
        workflowId: `promise-update/${PROMISE}`,
        args: [{ ...input, options: { concurrency: 30 } }],
      });
      return (await handle.result()) as UpdateProgress;
    }

    /** Every file holds its resource at `version`, and there is no other file. */
    async function expectFleetAt(version: string): Promise<void> {
      expect(await store.files('worker-1/resources/team-')).toEqual(names.map(fileOf).sort());
      for (const r of names) {
        expect((await store.readBytes(fileOf(r)))?.toString(), r.name).toBe(
          contentOf(r.name, version),
        );
      }
    }

    /**
     * Git: every resource listed by exactly one commit since `since` (a push groups the
     * batches written together), each commit holding exactly its listed resources' files.
     */
    async function expectOneCommitPerResource(since: string | undefined, version: string) {
      const commits = (await store.commits(since)).filter(
        (c) => !c.message.includes('Destination check documents'),
      );
      expect(commits.flatMap((c) => c.placements).sort()).toEqual(
        names.map((r) => `Update from: ${placementOf(r.name)}`).sort(),
      );
      const byPlacement = new Map(names.map((r) => [placementOf(r.name), r]));
      for (const c of commits) {
        const files = c.placements.map((m) =>
          fileOf(byPlacement.get(m.replace('Update from: ', ''))!),
        );
        expect(c.files, c.message).toEqual(files.sort());
      }
      // And the content each commit wrote is its own resource's, at this version.
      const writes = await store.writes('worker-1/resources/team-');
      for (const r of names) {
        expect(writes.get(fileOf(r))?.at(-1), r.name).toBe(contentOf(r.name, version));
      }
    }

    beforeAll(async () => {
      platform = await startTestPlatform(`multi-${kind}`, { inProcessWorker: false });
      for (let i = 0; i < WORKERS; i++) workers.push(platform.spawnWorker());
      store = await storeUnderTest(kind, path.join(platform.dir, 'store'));
      const platformYaml = path.join(platform.dir, 'platform.yaml');
      fs.writeFileSync(
        platformYaml,
        `${store.storeYaml}---\n${destinationYaml(store, 'worker-1')}`,
      );
      let r = await platform.cli(['apply', '-f', platformYaml, '--wait']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      r = await platform.cli(
        ['apply', '-f', '-', '--wait'],
        shPromise({ name: PROMISE, version: 'v1' }),
      );
      expect(r.code, r.stdout + r.stderr).toBe(0);
      // Requests stored directly: the point is the fleet update, not 200 creations.
      for (const { namespace, name } of names) {
        await platform.client.store.apply({
          apiVersion: 'example.promiseflow.io/v1alpha1',
          kind: kindOf(PROMISE),
          metadata: { name, namespace },
          spec: { team: namespace },
        });
      }
    });

    afterAll(async () => {
      for (const w of workers) w.kill('SIGKILL');
      await platform?.stop();
      await store?.stop();
    });

    it('writes the whole fleet at v1, one write per resource', async () => {
      const result = await update({ promiseName: PROMISE });
      expect(result).toMatchObject({ phase: 'done', total: FLEET, done: FLEET, failed: 0 });
      await expectFleetAt('v1');
      const writes = await store.writes('worker-1/resources/team-');
      expect([...writes.values()].filter((w) => w.length !== 1)).toEqual([]);
      if (kind === 'git') await expectOneCommitPerResource(undefined, 'v1');
    });

    it('upgrades every resource to v2 exactly once, each commit holding exactly its placement', async () => {
      const before = await store.head();
      const promise = YAML.parse(shPromise({ name: PROMISE, version: 'v2' })) as object;
      const result = await update({ promise });
      expect(result).toMatchObject({ phase: 'done', total: FLEET, done: FLEET, failed: 0 });
      await expectFleetAt('v2');
      // Each file was written twice in all: at v1, then at v2 — never lost, never repeated.
      const writes = await store.writes('worker-1/resources/team-');
      for (const r of names) {
        expect(writes.get(fileOf(r)), r.name).toEqual([
          contentOf(r.name, 'v1'),
          contentOf(r.name, 'v2'),
        ]);
      }
      if (kind === 'git') await expectOneCommitPerResource(before, 'v2');

      // The writes really were shared: more than one worker process ran them.
      const identities = new Set<string>();
      for (const r of names.slice(0, 60)) {
        const history = await platform.client.temporal.workflow
          .getHandle(`resource-reconcile/${PROMISE}/${r.namespace}/${r.name}`)
          .fetchHistory();
        for (const e of history.events ?? []) {
          const started = e.activityTaskStartedEventAttributes;
          if (started?.identity) identities.add(started.identity);
        }
      }
      expect(identities.size).toBeGreaterThan(1);
    });
  },
);

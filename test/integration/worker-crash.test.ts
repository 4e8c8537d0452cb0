import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config';
import { provisionStateStore } from '../../tools/servers/state-store-backends';
import type { ProvisionedStateStore } from '../../tools/servers/state-store-backends';
import type { UpdateProgress } from '../../src/workflows/promiseUpdate';
import { startTestPlatform } from '../support/platform';
import type { TestPlatform } from '../support/platform';

const example = (f: string) => path.join(PROJECT_ROOT, 'examples', 'mongodb', f);
const REQUESTS = 8;

/** behaviour §8: a worker killed mid-update loses nothing and repeats no completed write. */
describe('a worker killed in the middle of a Promise update', () => {
  let platform: TestPlatform;
  let stateStore: ProvisionedStateStore;
  let worker: ChildProcess;

  async function startWorker(): Promise<ChildProcess> {
    const child = platform.spawnWorker();
    return child;
  }

  beforeAll(async () => {
    platform = await startTestPlatform('crash', { inProcessWorker: false });
    worker = await startWorker();
    stateStore = await provisionStateStore('git', path.join(platform.dir, 'state-store'));
    const platformYaml = path.join(platform.dir, 'platform.yaml');
    fs.writeFileSync(platformYaml, stateStore.platformYaml);
    expect((await platform.cli(['apply', '-f', platformYaml, '--wait'])).code).toBe(0);
    expect((await platform.cli(['apply', '-f', example('promise.yaml'), '--wait'])).code).toBe(0);
    const requests = Array.from(
      { length: REQUESTS },
      (_, i) =>
        `apiVersion: promise.kratix.io/v1alpha1\nkind: MongoDB\nmetadata:\n  name: db-${i}\nspec:\n  majorVersion: "${i % 2 === 0 ? 4 : 5}"\n`,
    ).join('---\n');
    const r = await platform.cli(['apply', '-f', '-', '--wait'], requests);
    expect(r.code, r.stderr).toBe(0);
  });

  afterAll(async () => {
    worker?.kill('SIGKILL');
    await platform?.stop();
    await stateStore?.stop();
  });

  it('finishes the update on a new worker with every resource upgraded exactly once', async () => {
    const commitsBefore = (await stateStore.history()).length;
    const input = {
      promise: (await import('yaml')).parse(
        fs.readFileSync(example('promise-v0.2.0.yaml'), 'utf8'),
      ),
      options: { concurrency: 2 },
    };
    const handle = await platform.client.temporal.workflow.start('promiseUpdate', {
      taskQueue: platform.config.temporal.taskQueue,
      workflowId: 'promise-update/mongodb',
      args: [input],
    });
    // Kill the worker (SIGKILL: no graceful shutdown) once some resources are done.
    for (let i = 0; i < 600; i++) {
      const p = await handle.query<UpdateProgress>('progress').catch(() => undefined);
      if (p && p.done >= 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const atKill = await handle.query<UpdateProgress>('progress');
    expect(atKill.done).toBeLessThan(REQUESTS);
    worker.kill('SIGKILL');
    await new Promise((r) => worker.once('exit', r));

    worker = await startWorker();
    const result = (await handle.result()) as UpdateProgress;
    expect(result).toMatchObject({ phase: 'done', total: REQUESTS, done: REQUESTS, failed: 0 });

    for (let i = 0; i < REQUESTS; i++) {
      const file = await stateStore.read(
        `worker-1/resources/default/mongodb/db-${i}/instance-configure/5058f/mongodb-instance.yaml`,
      );
      expect(file).toContain(i % 2 === 0 ? '4.4.24' : '5.0.15');
    }
    // Each upgraded resource was committed once: nothing completed was written twice.
    const history = await stateStore.history();
    const added = history.slice(0, history.length - commitsBefore);
    expect([...added].sort()).toEqual(
      Array.from(
        { length: REQUESTS },
        (_, i) => `Update from: mongodb-db-${i}-instance-configure.worker-1`,
      ).sort(),
    );
  });
});

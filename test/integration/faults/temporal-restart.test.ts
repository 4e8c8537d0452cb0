import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, resolveConfig } from '../../../src/config';
import { provisionStateStore } from '../../../tools/servers/state-store-backends';
import type { ProvisionedStateStore } from '../../../tools/servers/state-store-backends';
import { freePort, startDevServer } from '../../../tools/servers/temporal-dev-server';
import type { DevServer } from '../../../tools/servers/temporal-dev-server';
import type { UpdateProgress } from '../../../src/workflows/promiseUpdate';
import { startTestPlatform } from '../../support/platform';
import type { TestPlatform } from '../../support/platform';

/**
 * The Temporal server itself killed (SIGKILL) in the middle of a fleet upgrade and started
 * again on the same database: the worker reconnects, the update resumes from its history,
 * and every resource ends upgraded with one commit each.
 */

const REQUESTS = 8;
const example = (f: string) => path.join(PROJECT_ROOT, 'examples', 'mongodb', f);

describe('the Temporal server killed mid-update and restarted on the same database', () => {
  let dir: string;
  let port: number;
  let server: DevServer;
  let platform: TestPlatform;
  let stateStore: ProvisionedStateStore;

  const start = () =>
    startDevServer({
      temporalBin: resolveConfig().temporalBin,
      port,
      headless: true,
      dbFile: path.join(dir, 'temporal.db'),
      logFile: path.join(dir, 'temporal.log'),
    });

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promiseflow-temporal-restart-'));
    port = await freePort();
    server = await start();
    platform = await startTestPlatform('temporal-restart', { temporalAddress: server.address });
    stateStore = await provisionStateStore('git', path.join(platform.dir, 'state-store'));
    const platformYaml = path.join(platform.dir, 'platform.yaml');
    fs.writeFileSync(platformYaml, stateStore.platformYaml);
    expect((await platform.cli(['apply', '-f', platformYaml, '--wait'])).code).toBe(0);
    expect((await platform.cli(['apply', '-f', example('promise.yaml'), '--wait'])).code).toBe(0);
    const requests = Array.from(
      { length: REQUESTS },
      (_, i) =>
        `apiVersion: promise.kratix.io/v1alpha1\nkind: MongoDB\nmetadata:\n  name: db-${i}\nspec:\n  majorVersion: "${4 + (i % 2)}"\n`,
    ).join('---\n');
    expect((await platform.cli(['apply', '-f', '-', '--wait'], requests)).code).toBe(0);
  });

  afterAll(async () => {
    await platform?.stop();
    await server?.stop();
    await stateStore?.stop();
  });

  it('resumes the update from history: every resource upgraded, each committed once', async () => {
    const commitsBefore = (await stateStore.history()).length;
    const handle = await platform.client.temporal.workflow.start('promiseUpdate', {
      taskQueue: platform.config.temporal.taskQueue,
      workflowId: 'promise-update/mongodb',
      args: [
        {
          promise: parse(fs.readFileSync(example('promise-v0.2.0.yaml'), 'utf8')),
          options: { concurrency: 2 },
        },
      ],
    });
    for (let i = 0; i < 600; i++) {
      const p = await handle.query<UpdateProgress>('progress').catch(() => undefined);
      if (p && p.done >= 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await handle.query<UpdateProgress>('progress')).done).toBeLessThan(REQUESTS);

    // No goodbye: the whole server process group dies at once.
    process.kill(-server.pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 3_000));
    server = await start();

    const result = await platform.client.temporal.workflow
      .getHandle('promise-update/mongodb')
      .result();
    expect(result as UpdateProgress).toMatchObject({
      phase: 'done',
      total: REQUESTS,
      done: REQUESTS,
      failed: 0,
    });
    for (let i = 0; i < REQUESTS; i++) {
      expect(
        await stateStore.read(
          `worker-1/resources/default/mongodb/db-${i}/instance-configure/5058f/mongodb-instance.yaml`,
        ),
      ).toContain(i % 2 === 0 ? '4.4.24' : '5.0.15');
    }
    const added = (await stateStore.history()).slice(
      0,
      (await stateStore.history()).length - commitsBefore,
    );
    expect([...added].sort()).toEqual(
      Array.from(
        { length: REQUESTS },
        (_, i) => `Update from: mongodb-db-${i}-instance-configure.worker-1`,
      ).sort(),
    );
  });
});

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPromiseUpdate } from '../../src/client/workflow-starts';
import { PROJECT_ROOT } from '../../src/config';
import type { KratixPromise } from '../../src/model/types';
import { provisionStateStore } from '../../tools/servers/state-store-backends';
import type { ProvisionedStateStore } from '../../tools/servers/state-store-backends';
import { pauseSignal, type UpdateProgress } from '../../src/workflows/promiseUpdate';
import { startTestPlatform } from '../support/platform';
import type { TestPlatform } from '../support/platform';

const examplePath = (f: string) => path.join(PROJECT_ROOT, 'examples', 'mongodb', f);
const example = (f: string) => fs.readFileSync(examplePath(f), 'utf8');

/** A Promise whose own configure workflow always fails, so every update of it fails. */
const BROKEN_PROMISE = `apiVersion: platform.kratix.io/v1alpha1
kind: Promise
metadata:
  name: broken
  labels:
    kratix.io/promise-version: v1.0.0
spec:
  workflows:
    promise:
      configure:
        - apiVersion: platform.kratix.io/v1alpha1
          kind: Pipeline
          metadata:
            name: promise-configure
          spec:
            containers:
              - name: fail
                image: busybox
                command: [sh, -c, 'echo "cannot reach the operator registry" >&2; exit 7']
`;

/** Failed and aborted updates are retried from the CLI (issue 8, behaviour §11). */
describe('retrying updates and reconciles', () => {
  let platform: TestPlatform;
  let stateStore: ProvisionedStateStore;

  const handle = (id: string) => platform.client.temporal.workflow.getHandle(id);
  const runIdOf = async (id: string) => (await handle(id).describe()).runId;

  async function until(check: () => Promise<boolean>, what: string): Promise<void> {
    for (let i = 0; i < 300; i++) {
      if (await check().catch(() => false)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  /** Starts an update of the stored mongodb Promise, holds it before any resource, aborts it. */
  async function abortedUpdate(): Promise<UpdateProgress> {
    const stored = (await platform.client.get('promises', { name: 'mongodb' }))
      .items[0] as KratixPromise;
    const started = await startPromiseUpdate(
      platform.client.temporal,
      { ...platform.config, updateConcurrency: 1 },
      stored,
    );
    // Paused at once (a CLI round trip could come after the last resource), aborted later.
    await started.handle.signal(pauseSignal);
    await until(
      async () => (await handle('promise-update/mongodb').query<UpdateProgress>('progress')).paused,
      'the update to pause',
    );
    const abort = await platform.cli(['abort', 'mongodb']);
    expect(abort.code, abort.stderr).toBe(0);
    return (await handle('promise-update/mongodb').result()) as UpdateProgress;
  }

  beforeAll(async () => {
    platform = await startTestPlatform('retry');
    stateStore = await provisionStateStore('git', path.join(platform.dir, 'state-store'));
    let r = await platform.cli(['apply', '-f', '-', '--wait'], stateStore.platformYaml);
    expect(r.code, r.stderr).toBe(0);
    r = await platform.cli(['apply', '-f', examplePath('promise.yaml'), '--wait']);
    expect(r.code, r.stderr).toBe(0);
    const requests = ['mongo-v4.yaml', 'mongo-v5.yaml', 'mongo-v6.yaml'].map(example);
    r = await platform.cli(['apply', '-f', '-', '--wait'], requests.join('\n---\n'));
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  afterAll(async () => {
    await platform?.stop();
    await stateStore?.stop();
  });

  it('re-applying an unchanged Promise whose last update succeeded starts nothing', async () => {
    const before = await runIdOf('promise-update/mongodb');
    const r = await platform.cli(['apply', '-f', examplePath('promise.yaml')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('promise/mongodb unchanged\n');
    expect(await runIdOf('promise-update/mongodb')).toBe(before);
  });

  it('retry promise starts a new update after an aborted one, which re-runs every resource', async () => {
    const aborted = await abortedUpdate();
    expect(aborted.phase).toBe('aborted');
    expect(aborted.done).toBeLessThan(3);

    const r = await platform.cli(['retry', 'promise', 'mongodb', '--wait']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(
      'promise/mongodb (v0.1.0): retry started (the last update was aborted) [workflow promise-update/mongodb]',
    );
    const result = (await handle('promise-update/mongodb').result()) as UpdateProgress;
    expect(result).toMatchObject({ phase: 'done', total: 3, done: 3, failed: 0 });
  });

  it('refuses to retry a Promise whose last update succeeded, or one that is running', async () => {
    const done = await platform.cli(['retry', 'promise', 'mongodb']);
    expect(done.code).toBe(2);
    expect(done.stderr).toBe(
      'error: Promise "mongodb": expected a Promise whose last update failed or was aborted, got a last update that succeeded (promise-update/mongodb)\n',
    );

    const stored = (await platform.client.get('promises', { name: 'mongodb' }))
      .items[0] as KratixPromise;
    const started = await startPromiseUpdate(platform.client.temporal, platform.config, stored);
    await started.handle.signal(pauseSignal);
    const running = await platform.cli(['retry', 'promise', 'mongodb']);
    expect(running.code).toBe(2);
    expect(running.stderr).toContain(
      'got an update still running (promise-update/mongodb; abort it first)',
    );
    expect((await platform.cli(['resume', 'mongodb'])).code).toBe(0);
    await handle('promise-update/mongodb').result();
  });

  it('re-applying an unchanged Promise whose last update was aborted starts a new update', async () => {
    expect((await abortedUpdate()).phase).toBe('aborted');
    const abortedRun = await runIdOf('promise-update/mongodb');

    const r = await platform.cli(['apply', '-f', examplePath('promise.yaml'), '--wait']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(
      'promise/mongodb unchanged; the last update was aborted: starting a new update (workflow promise-update/mongodb)',
    );
    expect(await runIdOf('promise-update/mongodb')).not.toBe(abortedRun);
    const result = (await handle('promise-update/mongodb').result()) as UpdateProgress;
    expect(result).toMatchObject({ phase: 'done', done: 3, failed: 0 });
  });

  it('retries a failed update (retry, and re-apply), naming why the last one failed', async () => {
    const first = await platform.cli(['apply', '-f', '-', '--wait'], BROKEN_PROMISE);
    expect(first.code).toBe(1);
    const failedRun = await runIdOf('promise-update/broken');

    const retried = await platform.cli(['retry', 'promise', 'broken', '--wait']);
    expect(retried.stdout).toContain(
      'promise/broken (v1.0.0): retry started (the last update failed: Promise configure workflow failed:',
    );
    expect(retried.stdout).toMatch(/\[workflow promise-update\/broken\]/);
    const retriedRun = await runIdOf('promise-update/broken');
    expect(retriedRun).not.toBe(failedRun);
    expect((await handle('promise-update/broken').describe()).status.name).toBe('FAILED');

    const reapplied = await platform.cli(['apply', '-f', '-'], BROKEN_PROMISE);
    expect(reapplied.code, reapplied.stderr).toBe(0);
    expect(reapplied.stdout).toMatch(
      /^promise\/broken unchanged; the last update failed: Promise configure workflow failed: .*: starting a new update \(workflow promise-update\/broken\)\n$/,
    );
    expect(await runIdOf('promise-update/broken')).not.toBe(retriedRun);
  });

  it("retry KIND NAME re-runs one resource request's reconcile", async () => {
    const id = 'resource-reconcile/mongodb/default/mongo-v5';
    const before = await runIdOf(id);
    const r = await platform.cli(['retry', 'mongodbs', 'mongo-v5', '-n', 'default', '--wait']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`mongodb/default/mongo-v5: retry started [workflow ${id}]`);
    expect(r.stdout).toContain('mongodb/default/mongo-v5: done');
    expect(await runIdOf(id)).not.toBe(before);
  });

  it('refuses to retry a resource that does not exist, or a kind that is not retried', async () => {
    const missing = await platform.cli(['retry', 'mongodbs', 'mongo-v9']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(
      'error: MongoDB "mongo-v9": expected an existing object, got not found\n',
    );
    const kind = await platform.cli(['retry', 'destinations', 'worker-1']);
    expect(kind.code).toBe(2);
    expect(kind.stderr).toBe(
      'error: KIND: expected promise, or the kind of a Promise API (e.g. mongodbs), got destinations\n',
    );
  });
});

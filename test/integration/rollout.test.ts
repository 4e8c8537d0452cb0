import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import type { KratixObject } from '../../src/model/types';
import type { UpdateProgress } from '../../src/workflows/promiseUpdate';
import { recordHistories } from '../../tools/record-histories';
import { startTestPlatform, type TestPlatform } from '../support/platform';
import { kindOf, shPromise } from '../support/sh-promise';
import { destinationYaml, storeUnderTest, type StoreUnderTest } from '../support/stores-under-test';

const CANARY = 'rollout.promiseflow.io/canary';

/** A pipeline that fails for the names given, and writes `config.yaml` at `version` otherwise. */
function failingFor(version: string, names: string[]): string {
  const cases = names.length
    ? `case "$KRATIX_OBJECT_NAME" in ${names.join('|')}) echo "refusing $KRATIX_OBJECT_NAME" >&2; exit 3;; esac\n`
    : '';
  return `${cases}printf 'name: %s\\nversion: ${version}\\n' "$KRATIX_OBJECT_NAME" > /kratix/output/config.yaml`;
}

/**
 * Rollout policies end to end (issue 11): a canary that fails halts the rollout before
 * anything else moves; a failure budget halts at the first failure past it; a breach
 * with `onFailure: rollback` returns every moved resource to the previous revision
 * byte for byte; an approval gate waits for `approve`, also across a killed worker.
 */
describe.each(['git', 's3'] as const)('rollout policies on %s', (kind) => {
  let platform: TestPlatform;
  let store: StoreUnderTest;
  let worker: ChildProcess;
  let temporal: (args: string[]) => Promise<string>;

  const fileOf = (promise: string, name: string) =>
    `dev/resources/default/${promise}/${name}/render/5058f/config.yaml`;
  const content = (name: string, version: string) => `name: ${name}\nversion: ${version}\n`;

  async function cli(args: string[], input?: string): Promise<string> {
    const r = await platform.cli(args, input);
    expect(r.code, `promiseflow ${args.join(' ')}\n${r.stdout}${r.stderr}`).toBe(0);
    return r.stdout;
  }

  /** Installs `promise` at v1 with `names` as requests (some labelled canary), all at v1. */
  async function install(promise: string, names: string[], canary: string[] = []): Promise<void> {
    await cli(['apply', '-f', '-', '--wait'], shPromise({ name: promise, version: 'v1' }));
    const docs = names.map((n) =>
      YAML.stringify({
        apiVersion: 'example.promiseflow.io/v1alpha1',
        kind: kindOf(promise),
        metadata: { name: n, ...(canary.includes(n) ? { labels: { [CANARY]: 'true' } } : {}) },
        spec: { team: 'a' },
      }),
    );
    await cli(['apply', '-f', '-', '--wait'], docs.join('---\n'));
    for (const n of names) await expectAt(promise, n, 'v1');
  }

  async function expectAt(promise: string, name: string, version: string): Promise<void> {
    expect((await store.readBytes(fileOf(promise, name)))?.toString(), name).toBe(
      content(name, version),
    );
  }

  const handle = (promise: string) =>
    platform.client.temporal.workflow.getHandle(`promise-update/${promise}`);
  const progress = (promise: string) => handle(promise).query<UpdateProgress>('progress');
  async function until(check: () => Promise<boolean>, what: string): Promise<void> {
    for (let i = 0; i < 600; i++) {
      if (await check().catch(() => false)) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`timed out waiting for ${what}`);
  }
  async function promiseObject(name: string): Promise<KratixObject> {
    return JSON.parse(await cli(['get', 'promise', name, '-o', 'json'])) as KratixObject;
  }
  function conditionOf(obj: KratixObject, type: string) {
    return (
      obj.status?.conditions as { type: string; status: string; reason: string; message: string }[]
    ).find((c) => c.type === type);
  }
  /** Each resource's reconcile runs started by this update (children marked with it). */
  async function childRuns(promise: string): Promise<Map<string, number>> {
    const runs = new Map<string, number>();
    for await (const w of platform.client.temporal.workflow.list({
      // Both store kinds share the dev server (and workflow ids): this platform's queue only.
      query: `ParentUpdate = "promise-update/${promise}" AND TaskQueue = "${platform.config.temporal.taskQueue}"`,
    })) {
      runs.set(w.workflowId, (runs.get(w.workflowId) ?? 0) + 1);
    }
    return runs;
  }

  beforeAll(async () => {
    platform = await startTestPlatform(`rollout-${kind}`, { inProcessWorker: false });
    worker = platform.spawnWorker();
    temporal = (args) => platform.temporal(args);
    store = await storeUnderTest(kind, path.join(platform.dir, 'store'));
    const platformYaml = path.join(platform.dir, 'platform.yaml');
    fs.writeFileSync(platformYaml, `${store.storeYaml}---\n${destinationYaml(store, 'dev')}`);
    await cli(['apply', '-f', platformYaml, '--wait']);
  });

  afterAll(async () => {
    // `PROMISEFLOW_RECORD_HISTORIES=test/fixtures/histories`: keep these rollouts' update
    // histories (halt, rollback, gates, hand-over) for the replay test.
    const record = process.env.PROMISEFLOW_RECORD_HISTORIES;
    if (record && platform) {
      await recordHistories(
        platform.client.temporal,
        record,
        `WorkflowType = 'promiseUpdate' AND TaskQueue = '${platform.config.temporal.taskQueue}'`,
      );
    }
    worker?.kill('SIGKILL');
    await platform?.stop();
    await store?.stop();
  });

  it('halts when the canary fails, before any other resource moves', async () => {
    const names = ['c-0', 'c-1', 'c-2', 'c-3'];
    await install('canary', names, ['c-2']);
    const v2 = shPromise({
      name: 'canary',
      version: 'v2',
      resourceScript: failingFor('v2', ['c-2']),
    });
    const r = await platform.cli(['apply', '-f', '-', '--canary', `${CANARY}=true`, '--wait'], v2);
    expect(r.code).toBe(1);
    const p = (await handle('canary').result()) as UpdateProgress;
    expect(p.phase).toBe('halted');
    expect(p.rollout?.haltReason).toContain('canary batch failed');
    expect(p.done + p.failed).toBe(1);
    for (const n of ['c-0', 'c-1', 'c-3']) await expectAt('canary', n, 'v1');
    const cond = conditionOf(await promiseObject('canary'), 'RolloutSucceeded');
    expect(cond).toMatchObject({ status: 'False', reason: 'RolloutHalted' });
    expect(cond?.message).toContain('canary');
    expect(await cli(['status', 'canary'])).toContain('halted: the canary batch failed');
  });

  it('halts at the third failure with a budget of two (started from the temporal CLI)', async () => {
    const names = ['b-0', 'b-1', 'b-2', 'b-3', 'b-4', 'b-5', 'b-6'];
    await install('budget', names);
    const v2 = YAML.parse(
      shPromise({
        name: 'budget',
        version: 'v2',
        resourceScript: failingFor('v2', ['b-1', 'b-2', 'b-4', 'b-5']),
      }),
    ) as object;
    const input = path.join(platform.dir, 'budget.json');
    fs.writeFileSync(
      input,
      JSON.stringify({
        promise: v2,
        options: { rollout: { batchSize: 1, maxConcurrency: 1, maxFailures: 2 } },
      }),
    );
    await temporal([
      'workflow',
      'start',
      '--type',
      'promiseUpdate',
      '--task-queue',
      platform.config.temporal.taskQueue,
      '--workflow-id',
      'promise-update/budget',
      '--input-file',
      input,
    ]);
    const p = (await handle('budget').result()) as UpdateProgress;
    expect(p.phase).toBe('halted');
    expect(p.failed).toBe(3);
    expect(p.rollout?.haltReason).toBe('3 resource(s) failed, more than maxFailures (2)');
    // Store order: b-0 ok, b-1 ✗, b-2 ✗, b-3 ok, b-4 ✗ (third): b-5 and b-6 never moved.
    await expectAt('budget', 'b-0', 'v2');
    await expectAt('budget', 'b-3', 'v2');
    for (const n of ['b-5', 'b-6']) await expectAt('budget', n, 'v1');
    expect([...(await childRuns('budget')).keys()].sort()).toEqual(
      ['b-0', 'b-1', 'b-2', 'b-3', 'b-4'].map((n) => `resource-reconcile/budget/default/${n}`),
    );
    const query = JSON.parse(
      await temporal([
        'workflow',
        'query',
        '--workflow-id',
        'promise-update/budget',
        '--type',
        'progress',
        '--output',
        'json',
      ]),
    ) as { queryResult: UpdateProgress[] };
    expect(query.queryResult[0]!.rollout?.haltReason).toContain('maxFailures');
  });

  it('halts a batch still running past its progress deadline, leaving the rest alone', async () => {
    const names = ['d-0', 'd-1', 'd-2'];
    await install('deadline', names);
    const slow = shPromise({
      name: 'deadline',
      version: 'v2',
      resourceScript: `sleep 4\n${failingFor('v2', [])}`,
    });
    const r = await platform.cli(
      ['apply', '-f', '-', '--progress-deadline', '2s', '--max-concurrency', '1', '--wait'],
      slow,
    );
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain(
      'FAILED (rollout halted: batch 1 did not finish within its progress deadline (2s))',
    );
    const p = (await handle('deadline').result()) as UpdateProgress;
    expect(p).toMatchObject({ phase: 'halted', failed: 0, done: 1 });
    // The re-run in flight finished (nothing is cut short); the others never started.
    await expectAt('deadline', 'd-0', 'v2');
    for (const n of ['d-1', 'd-2']) await expectAt('deadline', n, 'v1');
  });

  it('rolls every moved resource back to the previous revision, files byte-identical', async () => {
    const names = ['r-0', 'r-1', 'r-2', 'r-3', 'r-4', 'r-5'];
    await install('rb', names);
    const before = new Map<string, Buffer | undefined>();
    for (const f of await store.files('dev/')) before.set(f, await store.readBytes(f));
    // The policy is an object of its own API group, applied like any other.
    await cli(
      ['apply', '-f', '-'],
      YAML.stringify({
        apiVersion: 'promiseflow.io/v1alpha1',
        kind: 'RolloutPolicy',
        metadata: { name: 'careful' },
        spec: {
          promiseNames: ['rb'],
          batchSize: 2,
          maxConcurrency: 1,
          maxFailures: 0,
          onFailure: 'rollback',
        },
      }),
    );
    expect(await cli(['get', 'rolloutpolicies'])).toContain('careful');
    const v2 = shPromise({ name: 'rb', version: 'v2', resourceScript: failingFor('v2', ['r-3']) });
    expect((await platform.cli(['apply', '-f', '-', '--wait'], v2)).code).toBe(1);
    const p = (await handle('rb').result()) as UpdateProgress;
    expect(p.phase).toBe('rolled-back');
    expect(p.rollout).toMatchObject({ state: 'rolled-back', rolledBack: 4, rollbackFailed: 0 });
    // Every file as before the update, byte for byte, and no file more or less.
    const after = new Map<string, Buffer | undefined>();
    for (const f of await store.files('dev/')) after.set(f, await store.readBytes(f));
    expect([...after.keys()]).toEqual([...before.keys()]);
    for (const [f, bytes] of before) expect(after.get(f)?.equals(bytes!), f).toBe(true);
    // The bindings say so; r-4 and r-5 were never touched.
    const bindings = JSON.parse(await cli(['get', 'resourcebindings', '-o', 'json'])) as {
      items: KratixObject[];
    };
    const of = (n: string) => bindings.items.find((b) => b.metadata.name === `${n}-rb`)!;
    expect(of('r-0').status).toMatchObject({ lastAppliedVersion: 'v1', rolledBackFrom: 'v2' });
    expect(of('r-4').status?.rolledBackFrom).toBeUndefined();
    const promise = await promiseObject('rb');
    expect(conditionOf(promise, 'RolloutSucceeded')).toMatchObject({
      status: 'False',
      reason: 'RolledBack',
    });
    // Until the next update, a new request follows the version the rollout returned to.
    await cli(
      ['apply', '-f', '-', '--wait'],
      YAML.stringify({
        apiVersion: 'example.promiseflow.io/v1alpha1',
        kind: kindOf('rb'),
        metadata: { name: 'r-new' },
        spec: { team: 'a' },
      }),
    );
    await expectAt('rb', 'r-new', 'v1');
  });

  it('finishes a rollback after the worker is killed in the middle of it, no resource run twice', async () => {
    const names = ['k-0', 'k-1', 'k-2', 'k-3'];
    // v1 is slow to render, so the rollback (which runs v1 again) is long enough to be cut.
    await cli(
      ['apply', '-f', '-', '--wait'],
      shPromise({
        name: 'kill',
        version: 'v1',
        resourceScript: `sleep 2\n${failingFor('v1', [])}`,
      }),
    );
    await cli(
      ['apply', '-f', '-', '--wait'],
      names
        .map((n) =>
          YAML.stringify({
            apiVersion: 'example.promiseflow.io/v1alpha1',
            kind: kindOf('kill'),
            metadata: { name: n },
            spec: { team: 'a' },
          }),
        )
        .join('---\n'),
    );
    const v2 = shPromise({
      name: 'kill',
      version: 'v2',
      resourceScript: failingFor('v2', ['k-2']),
    });
    await cli(
      [
        'apply',
        '-f',
        '-',
        '--batch-size',
        '2',
        '--max-concurrency',
        '1',
        '--max-failures',
        '0',
        '--on-failure',
        'rollback',
      ],
      v2,
    );
    await until(async () => (await progress('kill')).phase === 'rolling-back', 'the rollback');
    worker.kill('SIGKILL');
    worker = platform.spawnWorker();
    const p = (await handle('kill').result()) as UpdateProgress;
    expect(p.phase).toBe('rolled-back');
    expect(p.rollout).toMatchObject({ rolledBack: 3, rollbackFailed: 0 });
    for (const n of names) await expectAt('kill', n, 'v1');
    // One forward run and one rollback run for each moved resource (k-0, k-1, k-2), none for k-3.
    const expected = new Map(
      ['k-0', 'k-1', 'k-2'].map((n) => [`resource-reconcile/kill/default/${n}`, 2]),
    );
    await until(
      async () =>
        JSON.stringify([...(await childRuns('kill'))].sort()) ===
        JSON.stringify([...expected].sort()),
      `runs ${JSON.stringify([...expected])}`,
    );
  });

  it('waits at approval gates, across a killed worker, with each resource run once', async () => {
    const names = ['g-0', 'g-1', 'g-2', 'g-3', 'g-4'];
    await install('gate', names);
    const v2 = shPromise({ name: 'gate', version: 'v2' });
    await cli(
      ['apply', '-f', '-', '--canary', '1', '--batch-size', '2', '--approval', 'everyBatch'],
      v2,
    );
    await until(
      async () => (await progress('gate')).rollout?.state === 'awaiting-approval',
      'gate 1',
    );
    for (const n of names) await expectAt('gate', n, 'v1');
    expect(await cli(['status', 'gate'])).toContain('awaiting-approval');
    // A wrong batch is refused at once, and nothing changes.
    const wrong = await platform.cli(['approve', 'gate', '--batch', '3']);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain('batch 3 is not waiting for approval');
    await cli(['approve', 'gate', '--batch', '1', '--by', 'alice']);
    await until(async () => {
      const p = await progress('gate');
      return p.rollout?.state === 'awaiting-approval' && p.rollout.batch === 2;
    }, 'gate 2');
    await expectAt('gate', 'g-0', 'v2');
    for (const n of ['g-1', 'g-2', 'g-3', 'g-4']) await expectAt('gate', n, 'v1');
    // The worker dies at the batch boundary; a new one picks the rollout up where it was.
    worker.kill('SIGKILL');
    worker = platform.spawnWorker();
    // The temporal CLI approves too (a Temporal Update named `approve`).
    await temporal([
      'workflow',
      'update',
      'execute',
      '--workflow-id',
      'promise-update/gate',
      '--name',
      'approve',
      '--input',
      JSON.stringify({ batch: 2, by: 'bob' }),
    ]);
    await until(async () => {
      const p = await progress('gate');
      return p.rollout?.state === 'awaiting-approval' && p.rollout.batch === 3;
    }, 'gate 3');
    for (const n of ['g-1', 'g-2']) await expectAt('gate', n, 'v2');
    for (const n of ['g-3', 'g-4']) await expectAt('gate', n, 'v1');
    await cli(['approve', 'gate']);
    const p = (await handle('gate').result()) as UpdateProgress;
    expect(p.phase).toBe('done');
    expect(p.rollout?.approvals).toEqual(
      [
        { batch: 1, by: 'alice' },
        { batch: 2, by: 'bob' },
        { batch: 3, by: process.env.USER },
      ].map((a) => (a.by ? a : { batch: a.batch })),
    );
    for (const n of names) await expectAt('gate', n, 'v2');
    await until(
      async () => [...(await childRuns('gate')).values()].length === names.length,
      'visibility',
    );
    expect([...(await childRuns('gate')).values()]).toEqual(names.map(() => 1));
    // A finished rollout refuses approval.
    const late = await platform.cli(['approve', 'gate']);
    expect(late.code).not.toBe(0);
  });

  it('hands a running rollout over to a newer spec without cutting any resource short', async () => {
    const names = ['s-0', 's-1', 's-2', 's-3', 's-4', 's-5'];
    await install('sup', names);
    const slow = (v: string) =>
      shPromise({ name: 'sup', version: v, resourceScript: `sleep 1\n${failingFor(v, [])}` });
    await cli(['apply', '-f', '-', '--max-concurrency', '1'], slow('v2'));
    await until(async () => (await progress('sup')).done >= 1, 'one resource at v2');
    await cli(['apply', '-f', '-'], slow('v3'));
    await until(
      async () =>
        (await handle('sup').describe()).status.name === 'COMPLETED' &&
        (await progress('sup')).version === 'v3',
      'v3 done',
    ).catch(async (err: Error) => {
      // Where the update stands, for whoever reads the failure.
      const history = await handle('sup').fetchHistory();
      const last = (history.events ?? []).slice(-12).map((e) => JSON.stringify(e).slice(0, 300));
      throw new Error(`${err.message}\n${last.join('\n')}`);
    });
    for (const n of names) await expectAt('sup', n, 'v3');
    // No resource run was terminated: the first update handed over by continue-as-new.
    for await (const w of platform.client.temporal.workflow.list({
      query: `WorkflowId STARTS_WITH "resource-reconcile/sup/" AND ExecutionStatus = "Terminated" AND TaskQueue = "${platform.config.temporal.taskQueue}"`,
    })) {
      throw new Error(`${w.workflowId} was terminated`);
    }
    const runs: string[] = [];
    for await (const w of platform.client.temporal.workflow.list({
      query: `WorkflowId = "promise-update/sup" AND TaskQueue = "${platform.config.temporal.taskQueue}"`,
    })) {
      runs.push(w.status.name);
    }
    expect(runs).toContain('CONTINUED_AS_NEW');
    expect(runs).not.toContain('TERMINATED');
  });
});

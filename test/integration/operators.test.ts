import * as fs from 'node:fs';
import * as path from 'node:path';
import { simpleGit } from 'simple-git';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config';
import type { UpdateProgress } from '../../src/workflows/promiseUpdate';
import { renderExample, startTestPlatform } from '../support/platform';
import type { TestPlatform } from '../support/platform';

/** Operators drive updates with the `temporal` CLI and with promiseflow's own CLI (behaviour §8). */
describe('operating a Promise update', () => {
  let platform: TestPlatform;
  let temporalArgs: (args: string[]) => Promise<string>;
  const example = (f: string) => path.join(PROJECT_ROOT, 'examples', 'mongodb', f);

  async function progress(): Promise<UpdateProgress> {
    return platform.client.temporal.workflow
      .getHandle('promise-update/mongodb')
      .query<UpdateProgress>('progress');
  }
  async function until(check: () => Promise<boolean>, what: string): Promise<void> {
    for (let i = 0; i < 300; i++) {
      if (await check().catch(() => false)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${what}`);
  }
  function promiseJson(file: string, options?: object): string {
    const out = path.join(platform.dir, `${path.basename(file)}.json`);
    fs.writeFileSync(
      out,
      JSON.stringify({ promise: parse(fs.readFileSync(file, 'utf8')), options }),
    );
    return out;
  }

  /** `temporal workflow start --type promiseUpdate … --input-file promise.json` */
  async function startFromTemporalCli(inputFile: string): Promise<void> {
    await temporalArgs([
      'workflow',
      'start',
      '--type',
      'promiseUpdate',
      '--task-queue',
      platform.config.temporal.taskQueue,
      '--workflow-id',
      'promise-update/mongodb',
      '--input-file',
      inputFile,
    ]);
  }

  beforeAll(async () => {
    platform = await startTestPlatform('operators');
    temporalArgs = (args) => platform.temporal(args);
    const repo = path.join(platform.dir, 'state.git');
    await simpleGit().init(true, [repo, '--initial-branch=main']);
    const platformYaml = path.join(platform.dir, 'platform.yaml');
    fs.writeFileSync(
      platformYaml,
      renderExample('examples/mongodb/platform.yaml', { STATE_STORE_URL: `file://${repo}` }),
    );
    expect((await platform.cli(['apply', '-f', platformYaml, '--wait'])).code).toBe(0);
    expect((await platform.cli(['apply', '-f', example('promise.yaml'), '--wait'])).code).toBe(0);
    const requests = ['mongo-v4', 'mongo-v5', 'mongo-v6']
      .map((n) => fs.readFileSync(example(`${n}.yaml`), 'utf8'))
      .concat(
        ['a', 'b', 'c'].map(
          (x) =>
            `apiVersion: promise.kratix.io/v1alpha1\nkind: MongoDB\nmetadata:\n  name: extra-${x}\nspec:\n  majorVersion: "4"\n`,
        ),
      )
      .join('---\n');
    const r = await platform.cli(['apply', '-f', '-', '--wait'], requests);
    expect(r.code, r.stderr).toBe(0);
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('starts an update from the temporal CLI alone with the Promise as JSON, and answers describe and query', async () => {
    await startFromTemporalCli(promiseJson(example('promise-v0.2.0.yaml')));
    await temporalArgs(['workflow', 'result', '--workflow-id', 'promise-update/mongodb']);
    const described = await temporalArgs([
      'workflow',
      'describe',
      '--workflow-id',
      'promise-update/mongodb',
      '--output',
      'json',
    ]);
    expect(described).toContain('"status": "WORKFLOW_EXECUTION_STATUS_COMPLETED"');
    expect(described).toContain('PromiseVersion');
    const query = JSON.parse(
      await temporalArgs([
        'workflow',
        'query',
        '--workflow-id',
        'promise-update/mongodb',
        '--type',
        'progress',
        '--output',
        'json',
      ]),
    );
    const result = (query.queryResult ?? query)[0] as UpdateProgress;
    expect(result).toMatchObject({
      promiseName: 'mongodb',
      version: 'v0.2.0',
      phase: 'done',
      total: 6,
      done: 6,
      failed: 0,
    });
    expect((await platform.cli(['get', 'mongodbs', 'mongo-v5'])).stdout).toMatch(
      /mongodb version: 5\.0\.15/,
    );
    const listed = await temporalArgs([
      'workflow',
      'list',
      '--query',
      `PromiseName = 'mongodb' AND WorkflowType = 'promiseUpdate'`,
    ]);
    expect(listed).toContain('promise-update/mongodb');
    // Children carry their update, so a list can group them, or leave them out.
    const children = await temporalArgs([
      'workflow',
      'list',
      '--query',
      `ParentUpdate = 'promise-update/mongodb' AND TaskQueue = '${platform.config.temporal.taskQueue}'`,
    ]);
    expect(children.match(/resource-reconcile\/mongodb\/default\/\S+/g)?.sort()).toEqual(
      ['extra-a', 'extra-b', 'extra-c', 'mongo-v4', 'mongo-v5', 'mongo-v6'].map(
        (n) => `resource-reconcile/mongodb/default/${n}`,
      ),
    );
    const updatesOnly = await temporalArgs([
      'workflow',
      'list',
      '--query',
      `WorkflowType = 'promiseUpdate' AND TaskQueue = '${platform.config.temporal.taskQueue}'`,
    ]);
    expect(updatesOnly).toContain('promise-update/mongodb');
    expect(updatesOnly).not.toContain('promise-update/mongodb/');
  });

  it('pauses and resumes an update from the promiseflow CLI', async () => {
    await startFromTemporalCli(promiseJson(example('promise.yaml'), { concurrency: 1 }));
    expect((await platform.cli(['pause', 'mongodb'])).code).toBe(0);
    await until(async () => (await progress()).paused, 'the update to pause');
    await until(
      async () => (await progress()).running === 0 && (await progress()).phase === 'resources',
      'in-flight re-runs to finish',
    );
    const held = await progress();
    await new Promise((r) => setTimeout(r, 2000));
    expect((await progress()).done).toBe(held.done);
    expect(held.done).toBeLessThan(6);
    const status = await platform.cli(['status']);
    expect(status.stdout).toMatch(
      /promise-update\/mongodb\s+mongodb v0\.1\.0\s+resources \(paused\)/,
    );
    // Where the temporal CLI looks: the list's UpdatePhase, and the current details.
    await until(
      async () =>
        (
          await temporalArgs([
            'workflow',
            'list',
            '--query',
            `UpdatePhase = 'paused' AND TaskQueue = '${platform.config.temporal.taskQueue}'`,
          ])
        ).includes('promise-update/mongodb'),
      'the list to say paused',
    );
    const metadata = await temporalArgs([
      'workflow',
      'metadata',
      '--workflow-id',
      'promise-update/mongodb',
    ]);
    expect(metadata).toContain(`phase **paused** · **${held.done} of 6 done**`);
    expect(metadata).toContain('Paused: no new resource re-runs start until `resume`.');
    expect((await platform.cli(['resume', 'mongodb'])).code).toBe(0);
    const result = (await platform.client.temporal.workflow
      .getHandle('promise-update/mongodb')
      .result()) as UpdateProgress;
    expect(result).toMatchObject({ phase: 'done', done: 6, failed: 0 });
  });

  it('aborts an update after the re-runs in flight, recording it on the Promise', async () => {
    await startFromTemporalCli(promiseJson(example('promise-v0.2.0.yaml'), { concurrency: 1 }));
    // Hold it first so the abort surely lands mid-update.
    expect((await platform.cli(['pause', 'mongodb'])).code).toBe(0);
    await until(async () => (await progress()).paused, 'the update to pause');
    expect((await platform.cli(['abort', 'mongodb'])).code).toBe(0);
    const result = (await platform.client.temporal.workflow
      .getHandle('promise-update/mongodb')
      .result()) as UpdateProgress;
    expect(result.phase).toBe('aborted');
    expect(result.done).toBeLessThan(6);
    const promise = (await platform.client.get('promises', { name: 'mongodb' })).items[0]!;
    const conditions = promise.status?.conditions as { type: string; message: string }[];
    expect(conditions.find((c) => c.type === 'ConfigureWorkflowCompleted')?.message).toContain(
      'aborted',
    );
  });

  it('continues as new every few children on a big fleet, carrying its cursor and counts', async () => {
    const input = JSON.parse(
      fs.readFileSync(promiseJson(example('promise-v0.2.0.yaml')), 'utf8'),
    ) as object;
    const handle = await platform.client.temporal.workflow.start('promiseUpdate', {
      taskQueue: platform.config.temporal.taskQueue,
      workflowId: 'promise-update/mongodb',
      args: [{ ...input, options: { concurrency: 2, pageSize: 2, childrenPerRun: 2 } }],
    });
    const result = (await handle.result()) as UpdateProgress;
    expect(result).toMatchObject({ phase: 'done', total: 6, done: 6, failed: 0 });
    const continued: string[] = [];
    for await (const wf of platform.client.temporal.workflow.list({
      query: `WorkflowId = 'promise-update/mongodb' AND ExecutionStatus = 'ContinuedAsNew' AND StartTime >= '${new Date(Date.now() - 120_000).toISOString()}'`,
    })) {
      continued.push(wf.runId);
    }
    // 6 resources, 2 per run: two runs continued as new before the last one finished.
    expect(continued.length).toBe(2);
  });
});

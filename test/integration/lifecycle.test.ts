import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config';
import { provisionStateStore } from '../../tools/servers/state-store-backends';
import type { ProvisionedStateStore } from '../../tools/servers/state-store-backends';
import type { Condition } from '../../src/model/types';
import { startTestPlatform } from '../support/platform';
import type { TestPlatform } from '../support/platform';

const example = (f: string) =>
  fs.readFileSync(path.join(PROJECT_ROOT, 'examples', 'mongodb', f), 'utf8');
const instance = (name: string) =>
  `worker-1/resources/default/mongodb/${name}/instance-configure/5058f/mongodb-instance.yaml`;

/** Resource requests through their whole life (behaviour §3, issue 3 "Lifecycle and status"). */
describe('resource request lifecycle', () => {
  let platform: TestPlatform;
  let stateStore: ProvisionedStateStore;

  beforeAll(async () => {
    platform = await startTestPlatform('lifecycle');
    stateStore = await provisionStateStore('git', path.join(platform.dir, 'state-store'));
    const r = await platform.cli(['apply', '-f', '-', '--wait'], stateStore.platformYaml);
    expect(r.code, r.stderr).toBe(0);
  });

  afterAll(async () => {
    await platform?.stop();
    await stateStore?.stop();
  });

  it('accepts a Promise and its requests in one file: the requests wait until the Promise is available', async () => {
    const bundle = [
      example('promise.yaml'),
      example('mongo-v4.yaml'),
      example('mongo-v6.yaml'),
    ].join('\n---\n');
    const r = await platform.cli(['apply', '-f', '-', '--wait'], bundle);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(await stateStore.read(instance('mongo-v4'))).toContain('4.4.23');
    expect(await stateStore.read(instance('mongo-v6'))).toContain('6.0.10');
    const request = (await platform.client.get('mongodbs', { name: 'mongo-v4' })).items[0]!;
    const conditions = request.status?.conditions as Condition[];
    expect(conditions.find((c) => c.type === 'ConfigureWorkflowCompleted')).toMatchObject({
      status: 'True',
      reason: 'PipelinesExecutedSuccessfully',
    });
    expect(conditions.find((c) => c.type === 'Reconciled')).toMatchObject({ status: 'True' });
    expect(request.status).toMatchObject({ message: 'mongodb version: 4.4.23', version: '4.4.23' });
    // Its first run (the creation's; the update's re-run came after it, under the same id)
    // did wait, in the workflow: it asked, slept on a durable timer, and asked again.
    const id = 'resource-reconcile/mongodb/default/mongo-v4';
    const runs = [];
    for await (const wf of platform.client.temporal.workflow.list({
      query: `WorkflowId = '${id}' AND TaskQueue = '${platform.config.temporal.taskQueue}'`,
    })) {
      runs.push(wf);
    }
    const firstRun = runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime())[0]!;
    expect(firstRun.parentExecution).toBeUndefined();
    const history = await platform.client.temporal.workflow
      .getHandle(id, firstRun.runId)
      .fetchHistory();
    const events = history.events ?? [];
    // The binding is looked at again after each wait (a local activity: a marker each).
    const prepares = events.filter((e) => {
      const marker = e.markerRecordedEventAttributes;
      const data = marker?.details?.data?.payloads?.[0]?.data;
      return (
        marker?.markerName === 'core_local_activity' &&
        data !== undefined &&
        data !== null &&
        JSON.parse(Buffer.from(data).toString('utf8')).activity_type === 'prepareResourceReconcile'
      );
    });
    expect(prepares.length).toBeGreaterThan(1);
    expect(events.some((e) => e.timerStartedEventAttributes)).toBe(true);
  });

  it('re-runs a request whose spec changes, and does nothing for an unchanged re-apply', async () => {
    const changed = example('mongo-v4.yaml').replace(
      /majorVersion: ['"]?4['"]?/,
      'majorVersion: "5"',
    );
    const r = await platform.cli(['apply', '-f', '-', '--wait'], changed);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('mongodb/default/mongo-v4 configured');
    expect(await stateStore.read(instance('mongo-v4'))).toContain('5.0.14');

    const again = await platform.cli(['apply', '-f', '-', '--wait'], changed);
    expect(again.stdout).toContain('mongodb/default/mongo-v4 unchanged');
    expect(again.stdout).not.toContain('workflow');
  });

  it('deletes a request with its Works, placements and files, leaving the others', async () => {
    const r = await platform.cli(['delete', 'mongodbs', 'mongo-v4', '--wait']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(await stateStore.read(instance('mongo-v4'))).toBeUndefined();
    expect(await stateStore.read(instance('mongo-v6'))).toContain('6.0.10');
    expect(
      (await platform.client.get('works', { labelSelector: 'kratix.io/resource-name=mongo-v4' }))
        .items,
    ).toEqual([]);
    expect(
      (await platform.client.get('resourcebindings')).items.map((b) => b.metadata.name),
    ).toEqual(['mongo-v6-mongodb']);
    expect((await stateStore.history())[0]).toBe(
      'Delete from: mongodb-mongo-v4-instance-configure.worker-1',
    );
  });

  it('stops an update whose Promise configure workflow fails, with a clear reason, before any resource re-runs', async () => {
    const broken = example('promise-v0.2.0.yaml').replace(
      /command:\n(\s+)- sh\n\s+- -c\n\s+- \|\n/,
      (m, indent: string) => `${m}${indent}  echo "operator manifest missing" >&2; exit 3\n`,
    );
    expect(broken).toContain('exit 3');
    const r = await platform.cli(['apply', '-f', '-', '--wait'], broken);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'Promise configure workflow failed: pipeline "promise-configure" container "operator-dependencies" failed: exited with code 3',
    );
    const promise = (await platform.client.get('promises', { name: 'mongodb' })).items[0]!;
    expect(
      (promise.status?.conditions as Condition[]).find(
        (c) => c.type === 'ConfigureWorkflowCompleted',
      ),
    ).toMatchObject({
      status: 'False',
      reason: 'ConfigureWorkflowFailed',
    });
    // mongo-v6 was not re-run at v0.2.0.
    const binding = (await platform.client.get('resourcebindings', { name: 'mongo-v6-mongodb' }))
      .items[0]!;
    expect(binding.status?.lastAppliedVersion).toBe('v0.1.0');
  });

  it('flags the placements of a deleted Destination misplaced and leaves their files', async () => {
    const r = await platform.cli(['delete', 'destinations', 'worker-1', '--wait']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const placements = (
      await platform.client.get('workplacements', {
        labelSelector: 'kratix.io/targetDestinationName=worker-1',
      })
    ).items;
    expect(placements.length).toBeGreaterThan(0);
    for (const p of placements) expect(p.metadata.labels?.['kratix.io/misplaced']).toBe('true');
    expect(await stateStore.read(instance('mongo-v6'))).toContain('6.0.10');
    // Nothing else matches (platform-cluster only takes work that asks for it): it waits.
    const log = fs.readFileSync(platform.logFile, 'utf8');
    expect(log).toContain('no Destinations can be selected for scheduling');
  });
});

import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisionStateStore } from '../../tools/servers/state-store-backends';
import type { ProvisionedStateStore } from '../../tools/servers/state-store-backends';
import type { UpdateProgress } from '../../src/workflows/promiseUpdate';
import { startTestPlatform } from '../support/platform';
import type { TestPlatform } from '../support/platform';
import { shPromise, shRequest } from '../support/sh-promise';

const PROMISE = 'slowapp';
/** Slow enough to apply an edit while it runs; writes the request's team and the version. */
const script = (version: string) =>
  [
    'sleep 4',
    "team=$(sed -n 's/^ *team: *//p' /kratix/input/object.yaml | head -n 1)",
    `printf 'team: %s\\nversion: ${version}\\n' "$team" > /kratix/output/config.yaml`,
  ].join('\n');
const promise = (version: string) =>
  shPromise({ name: PROMISE, version, resourceScript: script(version) });
const request = (name: string, team: string) => shRequest(PROMISE, name, team);
const output = (name: string) =>
  `worker-1/resources/default/${PROMISE}/${name}/render/5058f/config.yaml`;

/**
 * One workflow id per resource, whoever starts it (issue 9): a Promise update's re-run and
 * a user's edit of the same request share `resource-reconcile/<promise>/<ns>/<name>`, so
 * they never run at once, and neither is cut short by the other.
 */
describe('one reconcile run per resource', () => {
  let platform: TestPlatform;
  let stateStore: ProvisionedStateStore;
  const id = `resource-reconcile/${PROMISE}/default/edited`;

  beforeAll(async () => {
    platform = await startTestPlatform('one-run');
    stateStore = await provisionStateStore('git', path.join(platform.dir, 'state-store'));
    const r = await platform.cli(['apply', '-f', '-', '--wait'], stateStore.platformYaml);
    expect(r.code, r.stderr).toBe(0);
  });

  afterAll(async () => {
    await platform?.stop();
    await stateStore?.stop();
  });

  async function runsUnder(workflowId: string) {
    const runs = [];
    for await (const wf of platform.client.temporal.workflow.list({
      query: `WorkflowId = '${workflowId}' AND TaskQueue = '${platform.config.temporal.taskQueue}'`,
    })) {
      runs.push(wf);
    }
    return runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
  }

  it('an edit applied while the update re-runs the request joins that run, and the update counts it done', async () => {
    for (const yaml of [promise('v1'), request('edited', 'red')]) {
      const first = await platform.cli(['apply', '-f', '-', '--wait'], yaml);
      expect(first.code, first.stdout + first.stderr).toBe(0);
    }
    expect(await stateStore.read(output('edited'))).toBe('team: red\nversion: v1\n');

    const upgrade = await platform.cli(['apply', '-f', '-'], promise('v2'));
    expect(upgrade.code, upgrade.stdout + upgrade.stderr).toBe(0);
    // Wait until the update's re-run of the request is the run under the resource's id.
    for (let i = 0; ; i++) {
      const described = await platform.client.temporal.workflow
        .getHandle(id)
        .describe()
        .catch(() => undefined);
      if (
        described?.status.name === 'RUNNING' &&
        described.parentExecution?.workflowId === `promise-update/${PROMISE}`
      ) {
        break;
      }
      expect(i, 'the update to re-run the request').toBeLessThan(600);
      await new Promise((r) => setTimeout(r, 100));
    }
    const edit = await platform.cli(['apply', '-f', '-'], request('edited', 'blue'));
    expect(edit.code, edit.stdout + edit.stderr).toBe(0);

    const progress = (await platform.client.temporal.workflow
      .getHandle(`promise-update/${PROMISE}`)
      .result()) as UpdateProgress;
    expect(progress).toMatchObject({ phase: 'done', total: 1, done: 1, failed: 0 });
    // The update's run took the edit: the last pass ran with the new spec at v2.
    expect(await stateStore.read(output('edited'))).toBe('team: blue\nversion: v2\n');
    const runs = await runsUnder(id);
    expect(runs.map((r) => r.status.name)).toEqual(['COMPLETED', 'COMPLETED']);
    expect(runs[1]!.parentExecution?.workflowId).toBe(`promise-update/${PROMISE}`);
    const history = await platform.client.temporal.workflow
      .getHandle(id, runs[1]!.runId)
      .fetchHistory();
    const signals = (history.events ?? []).flatMap((e) =>
      e.workflowExecutionSignaledEventAttributes
        ? [e.workflowExecutionSignaledEventAttributes.signalName]
        : [],
    );
    expect(signals).toEqual(['reconcileAgain']);
    const got = (await platform.client.get(`${PROMISE}s`, { name: 'edited' })).items[0]!;
    expect(got.status?.observedGeneration).toBe(got.metadata.generation);
  });

  it('a re-run already going when the update reaches the request is waited for, not doubled', async () => {
    const other = `resource-reconcile/${PROMISE}/default/busy`;
    const created = await platform.cli(['apply', '-f', '-', '--wait'], request('busy', 'green'));
    expect(created.code, created.stdout + created.stderr).toBe(0);
    // A user's retry runs (4 s pipeline) when the update starts.
    const retry = await platform.cli(['retry', `${PROMISE}s`, 'busy']);
    expect(retry.code, retry.stdout + retry.stderr).toBe(0);
    const upgrade = await platform.cli(['apply', '-f', '-', '--wait'], promise('v3'));
    expect(upgrade.code, upgrade.stdout + upgrade.stderr).toBe(0);
    expect(await stateStore.read(output('busy'))).toBe('team: green\nversion: v3\n');
    const runs = await runsUnder(other);
    // creation, the retry, then the update's own re-run: one after the other.
    expect(runs).toHaveLength(3);
    for (let i = 1; i < runs.length; i++) {
      expect(runs[i]!.startTime.getTime()).toBeGreaterThanOrEqual(
        runs[i - 1]!.closeTime!.getTime(),
      );
    }
    expect(runs[2]!.parentExecution?.workflowId).toBe(`promise-update/${PROMISE}`);
  });
});

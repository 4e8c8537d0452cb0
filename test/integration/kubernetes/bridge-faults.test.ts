import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubePlatform } from '../../support/kube-platform';
import { promiseAvailableAt, startKubeScenario } from '../../support/kube-scenario';
import type { StateRepo } from '../../support/state-repo';

/**
 * The bridge keeps no state: killed (SIGKILL) in the middle of a fleet upgrade and started
 * again it starts no workflow twice and picks up what was applied while it was down; two
 * bridges elect one leader; a dropped watch (kube-apiserver restarted) is resumed; bad
 * cluster input ends as a condition on the object, never a crash loop.
 */

const REQUESTS = 8;
const instanceFile = (name: string) =>
  `worker-1/resources/default/mongodb/${name}/instance-configure/5058f/mongodb-instance.yaml`;
const request = (name: string, major: string) =>
  `apiVersion: promise.kratix.io/v1alpha1\nkind: MongoDB\nmetadata:\n  name: ${name}\nspec:\n  majorVersion: "${major}"\n`;

describe('the bridge under faults', () => {
  let platform: KubePlatform;
  let repo: StateRepo;

  /** Runs under a workflow id (all of them, any status), on this platform's task queue. */
  async function runs(workflowId: string): Promise<number> {
    let n = 0;
    for await (const _ of platform.temporal.workflow.list({
      query: `WorkflowId = '${workflowId}' AND TaskQueue = '${platform.config.temporal.taskQueue}'`,
    })) {
      n++;
    }
    return n;
  }

  /** Start and close times of the runs under an id, oldest first. */
  async function runTimes(workflowId: string): Promise<{ start: number; close: number }[]> {
    const times: { start: number; close: number }[] = [];
    for await (const wf of platform.temporal.workflow.list({
      query: `WorkflowId = '${workflowId}' AND TaskQueue = '${platform.config.temporal.taskQueue}'`,
    })) {
      times.push({
        start: wf.startTime.getTime(),
        close: wf.closeTime?.getTime() ?? Number.POSITIVE_INFINITY,
      });
    }
    return times.sort((a, b) => a.start - b.start);
  }

  async function reconciledAt(name: string): Promise<string> {
    const r = await platform.kubectl([
      'get',
      'mongodb',
      name,
      '-o',
      'jsonpath={.status.promiseVersion}',
    ]);
    return r.code === 0 ? r.stdout : '';
  }

  async function leaseHolder(): Promise<string> {
    return platform.kubectlOk([
      'get',
      'lease',
      'promiseflow-bridge',
      '-n',
      'kratix-platform-system',
      '-o',
      'jsonpath={.spec.holderIdentity}',
    ]);
  }

  beforeAll(async () => {
    ({ platform, repo } = await startKubeScenario('faults', 'examples/mongodb/platform.yaml'));
    await platform.kubectlOk(['apply', '-f', 'examples/mongodb/promise.yaml']);
    await promiseAvailableAt(platform, 'mongodb', 'v0.1.0');
    const fleet = Array.from({ length: REQUESTS }, (_, i) =>
      request(`db-${i}`, String(4 + (i % 3))),
    ).join('---\n');
    await platform.kubectlOk(['apply', '-f', '-'], fleet);
    await platform.eventually('the fleet at v0.1.0', async () => {
      for (let i = 0; i < REQUESTS; i++)
        if ((await reconciledAt(`db-${i}`)) !== 'v0.1.0') return false;
      return true;
    });
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('survives a SIGKILL mid-upgrade: no workflow started twice, a request applied while it was down is reconciled', async () => {
    await platform.kubectlOk(['apply', '-f', 'examples/mongodb/promise-v0.2.0.yaml']);
    // The update is running (started by the bridge) when the bridge dies.
    await platform.eventually('the v0.2.0 update to start', async () => {
      const v = await platform.kubectl([
        'get',
        'promise',
        'mongodb',
        '-o',
        'jsonpath={.status.version}',
      ]);
      return v.stdout === 'v0.2.0';
    });
    await platform.killBridges();
    await platform.kubectlOk(['apply', '-f', '-'], request('late', '5'));

    const restarted = platform.startBridge('bridge-restarted');
    await promiseAvailableAt(platform, 'mongodb', 'v0.2.0');
    await platform.eventually('every instance at v0.2.0', async () => {
      for (const n of [...Array.from({ length: REQUESTS }, (_, i) => `db-${i}`), 'late']) {
        if ((await reconciledAt(n)) !== 'v0.2.0') return false;
      }
      return true;
    });
    expect(await repo.read(instanceFile('late'))).toContain('5.0.15');
    for (let i = 0; i < REQUESTS; i++) {
      expect(await repo.read(instanceFile(`db-${i}`))).toContain(
        ['4.4.24', '5.0.15', '6.0.10'][i % 3],
      );
    }
    // One update per Promise generation; one reconcile per request (its creation): the
    // restarted bridge found them done or running instead of starting them again.
    expect(await runs('promise-update/mongodb')).toBe(2);
    // db-0: its creation and the v0.2.0 update's re-run, under the resource's one id.
    expect(await runs('resource-reconcile/mongodb/default/db-0')).toBe(2);
    // `late` was reconciled by the update's fan-out or by the bridge (or one after the
    // other), never by two runs at once.
    const lateRuns = await runTimes('resource-reconcile/mongodb/default/late');
    expect(lateRuns.length).toBeGreaterThanOrEqual(1);
    for (let i = 1; i < lateRuns.length; i++) {
      expect(lateRuns[i]!.start).toBeGreaterThanOrEqual(lateRuns[i - 1]!.close);
    }
    // The restarted bridge leads once the dead one's Lease has expired.
    await platform.eventually(
      'the restarted bridge to lead',
      async () => (await leaseHolder()).includes(`-${restarted.pid}-`),
      60_000,
    );
  });

  it('elects one leader among two bridges, and the other takes over when the leader dies', async () => {
    const first = await platform.eventually(
      'a lease holder',
      async () => (await leaseHolder()) || false,
    );
    platform.startBridge('bridge-second');
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await leaseHolder()).toBe(first);

    await platform.kubectlOk(['apply', '-f', '-'], request('two-bridges', '6'));
    await platform.eventually(
      'the request reconciled',
      async () => (await reconciledAt('two-bridges')) === 'v0.2.0',
    );
    expect(await runs('resource-reconcile/mongodb/default/two-bridges')).toBe(1);
    const events = await platform.kubectlOk([
      'get',
      'events',
      '--field-selector',
      'involvedObject.name=two-bridges,reason=WorkflowStarted',
      '-o',
      'name',
    ]);
    expect(events.trim().split('\n')).toHaveLength(1);

    // The leader dies without a word (SIGKILL): its Lease expires and the other leads.
    const pid = Number(/-(\d+)-[a-z0-9]+$/.exec(first)?.[1]);
    expect(pid).toBeGreaterThan(0);
    process.kill(pid, 'SIGKILL');
    const second = await platform.eventually(
      'another lease holder',
      async () => {
        const h = await leaseHolder();
        return h && h !== first ? h : false;
      },
      60_000,
    );
    expect(second).not.toBe(first);
    await platform.kubectlOk(['apply', '-f', '-'], request('after-takeover', '4'));
    await platform.eventually(
      'the request reconciled by the new leader',
      async () => (await reconciledAt('after-takeover')) === 'v0.2.0',
    );
  });

  it('resumes its watches after kube-apiserver restarts', async () => {
    await platform.cluster.restartApiServer();
    await platform.kubectlOk(['apply', '-f', '-'], request('after-restart', '4'));
    await platform.eventually(
      'the request applied after the restart to be reconciled',
      async () => (await reconciledAt('after-restart')) === 'v0.2.0',
    );
    expect(await repo.read(instanceFile('after-restart'))).toContain('4.4.24');
  });

  it('reports a Destination naming a missing state store on its own condition, and recovers when the store appears', async () => {
    await platform.kubectlOk(
      ['apply', '-f', '-'],
      'apiVersion: platform.kratix.io/v1alpha1\nkind: Destination\nmetadata:\n  name: orphan\nspec:\n  path: orphan\n  stateStoreRef:\n    kind: GitStateStore\n    name: missing\n',
    );
    const message = await platform.eventually('a Ready=False condition', async () => {
      const r = await platform.kubectl([
        'get',
        'destination',
        'orphan',
        '-o',
        'jsonpath={.status.conditions[?(@.type=="Ready")].status}|{.status.conditions[?(@.type=="Ready")].message}',
      ]);
      return r.stdout.startsWith('False|') ? r.stdout.slice(6) : false;
    });
    expect(message).toContain('GitStateStore "missing"');
    await platform.kubectlOk(
      ['apply', '-f', '-'],
      `apiVersion: platform.kratix.io/v1alpha1\nkind: GitStateStore\nmetadata:\n  name: missing\nspec:\n  url: ${repo.url}\n  branch: main\n`,
    );
    await platform.kubectlOk([
      'wait',
      '--for=condition=Ready',
      'destination/orphan',
      '--timeout=60s',
    ]);
  });

  it('reports a Promise the platform cannot serve on its own condition, and keeps serving the others', async () => {
    const bad = `apiVersion: platform.kratix.io/v1alpha1
kind: Promise
metadata:
  name: broken
spec:
  api:
    apiVersion: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    metadata:
      name: mongodbs.promise.kratix.io
    spec:
      group: promise.kratix.io
      scope: Namespaced
      names:
        kind: Broken
        plural: mongodbs
        singular: broken
      versions:
        - name: v1
          served: true
          storage: true
          schema:
            openAPIV3Schema:
              type: object
`;
    await platform.kubectlOk(['apply', '-f', '-'], bad);
    const condition = await platform.eventually('a failed configure condition', async () => {
      const r = await platform.kubectl([
        'get',
        'promise',
        'broken',
        '-o',
        'jsonpath={.status.conditions[?(@.type=="ConfigureWorkflowCompleted")].status}|{.status.conditions[?(@.type=="ConfigureWorkflowCompleted")].message}',
      ]);
      return r.stdout.startsWith('False|') ? r.stdout.slice(6) : false;
    });
    expect(condition).toContain('spec.api');
    expect(condition).toMatch(/mongodbs\.promise\.kratix\.io/);
    // Not retried in a loop: one update run for the one generation.
    await new Promise((r) => setTimeout(r, 6_000));
    expect(await runs('promise-update/broken')).toBe(1);
    // The MongoDB API (whose CRD name it tried to take) is untouched and still served.
    await platform.kubectlOk(['apply', '-f', '-'], request('still-served', '5'));
    await platform.eventually(
      'a request of the good Promise reconciled',
      async () => (await reconciledAt('still-served')) === 'v0.2.0',
    );
  });
});

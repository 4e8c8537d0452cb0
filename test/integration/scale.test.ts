import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UpdateProgress } from '../../src/workflows/promiseUpdate';
import { startTestPlatform } from '../support/platform';
import type { TestPlatform } from '../support/platform';

const FLEET = 1200;

function promise(version: string): string {
  return `apiVersion: platform.kratix.io/v1alpha1
kind: Promise
metadata:
  name: tenant
  labels:
    kratix.io/promise-version: ${version}
spec:
  api:
    apiVersion: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    metadata:
      name: tenants.example.promiseflow.io
    spec:
      group: example.promiseflow.io
      names: {kind: Tenant, plural: tenants, singular: tenant}
      scope: Namespaced
      versions:
        - name: v1alpha1
          served: true
          storage: true
          schema:
            openAPIV3Schema:
              type: object
              properties:
                spec:
                  type: object
                  properties:
                    team: {type: string}
`;
}

/**
 * Fleets far larger than one workflow history should hold: the update pages through the
 * platform store and continues-as-new every 500 children (behaviour §8, issue 2).
 */
describe('a Promise update over a large fleet', () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await startTestPlatform('scale');
    const r = await platform.cli(['apply', '-f', '-', '--wait'], promise('v1'));
    expect(r.code, r.stderr).toBe(0);
    // Existing requests, stored directly: the point is the update, not 1,200 creations.
    for (let i = 0; i < FLEET; i++) {
      await platform.client.store.apply({
        apiVersion: 'example.promiseflow.io/v1alpha1',
        kind: 'Tenant',
        metadata: { name: `tenant-${String(i).padStart(4, '0')}`, namespace: `team-${i % 7}` },
        spec: { team: `team-${i % 7}` },
      });
    }
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it(`re-runs all ${FLEET} resources in bounded histories, continuing as new every 500 children`, async () => {
    const r = await platform.cli(['apply', '-f', '-', '--wait'], promise('v2'));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const result = (await platform.client.temporal.workflow
      .getHandle('promise-update/tenant')
      .result()) as UpdateProgress;
    expect(result).toMatchObject({ phase: 'done', total: FLEET, done: FLEET, failed: 0 });

    const runs: { status: string; historyLength: number }[] = [];
    for await (const wf of platform.client.temporal.workflow.list({
      query: `WorkflowId = 'promise-update/tenant' AND TaskQueue = '${platform.config.temporal.taskQueue}' AND PromiseVersion = 'v2'`,
    })) {
      runs.push({ status: wf.status.name, historyLength: wf.historyLength });
    }
    expect(runs.map((r) => r.status).sort()).toEqual([
      'COMPLETED',
      'CONTINUED_AS_NEW',
      'CONTINUED_AS_NEW',
    ]);
    for (const run of runs) expect(run.historyLength).toBeLessThan(10_000);

    const bindings = await platform.client.get('resourcebindings');
    expect(bindings.items).toHaveLength(FLEET);
    expect(new Set(bindings.items.map((b) => b.status?.lastAppliedVersion))).toEqual(
      new Set(['v2']),
    );
  });
});

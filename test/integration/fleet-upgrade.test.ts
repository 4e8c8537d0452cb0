import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config';
import {
  provisionStateStore,
  STATE_STORE_BACKENDS,
} from '../../tools/servers/state-store-backends';
import type { ProvisionedStateStore } from '../../tools/servers/state-store-backends';
import { startTestPlatform } from '../support/platform';
import type { TestPlatform } from '../support/platform';

const instancePath = (name: string) =>
  `worker-1/resources/default/mongodb/${name}/instance-configure/5058f/mongodb-instance.yaml`;
const example = (f: string) => path.join(PROJECT_ROOT, 'examples', 'mongodb', f);

describe.each(STATE_STORE_BACKENDS)(
  'MongoDB fleet upgrade (Kratix workshop: Upgrading a fleet) on a %s state store',
  (backend) => {
    let platform: TestPlatform;
    let stateStore: ProvisionedStateStore;

    beforeAll(async () => {
      platform = await startTestPlatform(`fleet-${backend}`);
      stateStore = await provisionStateStore(backend, path.join(platform.dir, 'state-store'));
      const platformYaml = path.join(platform.dir, 'platform.yaml');
      fs.writeFileSync(platformYaml, stateStore.platformYaml);
      const applied = await platform.cli(['apply', '-f', platformYaml, '--wait']);
      expect(applied.stderr).toBe('');
      expect(applied.code).toBe(0);
    });

    afterAll(async () => {
      await platform?.stop();
      await stateStore?.stop();
    });

    it('marks both Destinations Ready and writes their check documents', async () => {
      const destinations = (await platform.cli(['get', 'destinations'])).stdout;
      expect(destinations).toMatch(/platform-cluster\s+True/);
      expect(destinations).toMatch(/worker-1\s+True/);
      expect(await stateStore.read('worker-1/dependencies/kratix-canary-namespace.yaml')).toContain(
        'kratix-worker-system',
      );
      expect(
        await stateStore.read('platform-cluster/resources/kratix-canary-configmap.yaml'),
      ).toContain('platform-cluster');
    });

    it('installs the Promise, creates three instances, then upgrades the fleet when the pipeline image is bumped', async () => {
      const install = await platform.cli(['apply', '-f', example('promise.yaml'), '--wait']);
      expect(install.code, install.stderr).toBe(0);
      expect(install.stdout).toContain('promise/mongodb created');

      for (const name of ['mongo-v4', 'mongo-v5', 'mongo-v6']) {
        const r = await platform.cli(['apply', '-f', example(`${name}.yaml`), '--wait']);
        expect(r.code, r.stderr + r.stdout).toBe(0);
      }

      // Before: 4.4.23 / 5.0.14 / 6.0.10 in the state store and in the resources' status.
      expect(await stateStore.read(instancePath('mongo-v4'))).toContain('4.4.23');
      expect(await stateStore.read(instancePath('mongo-v5'))).toContain('5.0.14');
      expect(await stateStore.read(instancePath('mongo-v6'))).toContain('6.0.10');
      const before = await platform.cli(['get', 'mongodbs']);
      expect(before.stdout).toMatch(/mongo-v4\s+mongodb version: 4\.4\.23/);
      expect(before.stdout).toMatch(/mongo-v6\s+mongodb version: 6\.0\.10/);
      // Promise dependencies (the operator) went to worker-1 but not to the strict platform-cluster.
      const operator = (d: string) =>
        `${d}/dependencies/mongodb/promise-configure/5058f/mongodb-operator.yaml`;
      expect(await stateStore.read(operator('worker-1'))).toContain('mongodb-kubernetes-operator');
      expect(await stateStore.read(operator('platform-cluster'))).toBeUndefined();
      const commitsBefore = (await stateStore.history()).length;

      // The upgrade: apply the Promise with the pipeline image bumped to v0.2.0.
      const upgrade = await platform.cli(['apply', '-f', example('promise-v0.2.0.yaml'), '--wait']);
      expect(upgrade.code, upgrade.stderr + upgrade.stdout).toBe(0);
      expect(upgrade.stdout).toContain('promise/mongodb configured');

      expect(await stateStore.read(instancePath('mongo-v4'))).toContain('4.4.24');
      expect(await stateStore.read(instancePath('mongo-v5'))).toContain('5.0.15');
      expect(await stateStore.read(instancePath('mongo-v6'))).toContain('6.0.10');
      const after = await platform.cli(['get', 'mongodbs']);
      expect(after.stdout).toMatch(/mongo-v4\s+mongodb version: 4\.4\.24/);
      expect(after.stdout).toMatch(/mongo-v5\s+mongodb version: 5\.0\.15/);
      expect(after.stdout).toMatch(/mongo-v6\s+mongodb version: 6\.0\.10/);

      // Every resource pipeline ran again, as a child of the update workflow...
      const children: string[] = [];
      for await (const wf of platform.client.temporal.workflow.list({
        query: `WorkflowType = 'resourceReconcile' AND TaskQueue = '${platform.config.temporal.taskQueue}' AND ExecutionStatus = 'Completed'`,
      })) {
        if (wf.parentExecution?.workflowId === 'promise-update/mongodb') {
          children.push(wf.workflowId);
        }
      }
      // ...under each resource's own id, the one its creation ran under.
      expect(children.sort()).toEqual([
        'resource-reconcile/mongodb/default/mongo-v4',
        'resource-reconcile/mongodb/default/mongo-v5',
        'resource-reconcile/mongodb/default/mongo-v6',
      ]);
      if (backend !== 's3') {
        // ...but unchanged output (mongo-v6) made no commit: only the two new instances did.
        const added = (await stateStore.history()).slice(
          0,
          (await stateStore.history()).length - commitsBefore,
        );
        expect(added.sort()).toEqual([
          'Update from: mongodb-mongo-v4-instance-configure.worker-1',
          'Update from: mongodb-mongo-v5-instance-configure.worker-1',
        ]);
      }

      // Revisions: both versions, only v0.2.0 latest.
      const revisions = await platform.cli(['get', 'promiserevisions']);
      expect(revisions.stdout).toMatch(/^mongodb-v0\.1\.0\s+v0\.1\.0\s+\S+$/m);
      expect(revisions.stdout).toMatch(/^mongodb-v0\.2\.0\s+true\s+v0\.2\.0\s+\S+$/m);
      const bindings = await platform.client.get('resourcebindings');
      expect(bindings.items.map((b) => b.status?.lastAppliedVersion)).toEqual([
        'v0.2.0',
        'v0.2.0',
        'v0.2.0',
      ]);
    });

    it('refuses a request that does not match the Promise API, naming file, object, field and reason', async () => {
      const bad = path.join(platform.dir, 'bad-request.yaml');
      fs.writeFileSync(
        bad,
        'apiVersion: promise.kratix.io/v1alpha1\nkind: MongoDB\nmetadata:\n  name: mongo-bad\nspec:\n  majorVersion: 7\n',
      );
      const r = await platform.cli(['apply', '-f', bad]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        `${bad}: MongoDB "mongo-bad": spec.majorVersion: expected string, got number`,
      );
      const list = await platform.client.get('mongodbs');
      expect(list.items.map((i) => i.metadata.name)).not.toContain('mongo-bad');
    });
  },
);

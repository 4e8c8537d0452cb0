import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../src/config';
import type { KratixObject } from '../../../src/model/types';
import { installPlatformApi } from '../../../src/platform/kubernetes/crds';
import { KubernetesPlatformStore, loadKubeConfig } from '../../../src/platform/kubernetes/store';
import { startKubeCluster } from '../../../tools/servers/kube-cluster';
import type { KubeCluster } from '../../../tools/servers/kube-cluster';

const exec = promisify(execFile);

const destination = (name: string): KratixObject => ({
  apiVersion: 'platform.kratix.io/v1alpha1',
  kind: 'Destination',
  metadata: { name },
  spec: { path: name, stateStoreRef: { kind: 'GitStateStore', name: 'default' } },
});

/** `promiseflow describe` on a cluster: the core/v1 Events about the object (issue 13). */
describe('events of an object on Kubernetes', () => {
  let dir: string;
  let cluster: KubeCluster;
  let store: KubernetesPlatformStore;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promiseflow-kevents-'));
    cluster = await startKubeCluster({ dir: path.join(dir, 'cluster') });
    const kubeConfig = loadKubeConfig(cluster.kubeconfig);
    await installPlatformApi(kubeConfig);
    store = new KubernetesPlatformStore({ kubeConfig });
    // A fresh API server answers "storage is (re)initializing" for a new CRD's first lists.
    for (let i = 0; ; i++) {
      const ok = await store.list('Promise').then(
        () => true,
        (err: unknown) => {
          if (i >= 100) throw err;
          return false;
        },
      );
      if (ok) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  afterAll(async () => {
    await store?.close();
    await cluster?.stop();
  });

  it('lists the Events recorded about one object, oldest first, and none of the others', async () => {
    await store.apply(destination('worker-1'));
    await store.apply(destination('worker-2'));
    const about = { kind: 'Destination', name: 'worker-1' };
    await store.recordEvent(about, { type: 'Normal', reason: 'Ready', message: 'state store ok' });
    await store.recordEvent(about, {
      type: 'Warning',
      reason: 'NotReady',
      message: 'bucket "kratix" does not exist',
    });
    const events = await store.listEvents(about);
    expect(events.map((e) => [e.type, e.reason, e.message])).toEqual([
      ['Normal', 'Ready', 'state store ok'],
      ['Warning', 'NotReady', 'bucket "kratix" does not exist'],
    ]);
    expect(events.every((e) => !Number.isNaN(Date.parse(e.time)))).toBe(true);
    expect(await store.listEvents({ kind: 'Destination', name: 'worker-2' })).toEqual([]);
  });

  it('shows them in promiseflow describe, with the platform on the cluster', async () => {
    const { stdout } = await exec(
      process.execPath,
      [
        path.join(PROJECT_ROOT, 'bin', 'promiseflow'),
        'describe',
        'destination',
        'worker-1',
        '--kubeconfig',
        cluster.kubeconfig,
        '--data-dir',
        path.join(dir, 'data'),
      ],
      { cwd: dir },
    );
    expect(stdout).toMatch(/^Name:\s+worker-1$/m);
    const events = stdout.slice(stdout.indexOf('Events:'));
    expect(events).toMatch(/Normal\s+Ready\s+\S+\s+state store ok/);
    expect(events).toMatch(/Warning\s+NotReady\s+\S+\s+bucket "kratix" does not exist/);
  });
});

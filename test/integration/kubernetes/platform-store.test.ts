import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../src/model/errors';
import { resourceApiDefinition } from '../../../src/model/resource-api';
import type { KratixObject, KratixPromise } from '../../../src/model/types';
import { installPlatformApi } from '../../../src/platform/kubernetes/crds';
import {
  KubernetesPlatformStore,
  loadKubeConfig,
  PROMISEFLOW_FINALIZER,
} from '../../../src/platform/kubernetes/store';
import { startKubeCluster } from '../../../tools/servers/kube-cluster';
import type { KubeCluster } from '../../../tools/servers/kube-cluster';
import { parseKratixYaml } from '../../../src/model/load';

/** The PlatformStore port on a real kube-apiserver: what the workflows rely on. */

const destination = (name: string, labels?: Record<string, string>): KratixObject => ({
  apiVersion: 'platform.kratix.io/v1alpha1',
  kind: 'Destination',
  metadata: { name, ...(labels ? { labels } : {}) },
  spec: { path: name, stateStoreRef: { kind: 'GitStateStore', name: 'default' } },
});

describe('KubernetesPlatformStore', () => {
  let cluster: KubeCluster;
  let store: KubernetesPlatformStore;

  beforeAll(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promiseflow-kstore-'));
    cluster = await startKubeCluster({ dir });
    const kubeConfig = loadKubeConfig(cluster.kubeconfig);
    await installPlatformApi(kubeConfig);
    store = new KubernetesPlatformStore({ kubeConfig });
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('creates, configures and leaves unchanged, bumping generation only for spec changes', async () => {
    const created = await store.apply(destination('a', { env: 'dev' }));
    expect(created.result).toBe('created');
    expect(created.object.metadata.generation).toBe(1);
    expect(created.object.metadata).not.toHaveProperty('namespace');
    expect((await store.apply(destination('a', { env: 'dev' }))).result).toBe('unchanged');
    const relabelled = await store.apply(destination('a', { env: 'prod' }));
    expect(relabelled.result).toBe('configured');
    expect(relabelled.object.metadata.generation).toBe(1);
    const changed = await store.apply({
      ...destination('a', { env: 'prod' }),
      spec: { path: 'b', stateStoreRef: { kind: 'GitStateStore', name: 'default' } },
    });
    expect(changed.object.metadata.generation).toBe(2);
  });

  it('keeps status through apply, and merges concurrent status writers without losing one', async () => {
    const key = { kind: 'Destination', name: 'a' };
    await store.updateStatus(key, { phase: 'Pending' });
    await store.apply(destination('a', { env: 'qa' }));
    expect((await store.get(key))?.status).toEqual({ phase: 'Pending' });
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        store.mutateStatus(key, (o) => ({ ...(o.status ?? {}), [`writer${i}`]: i })),
      ),
    );
    const status = (await store.get(key))?.status ?? {};
    expect(Object.keys(status).sort()).toEqual(
      ['phase', ...Array.from({ length: 10 }, (_, i) => `writer${i}`)].sort(),
    );
  });

  it('lists by label selector in pages that continue where the last one ended', async () => {
    for (let i = 0; i < 7; i++)
      await store.apply(destination(`p-${i}`, { group: i % 2 ? 'odd' : 'even' }));
    const names: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.list('Destination', {
        labelSelector: { group: 'even' },
        limit: 2,
        continue: cursor,
      });
      expect(page.items.length).toBeLessThanOrEqual(2);
      names.push(...page.items.map((d) => d.metadata.name));
      cursor = page.continue;
    } while (cursor);
    expect(names).toEqual(['p-0', 'p-2', 'p-4', 'p-6']);
    expect(
      (await store.list('Destination', { labelSelector: 'group in (odd),group!=even' })).items,
    ).toHaveLength(3);
  });

  it('patches labels (null removes) and deletes, releasing its own finalizer last', async () => {
    const key = { kind: 'Destination', name: 'held' };
    await store.apply(destination('held', { a: '1' }));
    expect((await store.patchLabels(key, { a: null, b: '2' }))?.metadata.labels).toEqual({
      b: '2',
    });
    await store.api.mergePatch((await store.typeOf('Destination'))!, undefined, 'held', {
      metadata: { finalizers: [PROMISEFLOW_FINALIZER] },
    });
    expect(await store.delete(key)).toBe(true);
    expect(await store.get(key)).toBeUndefined();
    expect(await store.delete(key)).toBe(false);
  });

  it('stores a Secret given stringData, and finds a re-apply unchanged', async () => {
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'git-creds', namespace: 'default' },
      stringData: { username: 'kratix', password: 's3cret' },
    };
    expect((await store.apply(secret)).result).toBe('created');
    expect((await store.apply(secret)).result).toBe('unchanged');
    const stored = await store.get({ kind: 'Secret', name: 'git-creds', namespace: 'default' });
    expect(
      Buffer.from((stored?.data as Record<string, string>).password!, 'base64').toString(),
    ).toBe('s3cret');
  });

  it("serves a Promise's API so requests are validated by the API server, and removes it", async () => {
    const [promise] = parseKratixYaml(
      fs.readFileSync(
        path.join(__dirname, '..', '..', '..', 'examples', 'mongodb', 'promise.yaml'),
        'utf8',
      ),
      'promise.yaml',
    ) as KratixPromise[];
    await store.apply(promise!);
    await store.ensureResourceApi(resourceApiDefinition(promise!)!);
    const request = {
      apiVersion: 'promise.kratix.io/v1alpha1',
      kind: 'MongoDB',
      metadata: { name: 'db', namespace: 'default' },
      spec: { majorVersion: '5' },
    };
    expect((await store.apply(request)).result).toBe('created');
    await store.updateStatus(
      { kind: 'MongoDB', name: 'db', namespace: 'default' },
      { message: 'kept' },
    );
    expect(
      (await store.get({ kind: 'MongoDB', name: 'db', namespace: 'default' }))?.status,
    ).toEqual({ message: 'kept' });
    const bad = store.apply({
      ...request,
      metadata: { name: 'bad', namespace: 'default' },
      spec: { majorVersion: 5 },
    });
    await expect(bad).rejects.toBeInstanceOf(InvalidInputError);
    await expect(bad).rejects.toThrow(/spec\.majorVersion/);
    await store.removeResourceApi('mongodbs.promise.kratix.io');
    await expect
      .poll(async () => (await store.list('MongoDB').catch(() => ({ items: [1] }))).items.length, {
        timeout: 30_000,
      })
      .toBe(0);
  });

  it('refuses an API the server will not serve, as bad input naming why', async () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'things.example.com' },
      spec: {
        group: 'example.com',
        scope: 'Namespaced',
        names: { kind: 'Thing', plural: 'things' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: 'wibble' } },
          },
        ],
      },
    };
    await expect(store.ensureResourceApi(crd)).rejects.toThrow(
      /spec\.api: expected a CustomResourceDefinition the API server accepts, got .*wibble/,
    );
  });

  it('records events that kubectl describe shows', async () => {
    await store.recordEvent(
      { kind: 'Destination', name: 'a' },
      { type: 'Warning', reason: 'NotReady', message: 'no route' },
    );
    const { execFile } = await import('node:child_process');
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        cluster.kubectl,
        ['describe', 'destination', 'a'],
        { env: cluster.env },
        (err, stdout) => (err ? reject(err) : resolve(stdout)),
      ),
    );
    expect(out).toMatch(/Warning\s+NotReady\s+.*no route/);
  });

  it('serves RolloutPolicy (promiseflow.io) beside Kratix kinds, for kubectl and for updates', async () => {
    const { execFile } = await import('node:child_process');
    const kubectl = (args: string[], input?: string) =>
      new Promise<string>((resolve, reject) => {
        const child = execFile(
          cluster.kubectl,
          args,
          { env: cluster.env },
          (err, stdout, stderr) =>
            err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
        );
        if (input !== undefined) child.stdin?.end(input);
      });
    await kubectl(
      ['apply', '-f', '-'],
      `apiVersion: promiseflow.io/v1alpha1
kind: RolloutPolicy
metadata: {name: careful}
spec: {promiseNames: [mongodb], batchSize: 2, maxFailures: 1, onFailure: rollback}
`,
    );
    expect(await kubectl(['get', 'rp'])).toMatch(/careful\s+2\s+1\s+rollback/);
    const { items } = await store.list('RolloutPolicy');
    expect(items.map((p) => [p.metadata.name, p.spec?.onFailure])).toEqual([
      ['careful', 'rollback'],
    ]);
  });
});

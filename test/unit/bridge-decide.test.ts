import { describe, expect, it } from 'vitest';
import type { ClusterView } from '../../src/bridge/decide';
import { decide } from '../../src/bridge/decide';
import { labelValue } from '../../src/model/labels';
import { resourceApiDefinition } from '../../src/model/resource-api';
import {
  destinationReconcileKey,
  promiseUpdateKey,
  resourceReconcileKey,
  runCovers,
} from '../../src/model/triggers';
import type { KratixObject, KratixPromise } from '../../src/model/types';
import { PROMISEFLOW_FINALIZER } from '../../src/platform/kubernetes/store';

const FINALIZERS = [PROMISEFLOW_FINALIZER];

function promise(
  overrides: Partial<KratixPromise['metadata']> = {},
  status?: Record<string, unknown>,
): KratixPromise {
  return {
    apiVersion: 'platform.kratix.io/v1alpha1',
    kind: 'Promise',
    metadata: {
      name: 'mongodb',
      generation: 2,
      labels: { 'kratix.io/promise-version': 'v0.2.0' },
      finalizers: FINALIZERS,
      ...overrides,
    },
    spec: {
      api: {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: 'mongodbs.promise.kratix.io' },
        spec: {
          group: 'promise.kratix.io',
          scope: 'Namespaced',
          names: { kind: 'MongoDB', plural: 'mongodbs', singular: 'mongodb' },
          versions: [
            {
              name: 'v1alpha1',
              served: true,
              storage: true,
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: {
                    spec: { type: 'object', properties: { majorVersion: { type: 'string' } } },
                  },
                },
              },
            },
          ],
        },
      },
    },
    ...(status ? { status } : {}),
  } as KratixPromise;
}

const available = {
  observedGeneration: 2,
  version: 'v0.2.0',
  conditions: [{ type: 'ConfigureWorkflowCompleted', status: 'True', reason: 'x' }],
};

function request(
  name: string,
  extra: Partial<KratixObject['metadata']> = {},
  status?: Record<string, unknown>,
): KratixObject {
  return {
    apiVersion: 'promise.kratix.io/v1alpha1',
    kind: 'MongoDB',
    metadata: { name, namespace: 'default', generation: 1, finalizers: FINALIZERS, ...extra },
    spec: { majorVersion: '4' },
    ...(status ? { status } : {}),
  };
}

function view(objects: {
  promises?: KratixPromise[];
  bindings?: KratixObject[];
  requests?: KratixObject[];
  stores?: KratixObject[];
}): ClusterView {
  return {
    promise: (n) => objects.promises?.find((p) => p.metadata.name === n),
    promises: () => objects.promises ?? [],
    binding: (ns, n) =>
      objects.bindings?.find((b) => b.metadata.name === n && b.metadata.namespace === ns),
    request: (_p, ns, n) =>
      objects.requests?.find((r) => r.metadata.name === n && r.metadata.namespace === ns),
    stateStore: (kind, n) => objects.stores?.find((s) => s.kind === kind && s.metadata.name === n),
  };
}

describe('the bridge decides from the objects alone', () => {
  it('starts a Promise update for a spec generation it has not applied, keyed by generation and version', () => {
    const p = promise({}, { ...available, observedGeneration: 1 });
    const d = decide(p, view({ promises: [p] }));
    expect(d.workflow).toMatchObject({
      type: 'promiseUpdate',
      target: { name: 'mongodb' },
      triggerKey: 'g2/v0.2.0',
      whileOtherRuns: 'supersede',
    });
  });

  it('starts an update when only the version label changed (the spec did not)', () => {
    const p = promise({}, { ...available, version: 'v0.1.0' });
    expect(decide(p, view({ promises: [p] })).workflow?.type).toBe('promiseUpdate');
  });

  it('starts nothing for a Promise whose generation and version were applied (metadata-only changes)', () => {
    const p = promise(
      {
        annotations: { owner: 'team' },
        labels: { 'kratix.io/promise-version': 'v0.2.0', team: 'x' },
      },
      available,
    );
    const d = decide(p, view({ promises: [p] }));
    expect(d.workflow).toBeUndefined();
    expect(d.addFinalizer).toBe(false);
  });

  it('re-runs on the manual-reconciliation label with a key of its own, and clears the label', () => {
    const p = promise(
      {
        resourceVersion: '77',
        labels: {
          'kratix.io/promise-version': 'v0.2.0',
          'kratix.io/manual-reconciliation': 'true',
        },
      },
      available,
    );
    const d = decide(p, view({ promises: [p] }));
    expect(d.workflow?.triggerKey).toBe('g2/v0.2.0#manual-77');
    expect(d.workflow?.clearsManualLabel).toBe(true);
    expect(runCovers(d.workflow?.triggerKey, 'g2/v0.2.0')).toBe(true);
    expect(runCovers('g1/v0.1.0', 'g2/v0.2.0')).toBe(false);
  });

  it('adds its finalizer to Promises, requests, revisions, Destinations and WorkPlacements that lack it', () => {
    const p = promise({ finalizers: [] }, available);
    expect(decide(p, view({ promises: [p] })).addFinalizer).toBe(true);
    const wp: KratixObject = {
      apiVersion: 'platform.kratix.io/v1alpha1',
      kind: 'WorkPlacement',
      metadata: { name: 'w.d', namespace: 'kratix-platform-system' },
    };
    expect(decide(wp, view({})).addFinalizer).toBe(true);
    const store: KratixObject = {
      apiVersion: 'platform.kratix.io/v1alpha1',
      kind: 'GitStateStore',
      metadata: { name: 's' },
    };
    expect(decide(store, view({})).addFinalizer).toBe(false);
  });

  it('runs the deletion workflow of an object being deleted that it holds, and nothing for one it does not', () => {
    const deleting = { deletionTimestamp: '2026-11-23T10:00:00Z', uid: 'u1' };
    const p = promise(deleting, available);
    expect(decide(p, view({ promises: [p] })).workflow).toMatchObject({
      type: 'promiseDelete',
      triggerKey: 'delete@2026-11-23T10:00:00Z/u1',
    });
    const r = request('db', deleting);
    expect(decide(r, view({ promises: [promise({}, available)] })).workflow).toMatchObject({
      type: 'resourceDelete',
      target: { name: 'db', namespace: 'default', promiseName: 'mongodb' },
    });
    expect(
      decide(request('db', { ...deleting, finalizers: [] }), view({ promises: [p] })).workflow,
    ).toBeUndefined();
  });

  it('reconciles a new request only once its Promise is available', () => {
    const r = request('db');
    const notYet = promise({}, { observedGeneration: 2, version: 'v0.2.0', conditions: [] });
    expect(decide(r, view({ promises: [notYet] }))).toMatchObject({
      waiting: 'Promise "mongodb" is not available yet',
    });
    const d = decide(r, view({ promises: [promise({}, available)] }));
    expect(d.workflow).toMatchObject({
      type: 'resourceReconcile',
      target: { name: 'db', namespace: 'default', promiseName: 'mongodb' },
      triggerKey: 'r1',
      whileOtherRuns: 'wait',
    });
  });

  it('gives a request and its pinned binding the same key, so either event starts one run', () => {
    const p = promise({}, available);
    const r = request('db', {}, { observedGeneration: 1 });
    const binding: KratixObject = {
      apiVersion: 'platform.kratix.io/v1alpha1',
      kind: 'ResourceBinding',
      metadata: { name: 'db-mongodb', namespace: 'default', generation: 2 },
      spec: {
        version: 'v0.1.0',
        promiseRef: { name: 'mongodb' },
        resourceRef: { name: 'db', namespace: 'default' },
      },
      status: { observedGeneration: 1 },
    };
    const v = view({ promises: [p], bindings: [binding], requests: [r] });
    expect(decide(r, v).workflow?.triggerKey).toBe('r1.b2');
    expect(decide(binding, v).workflow?.triggerKey).toBe('r1.b2');
    expect(
      resourceReconcileKey(r, { ...binding, metadata: { ...binding.metadata, generation: 1 } }),
    ).toBe('r1');
    // Seen already: nothing.
    const seen = { ...binding, status: { observedGeneration: 2 } };
    expect(
      decide(r, view({ promises: [p], bindings: [seen], requests: [r] })).workflow,
    ).toBeUndefined();
  });

  it('reports a Destination that breaks the rules as invalid instead of reconciling it', () => {
    const d: KratixObject = {
      apiVersion: 'platform.kratix.io/v1alpha1',
      kind: 'Destination',
      metadata: { name: 'bad', finalizers: FINALIZERS },
      spec: { path: '../../outside', stateStoreRef: { kind: 'GitStateStore', name: 'default' } },
    };
    const out = decide(d, view({}));
    expect(out.workflow).toBeUndefined();
    expect(out.invalid?.condition).toMatchObject({
      type: 'Ready',
      status: 'False',
      reason: 'InvalidSpec',
    });
    expect(out.invalid?.message).toContain('spec.path');
  });

  it('keys a Destination reconcile by its generation, its scheduling labels and its state store', () => {
    const d: KratixObject = {
      apiVersion: 'platform.kratix.io/v1alpha1',
      kind: 'Destination',
      metadata: { name: 'w', generation: 1, labels: { env: 'dev', a: 'b' } },
      spec: { path: 'w', stateStoreRef: { kind: 'GitStateStore', name: 's' } },
    };
    const store: KratixObject = {
      apiVersion: 'x',
      kind: 'GitStateStore',
      metadata: { name: 's', generation: 3 },
    };
    expect(destinationReconcileKey(d, store)).toBe('g1;GitStateStore/s@3;a=b,env=dev');
    expect(destinationReconcileKey(d, undefined)).toBe('g1;no-store;a=b,env=dev');
    expect(decide(d, view({ stores: [store] })).workflow).toMatchObject({
      type: 'destinationReconcile',
      triggerKey: 'g1;GitStateStore/s@3;a=b,env=dev',
    });
  });

  it('keys a Promise update by its generation and version label', () => {
    expect(promiseUpdateKey(promise({ generation: 5 }))).toBe('g5/v0.2.0');
  });

  it('tells a re-created object from the one an old run under the same id served', () => {
    const first = promiseUpdateKey(promise({ generation: 1, uid: 'aaa' }));
    const again = promiseUpdateKey(promise({ generation: 1, uid: 'bbb' }));
    expect(first).toBe('g1/v0.2.0~aaa');
    expect(runCovers(first, again)).toBe(false);
    const request = (uid: string): KratixObject => ({
      apiVersion: 'example.promiseflow.io/v1',
      kind: 'MongoDB',
      metadata: { name: 'db', namespace: 'default', generation: 1, uid },
    });
    expect(resourceReconcileKey(request('aaa'), undefined)).toBe('r1~aaa');
    expect(runCovers('r1~aaa', resourceReconcileKey(request('bbb'), undefined))).toBe(false);
  });
});

describe('the API a Promise is served with on a cluster', () => {
  it('adds the status subresource, a status schema that keeps pipeline fields, the Promise label and a STATUS column', () => {
    const crd = resourceApiDefinition(promise());
    expect(crd).toMatchObject({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: {
        name: 'mongodbs.promise.kratix.io',
        labels: { 'kratix.io/promise-name': 'mongodb' },
      },
    });
    const version = (crd!.spec as { versions: Record<string, unknown>[] }).versions[0]!;
    expect(version.subresources).toEqual({ status: {} });
    expect(version.additionalPrinterColumns).toEqual(
      expect.arrayContaining([{ name: 'Status', type: 'string', jsonPath: '.status.message' }]),
    );
    const schema = (version.schema as { openAPIV3Schema: { properties: Record<string, unknown> } })
      .openAPIV3Schema;
    expect(schema.properties.status).toEqual({
      type: 'object',
      'x-kubernetes-preserve-unknown-fields': true,
    });
    expect(schema.properties.spec).toMatchObject({
      properties: { majorVersion: { type: 'string' } },
    });
  });

  it('keeps printer columns the Promise names itself, and serves no API for a Promise without one', () => {
    const p = promise();
    const api = p.spec!.api as unknown as { spec: { versions: Record<string, unknown>[] } };
    api.spec.versions[0]!.additionalPrinterColumns = [
      { name: 'Major', type: 'string', jsonPath: '.spec.majorVersion' },
    ];
    const version = (resourceApiDefinition(p)!.spec as { versions: Record<string, unknown>[] })
      .versions[0]!;
    expect(version.additionalPrinterColumns).toEqual([
      { name: 'Major', type: 'string', jsonPath: '.spec.majorVersion' },
    ]);
    expect(resourceApiDefinition({ ...p, spec: {} })).toBeUndefined();
  });
});

describe('label values', () => {
  it('keeps short values and shortens long ones to 63 characters, distinct and stable', () => {
    expect(labelValue('mongodb-db-1-instance-configure')).toBe('mongodb-db-1-instance-configure');
    const long = `${'a'.repeat(100)}-configure`;
    const other = `${'a'.repeat(100)}-configurf`;
    expect(labelValue(long)).toHaveLength(63);
    expect(labelValue(long)).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
    expect(labelValue(long)).toBe(labelValue(long));
    expect(labelValue(long)).not.toBe(labelValue(other));
  });
});

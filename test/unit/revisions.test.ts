import { describe, expect, it } from 'vitest';
import { setCondition } from '../../src/model/conditions';
import {
  bindingFollows,
  buildPromiseRevision,
  buildResourceBinding,
  desiredVersion,
  revisionName,
} from '../../src/model/revisions';
import type { KratixPromise } from '../../src/model/types';

const promise: KratixPromise = {
  apiVersion: 'platform.kratix.io/v1alpha1',
  kind: 'Promise',
  metadata: { name: 'redis', labels: { 'kratix.io/promise-version': 'v0.1.0' } },
  spec: { dependencies: [] },
};

describe('PromiseRevision rules (Kratix docs: Promise Revisions)', () => {
  it('names a revision <promise>-<version> as a valid DNS name', () => {
    expect(revisionName('redis', 'v0.1.0')).toBe('redis-v0.1.0');
    expect(revisionName('redis', 'not-set')).toBe('redis-not-set');
    expect(revisionName('Redis', 'V1_2')).toBe('redis-v1-2');
  });

  it('snapshots the full spec with the promise-name label, and the latest label only when latest', () => {
    const latest = buildPromiseRevision(promise, 'v0.1.0', true);
    expect(latest.metadata.labels).toEqual({
      'kratix.io/promise-name': 'redis',
      'kratix.io/latest-revision': 'true',
    });
    expect(latest.spec).toEqual({
      promiseRef: { name: 'redis' },
      promiseSpec: promise.spec,
      version: 'v0.1.0',
    });
    expect(buildPromiseRevision(promise, 'v0.1.0', false).metadata.labels).toEqual({
      'kratix.io/promise-name': 'redis',
    });
  });
});

describe('ResourceBinding rules', () => {
  const binding = (version: string) => buildResourceBinding('redis', { name: 'cache-a' }, version);

  it('binds a new request to latest in its namespace (default when none)', () => {
    const b = buildResourceBinding('redis', { name: 'cache-a' });
    expect(b.metadata).toMatchObject({ name: 'cache-a-redis', namespace: 'default' });
    expect(b.spec).toEqual({
      promiseRef: { name: 'redis' },
      resourceRef: { name: 'cache-a', namespace: 'default' },
      version: 'latest',
    });
  });

  it('resolves a floating binding to the latest version and a pinned one to its pin', () => {
    expect(desiredVersion(binding('latest'), 'v0.2.0')).toBe('v0.2.0');
    expect(desiredVersion(binding('v0.1.0'), 'v0.2.0')).toBe('v0.1.0');
  });

  it('re-runs floating requests and requests pinned to exactly the updated version', () => {
    expect(bindingFollows(binding('latest'), 'v0.2.0')).toBe(true);
    expect(bindingFollows(undefined, 'v0.2.0')).toBe(true);
    expect(bindingFollows(binding('v0.2.0'), 'v0.2.0')).toBe(true);
    expect(bindingFollows(binding('v0.1.0'), 'v0.2.0')).toBe(false);
  });
});

describe('conditions', () => {
  it('keeps lastTransitionTime while the status stays, and moves it when the status changes', () => {
    const first = setCondition(undefined, { type: 'Ready', status: 'True', reason: 'R' }, 't1');
    const same = setCondition(
      first,
      { type: 'Ready', status: 'True', reason: 'R2', message: 'm' },
      't2',
    );
    expect(same).toEqual([
      { type: 'Ready', status: 'True', reason: 'R2', message: 'm', lastTransitionTime: 't1' },
    ]);
    const changed = setCondition(same, { type: 'Ready', status: 'False', reason: 'R3' }, 't3');
    expect(changed[0]).toMatchObject({ status: 'False', lastTransitionTime: 't3' });
    expect(
      setCondition(changed, { type: 'Other', status: 'True', reason: 'X' }, 't4'),
    ).toHaveLength(2);
  });
});

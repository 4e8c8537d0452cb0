import { describe, expect, it } from 'vitest';
import {
  batchSize,
  budgetBreach,
  defaultRollout,
  describeRollout,
  needsApproval,
  planBatches,
  type RolloutPolicy,
} from '../../src/model/rollout';
import {
  resolveRollout,
  selectRolloutPolicy,
  validateRolloutPolicy,
} from '../../src/model/validate-rollout';
import { validateObject } from '../../src/model/validate';

const policy = (name: string, spec: object): RolloutPolicy => ({
  apiVersion: 'promiseflow.io/v1alpha1',
  kind: 'RolloutPolicy',
  metadata: { name },
  spec,
});

describe('rollout policy rules', () => {
  it('keeps today’s behaviour without a policy: one batch, no budget, halt', () => {
    const r = resolveRollout({ concurrency: 7 });
    expect(r).toEqual(defaultRollout(7));
    expect(batchSize(r, 0, 1000)).toBe(Infinity);
    expect(
      budgetBreach(r, { batch: 0, failed: 999, canaryFailed: 0, total: 1000 }),
    ).toBeUndefined();
    expect(needsApproval(r, 0)).toBe(false);
  });

  it('sizes batches by count or percentage (rounded up), the canary first', () => {
    const r = resolveRollout({
      concurrency: 10,
      override: { canary: { count: 2 }, batchSize: '25%' },
    });
    expect(batchSize(r, 0, 10)).toBe(2);
    expect(batchSize(r, 1, 10)).toBe(3);
    const names = Array.from({ length: 10 }, (_, i) => ({ name: `r${i}` }));
    expect(planBatches(r, names).map((b) => b.length)).toEqual([2, 3, 3, 2]);
  });

  it('puts labelled requests in the canary and keeps batch numbers when none is labelled', () => {
    const r = resolveRollout({
      concurrency: 1,
      override: { canary: { matchLabels: { canary: 'yes' } }, batchSize: 2 },
    });
    const fleet = [
      { name: 'a' },
      { name: 'b', labels: { canary: 'yes' } },
      { name: 'c' },
      { name: 'd' },
    ];
    expect(planBatches(r, fleet).map((b) => b.map((x) => x.name))).toEqual([
      ['b'],
      ['a', 'c'],
      ['d'],
    ]);
    expect(
      planBatches(r, [{ name: 'a' }, { name: 'c' }, { name: 'd' }]).map((b) => b.length),
    ).toEqual([2, 1]);
  });

  it('halts at the first failure past the budget, and at any canary failure', () => {
    const r = resolveRollout({
      concurrency: 1,
      override: { canary: { count: 1 }, maxFailures: 2 },
    });
    expect(budgetBreach(r, { batch: 0, failed: 1, canaryFailed: 1, total: 10 })).toContain(
      'canary batch failed',
    );
    expect(budgetBreach(r, { batch: 2, failed: 2, canaryFailed: 0, total: 10 })).toBeUndefined();
    expect(budgetBreach(r, { batch: 2, failed: 3, canaryFailed: 0, total: 10 })).toBe(
      '3 resource(s) failed, more than maxFailures (2)',
    );
    const pct = resolveRollout({ concurrency: 1, override: { maxFailures: '10%' } });
    expect(budgetBreach(pct, { batch: 1, failed: 10, canaryFailed: 0, total: 95 })).toBeUndefined();
    expect(budgetBreach(pct, { batch: 1, failed: 11, canaryFailed: 0, total: 95 })).toContain(
      '10% = 10',
    );
  });

  it('gates the batch after the canary, or every batch', () => {
    const after = resolveRollout({
      concurrency: 1,
      override: { canary: { count: 1 }, approval: 'afterCanary' },
    });
    expect([0, 1, 2].map((i) => needsApproval(after, i))).toEqual([false, true, false]);
    const every = resolveRollout({ concurrency: 1, override: { approval: 'everyBatch' } });
    expect([0, 1, 2].map((i) => needsApproval(every, i))).toEqual([true, true, true]);
  });

  it('lets the update override the policy, field by field', () => {
    const p = policy('careful', {
      promiseNames: ['db'],
      batchSize: 5,
      maxFailures: 1,
      onFailure: 'rollback',
    });
    const r = resolveRollout({
      concurrency: 10,
      policy: p,
      override: { maxFailures: 3, soakTime: '1m30s' },
    });
    expect(r).toMatchObject({
      policy: 'careful',
      overridden: true,
      batchSize: { count: 5 },
      maxFailures: { count: 3 },
      onFailure: 'rollback',
      soakMs: 90_000,
    });
    expect(describeRollout(r)).toBe(
      'policy careful (overridden), batches of 5, maxConcurrency 10, soak 90s, maxFailures 3, onFailure rollback',
    );
  });

  it('selects the policy naming a Promise over one selecting it by label, then by name', () => {
    const byLabel = policy('a-by-label', { promiseSelector: { matchLabels: { tier: 'data' } } });
    const byName = policy('z-by-name', { promiseNames: ['db'] });
    const all = policy('b-all', { promiseSelector: {} });
    const db = { metadata: { name: 'db', labels: { tier: 'data' } } };
    expect(selectRolloutPolicy([byLabel, byName, all], db)?.metadata.name).toBe('z-by-name');
    expect(selectRolloutPolicy([all, byLabel], db)?.metadata.name).toBe('a-by-label');
    expect(selectRolloutPolicy([byName], { metadata: { name: 'cache' } })).toBeUndefined();
  });

  it('refuses bad policies naming file, object, field and expectation', () => {
    const bad = (spec: object) => () =>
      validateRolloutPolicy({ ...policy('p', { promiseNames: ['db'] }), spec }, 'policy.yaml');
    expect(bad({ promiseNames: ['db'], maxFailures: -1 })).toThrow(
      /policy.yaml.*RolloutPolicy "p".*spec.maxFailures.*whole number of at least 0/,
    );
    expect(bad({ promiseNames: ['db'], batchSize: '150%' })).toThrow(/spec.batchSize/);
    expect(bad({ promiseNames: ['db'], canary: { count: 1, matchLabels: { a: 'b' } } })).toThrow(
      /spec.canary.*either count or matchLabels/,
    );
    expect(bad({ promiseNames: ['db'], onFailure: 'panic' })).toThrow(
      /spec.onFailure.*halt, rollback.*panic/,
    );
    expect(bad({ promiseNames: ['db'], soakTime: 'soon' })).toThrow(/spec.soakTime.*duration/);
    expect(bad({ promiseNames: ['db'], approval: 'afterCanary' })).toThrow(/spec.approval.*canary/);
    expect(bad({ batchSize: 2 })).toThrow(/spec.*promiseNames or promiseSelector/);
    expect(bad({ promiseNames: ['db'], batchsize: 2 })).toThrow(/spec.batchsize.*unknown field/);
    expect(() => resolveRollout({ concurrency: 1, override: { maxConcurrency: 0 } })).toThrow(
      /update input.*options.rollout.maxConcurrency/,
    );
  });

  it('is an object `apply` understands, beside Kratix kinds', () => {
    const p = policy('p', { promiseSelector: {}, batchSize: '50%' });
    expect(validateObject(p, { file: 'f.yaml' }).kind).toBe('RolloutPolicy');
    expect(() =>
      validateObject({ ...p, apiVersion: 'platform.kratix.io/v1alpha1' }, { file: 'f.yaml' }),
    ).toThrow(/apiVersion.*promiseflow.io\/v1alpha1/);
  });
});

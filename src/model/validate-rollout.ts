/**
 * Checks RolloutPolicy objects and per-update overrides, and settles the rollout one update
 * runs with (defaults → the policy selected for the Promise → the update's override).
 * Errors name the file, the object, the field and what was expected. Pure.
 */
import { InvalidInputError } from './errors';
import {
  at,
  fail,
  header,
  isMap,
  labels,
  list,
  map,
  objectName,
  optMap,
  optOneOf,
  shown,
  typeName,
  type Json,
  type Where,
} from './field-checks';
import {
  APPROVAL,
  CANARY_LABEL,
  defaultRollout,
  ON_FAILURE,
  ROLLOUT_API_VERSION,
  type Amount,
  type ResolvedRollout,
  type RolloutPolicy,
} from './rollout';
import { matchesMatchLabels } from './selectors';
import type { KratixPromise } from './types';
import { parseGoDuration } from './validate-promise';

const SPEC_FIELDS = [
  'canary',
  'batchSize',
  'maxConcurrency',
  'soakTime',
  'progressDeadline',
  'maxFailures',
  'onFailure',
  'approval',
] as const;

function knownFields(w: Where, value: Json, field: string, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      fail(w, at(field, key), `one of the fields ${allowed.join(', ')}`, `unknown field "${key}"`);
    }
  }
}

function positiveInt(w: Where, value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    fail(w, field, 'a whole number of at least 1', shown(value));
  }
  return value;
}

/** `5` or `"25%"`; `zero` allows 0 (a failure budget of none). */
function amount(w: Where, value: unknown, field: string, zero: boolean): Amount {
  const min = zero ? 0 : 1;
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < min) {
      fail(
        w,
        field,
        `a whole number of at least ${min}, or a percentage such as "25%"`,
        shown(value),
      );
    }
    return { count: value };
  }
  if (typeof value === 'string') {
    const m = /^(\d+(?:\.\d+)?)%$/.exec(value.trim());
    const percent = m ? Number(m[1]) : NaN;
    if (m && percent >= min && percent <= 100) return { percent };
    if (/^\d+$/.test(value.trim()) && Number(value) >= min) return { count: Number(value) };
  }
  fail(w, field, `a whole number of at least ${min}, or a percentage such as "25%"`, shown(value));
}

function duration(w: Where, value: unknown, field: string): number {
  if (typeof value !== 'string') fail(w, field, 'a duration such as 30s or 10m', typeName(value));
  const ms = parseGoDuration(value);
  if (ms === undefined || ms < 0) fail(w, field, 'a duration such as 30s or 10m', shown(value));
  return ms;
}

/**
 * Checks a rollout spec (a policy's, or an override given to one update) and returns it
 * settled against `defaults`. `field` prefixes every field named in an error.
 */
export function resolveRolloutSpec(
  w: Where,
  value: unknown,
  field: string,
  base: ResolvedRollout,
): ResolvedRollout {
  const s = map(w, value, field);
  const f = (k: string) => (field === '' ? k : `${field}.${k}`);
  const out: ResolvedRollout = { ...base };
  if (s.canary !== undefined && s.canary !== null) {
    const c = map(w, s.canary, f('canary'));
    knownFields(w, c, f('canary'), ['count', 'matchLabels']);
    if (c.count !== undefined && c.matchLabels !== undefined) {
      fail(w, f('canary'), 'either count or matchLabels, not both', 'both');
    }
    if (c.matchLabels !== undefined) {
      const m = labels(w, c.matchLabels, f('canary.matchLabels'));
      if (Object.keys(m).length === 0) {
        fail(
          w,
          f('canary.matchLabels'),
          `at least one label, e.g. ${CANARY_LABEL}: "true"`,
          'empty',
        );
      }
      out.canary = { matchLabels: m };
    } else if (c.count !== undefined) {
      out.canary = { count: positiveInt(w, c.count, f('canary.count')) };
    } else {
      fail(w, f('canary'), 'count or matchLabels', 'neither');
    }
  }
  if (s.batchSize !== undefined) out.batchSize = amount(w, s.batchSize, f('batchSize'), false);
  if (s.maxConcurrency !== undefined) {
    out.maxConcurrency = positiveInt(w, s.maxConcurrency, f('maxConcurrency'));
  }
  if (s.soakTime !== undefined) out.soakMs = duration(w, s.soakTime, f('soakTime'));
  if (s.progressDeadline !== undefined) {
    const ms = duration(w, s.progressDeadline, f('progressDeadline'));
    if (ms < 1000)
      fail(w, f('progressDeadline'), 'a duration of at least 1s', shown(s.progressDeadline));
    out.progressDeadlineMs = ms;
  }
  if (s.maxFailures !== undefined)
    out.maxFailures = amount(w, s.maxFailures, f('maxFailures'), true);
  const onFailure = optOneOf(w, s.onFailure, f('onFailure'), ON_FAILURE);
  if (onFailure) out.onFailure = onFailure;
  const approval = optOneOf(w, s.approval, f('approval'), APPROVAL);
  if (approval) out.approval = approval;
  if (out.approval === 'afterCanary' && !out.canary) {
    fail(
      w,
      f('approval'),
      'a canary (spec.canary) for afterCanary to wait after',
      'afterCanary without a canary',
    );
  }
  return out;
}

/** A RolloutPolicy as `promiseflow apply` takes it; errors name file, object and field. */
export function validateRolloutPolicy(obj: unknown, file?: string): RolloutPolicy {
  const [o, w] = header(obj, file, 'RolloutPolicy');
  if (o.apiVersion !== ROLLOUT_API_VERSION)
    fail(w, 'apiVersion', ROLLOUT_API_VERSION, shown(o.apiVersion));
  const spec = map(w, o.spec ?? {}, 'spec');
  knownFields(w, spec, 'spec', [...SPEC_FIELDS, 'promiseNames', 'promiseSelector']);
  if (spec.promiseNames !== undefined) {
    list(w, spec.promiseNames, 'spec.promiseNames').forEach((n, i) =>
      objectName(w, n, `spec.promiseNames[${i}]`),
    );
  }
  const sel = optMap(w, spec.promiseSelector, 'spec.promiseSelector');
  if (sel) {
    knownFields(w, sel, 'spec.promiseSelector', ['matchLabels']);
    if (sel.matchLabels !== undefined)
      labels(w, sel.matchLabels, 'spec.promiseSelector.matchLabels');
  }
  if (spec.promiseNames === undefined && sel === undefined) {
    fail(
      w,
      'spec',
      'promiseNames or promiseSelector (which Promises the policy applies to)',
      'neither',
    );
  }
  resolveRolloutSpec(w, spec, 'spec', defaultRollout(1));
  return o as RolloutPolicy;
}

/**
 * The policy for a Promise: one naming it beats one selecting it by label; among equals,
 * the first by name (so the choice never depends on listing order).
 */
export function selectRolloutPolicy(
  policies: RolloutPolicy[],
  promise: Pick<KratixPromise, 'metadata'>,
): RolloutPolicy | undefined {
  const name = promise.metadata.name;
  const byName = (p: RolloutPolicy) => p.spec?.promiseNames?.includes(name) ?? false;
  const bySelector = (p: RolloutPolicy) =>
    p.spec?.promiseSelector !== undefined &&
    matchesMatchLabels(promise.metadata.labels, p.spec.promiseSelector.matchLabels);
  const sorted = [...policies].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  return sorted.find(byName) ?? sorted.find(bySelector);
}

/**
 * The rollout for one update: defaults, then the selected policy (or the one the update
 * names), then the update's own override. Throws InvalidInputError naming what is wrong.
 */
export function resolveRollout(input: {
  concurrency: number;
  policy?: RolloutPolicy;
  override?: unknown;
}): ResolvedRollout {
  let r = defaultRollout(input.concurrency);
  if (input.policy) {
    const w = { object: `RolloutPolicy "${input.policy.metadata.name}"` };
    r = {
      ...resolveRolloutSpec(w, input.policy.spec ?? {}, 'spec', r),
      policy: input.policy.metadata.name,
    };
  }
  if (input.override !== undefined && input.override !== null) {
    if (!isMap(input.override)) {
      throw new InvalidInputError({
        object: 'update input',
        field: 'options.rollout',
        expected: 'object',
        got: typeName(input.override),
      });
    }
    const w = { object: 'update input' };
    knownFields(w, input.override, 'options.rollout', SPEC_FIELDS);
    r = { ...resolveRolloutSpec(w, input.override, 'options.rollout', r), overridden: true };
  }
  return r;
}

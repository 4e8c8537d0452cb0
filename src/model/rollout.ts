/**
 * Rollout policies (Promiseflow's own API, beside Kratix's): how a Promise update moves its
 * fleet — a canary batch, batches of a size or a percentage, concurrency inside a batch,
 * soak time, a failure budget, a progress deadline per batch, approval gates, and what to
 * do on a breach. Pure and light (workflow code imports it): the workflow asks these
 * functions every decision and records it. Checking a policy is validate-rollout.ts.
 */
import { matchesMatchLabels } from './selectors';
import type { KratixObject } from './types';

export const ROLLOUT_GROUP = 'promiseflow.io';
export const ROLLOUT_API_VERSION = `${ROLLOUT_GROUP}/v1alpha1`;
export const ROLLOUT_KIND = 'RolloutPolicy';

/** The version a rolled-back Promise holds its floating requests at (`status.rollout`). */
export function heldVersionOf(promise: { status?: object } | undefined): string | undefined {
  const r = (promise?.status as { rollout?: { heldVersion?: unknown } } | undefined)?.rollout;
  return typeof r?.heldVersion === 'string' ? r.heldVersion : undefined;
}
/** The label that puts a resource request in the canary batch when a policy selects it so. */
export const CANARY_LABEL = 'rollout.promiseflow.io/canary';

export const ON_FAILURE = ['halt', 'rollback'] as const;
export type OnFailure = (typeof ON_FAILURE)[number];
/** `afterCanary`: one gate, before the first batch after the canary; `everyBatch`: before each. */
export const APPROVAL = ['none', 'afterCanary', 'everyBatch'] as const;
export type Approval = (typeof APPROVAL)[number];

/** What a policy (or a per-update override) says; every field optional. */
export interface RolloutSpec {
  /** The first batch, run alone: the first `count` resources, or those matching `matchLabels`. */
  canary?: { count?: number; matchLabels?: Record<string, string> };
  /** Resources per batch after the canary: a count, or a percentage of the fleet ("25%"). */
  batchSize?: number | string;
  /** Resources re-running at once inside a batch. */
  maxConcurrency?: number;
  /** Pause between batches (Go duration, e.g. "30s"). */
  soakTime?: string;
  /** A batch not finished this long after it started halts the rollout (Go duration). */
  progressDeadline?: string;
  /** Failures allowed before the rollout halts: a count, or a percentage of the fleet ("10%"). */
  maxFailures?: number | string;
  onFailure?: OnFailure;
  approval?: Approval;
}

export interface RolloutPolicySpec extends RolloutSpec {
  /** Promises this policy applies to, by name. */
  promiseNames?: string[];
  /** ...or by label (`{}` selects every Promise). */
  promiseSelector?: { matchLabels?: Record<string, string> };
}

export type RolloutPolicy = KratixObject<RolloutPolicySpec>;

/** A count or a percentage of the fleet. */
export type Amount = { count: number } | { percent: number };

/** A rollout with every decision's inputs settled: JSON, carried by the workflow. */
export interface ResolvedRollout {
  /** The RolloutPolicy it came from (absent: the defaults), and whether the update overrode it. */
  policy?: string;
  overridden?: boolean;
  canary?: { count: number } | { matchLabels: Record<string, string> };
  batchSize?: Amount;
  maxConcurrency: number;
  soakMs: number;
  progressDeadlineMs?: number;
  maxFailures?: Amount;
  onFailure: OnFailure;
  approval: Approval;
}

/** Today's behaviour when no policy applies: every resource, `concurrency` at a time, to the end. */
export function defaultRollout(concurrency: number): ResolvedRollout {
  return { maxConcurrency: concurrency, soakMs: 0, onFailure: 'halt', approval: 'none' };
}

/** `amount` of `total`, rounded up (a percentage of a small fleet is still at least one). */
function of(a: Amount, total: number): number {
  return 'count' in a ? a.count : Math.ceil((a.percent * total) / 100);
}

/** Is batch 0 the canary? */
export function hasCanary(r: ResolvedRollout): boolean {
  return r.canary !== undefined;
}

/** How many resources batch `index` takes (Infinity: all that remain, or the whole canary set). */
export function batchSize(r: ResolvedRollout, index: number, total: number): number {
  if (index === 0 && r.canary) return 'count' in r.canary ? r.canary.count : Infinity;
  return r.batchSize ? Math.max(1, of(r.batchSize, total)) : Infinity;
}

/** Does batch `index` wait for `promiseflow approve` before it starts? */
export function needsApproval(r: ResolvedRollout, index: number): boolean {
  if (r.approval === 'everyBatch') return true;
  return r.approval === 'afterCanary' && index === 1;
}

/**
 * Why the rollout must stop, or undefined. A canary tolerates no failure; after it, more
 * failures than the budget halt the rollout (`maxFailures: 2` halts at the third).
 */
export function budgetBreach(
  r: ResolvedRollout,
  counts: { batch: number; failed: number; canaryFailed: number; total: number },
): string | undefined {
  if (r.canary && counts.batch === 0 && counts.canaryFailed > 0) {
    return `the canary batch failed (${counts.canaryFailed} resource(s)); no other resource was touched`;
  }
  if (!r.maxFailures) return undefined;
  const budget = of(r.maxFailures, counts.total);
  if (counts.failed > budget) {
    const shownBudget =
      'count' in r.maxFailures ? `${budget}` : `${r.maxFailures.percent}% = ${budget}`;
    return `${counts.failed} resource(s) failed, more than maxFailures (${shownBudget})`;
  }
  return undefined;
}

/** `2m30s` for messages. */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

function formatAmount(a: Amount): string {
  return 'count' in a ? String(a.count) : `${a.percent}%`;
}

/** One line for history readers, `status` and `plan`: what this rollout will do. */
export function describeRollout(r: ResolvedRollout): string {
  const parts: string[] = [];
  parts.push(
    r.policy
      ? `policy ${r.policy}${r.overridden ? ' (overridden)' : ''}`
      : r.overridden
        ? 'per-update policy'
        : 'default policy',
  );
  if (r.canary) {
    parts.push(
      'count' in r.canary
        ? `canary ${r.canary.count}`
        : `canary ${Object.entries(r.canary.matchLabels)
            .map(([k, v]) => `${k}=${v}`)
            .join(',')}`,
    );
  }
  parts.push(r.batchSize ? `batches of ${formatAmount(r.batchSize)}` : 'one batch');
  parts.push(`maxConcurrency ${r.maxConcurrency}`);
  if (r.soakMs) parts.push(`soak ${formatDuration(r.soakMs)}`);
  if (r.progressDeadlineMs) parts.push(`progressDeadline ${formatDuration(r.progressDeadlineMs)}`);
  parts.push(r.maxFailures ? `maxFailures ${formatAmount(r.maxFailures)}` : 'no failure budget');
  parts.push(`onFailure ${r.onFailure}`);
  if (r.approval !== 'none') parts.push(`approval ${r.approval}`);
  return parts.join(', ');
}

/** Splits an ordered fleet into batches as the workflow will (for `plan`). */
export function planBatches<T extends { name?: string; labels?: Record<string, string> }>(
  r: ResolvedRollout,
  resources: T[],
): T[][] {
  const batches: T[][] = [];
  let rest = resources;
  if (r.canary && 'matchLabels' in r.canary) {
    const m = r.canary.matchLabels;
    const canary = resources.filter((x) => matchesMatchLabels(x.labels, m));
    if (canary.length) batches.push(canary);
    rest = resources.filter((x) => !matchesMatchLabels(x.labels, m));
  }
  // A label-selected canary is batch 0 even when it selects nobody (as in the workflow).
  let index = r.canary && 'matchLabels' in r.canary ? 1 : 0;
  while (rest.length > 0) {
    const size = batchSize(r, index, resources.length);
    batches.push(rest.slice(0, size));
    rest = rest.slice(size);
    index++;
  }
  return batches;
}

/**
 * The fan-out of a Promise update under its rollout policy: batches (a canary first), a
 * bounded number of resource re-runs at once, approval gates, soak time, a failure budget
 * and a progress deadline per batch, and the rollback of every moved resource when the
 * policy says so. Every decision is made here, in workflow code, so history records it;
 * the rules themselves are pure (model/rollout.ts).
 */
import { condition, isCancellation, sleep } from '@temporalio/workflow';
import type { PromiseSnapshot } from '../activities';
import type { ResolvedRollout } from '../model/rollout';
import { batchSize, budgetBreach, formatDuration, needsApproval } from '../model/rollout';
import { acts } from './activity-proxies';
import { failureMessage } from './failures';
import type { UpdateProgress } from './promiseUpdate';

export interface ResourceId {
  namespace: string;
  name: string;
}

/** Where a rollout is, carried across continue-as-new. */
export interface RolloutCursor {
  resolved: ResolvedRollout;
  /** 0-based batch running (or the next to start while `inBatch` is 0). */
  batch: number;
  inBatch: number;
  /** Workflow time the running batch started (its progress deadline counts from here). */
  batchStartedAt?: number;
  /** A label-selected canary is listed apart from the rest of the fleet. */
  stream: 'canary' | 'rest';
  /** Highest 0-based batch approved (-1: none). */
  approvedUpTo: number;
  started: number;
  canaryFailed: number;
  /** Resources this rollout started, kept only when a breach rolls back. */
  moved?: ResourceId[];
}

export function newRolloutCursor(resolved: ResolvedRollout): RolloutCursor {
  return {
    resolved,
    batch: 0,
    inBatch: 0,
    stream: resolved.canary && 'matchLabels' in resolved.canary ? 'canary' : 'rest',
    approvedUpTo: -1,
    started: 0,
    canaryFailed: 0,
    ...(resolved.onFailure === 'rollback' ? { moved: [] } : {}),
  };
}

/** What the update gives the fan-out: its state, its controls and how to run one resource. */
export interface FleetContext {
  snapshot: PromiseSnapshot;
  progress: UpdateProgress;
  ro: RolloutCursor;
  /** Rollout-policy commands (approval records, timers, rollback) are only in new histories. */
  policyOn: boolean;
  pageSize: number;
  childrenPerRun: number;
  /** Histories before live progress listed it once per page. */
  listPerPage: boolean;
  /** Why no new resource may start (abort, supersession), or undefined. */
  stopReason(): string | undefined;
  paused(): boolean;
  report(details: string, boundary?: boolean): void;
  /** Runs one resource's reconcile child; throws its failure. */
  runChild(r: ResourceId, trigger: 'promise-update' | 'rollback'): Promise<void>;
  /** Called once `childrenPerRun` children started: drains and continues as new (never returns). */
  continueAsNew(cursor: string | undefined): Promise<never>;
}

export type FleetEnd = 'finished' | 'stopped' | 'halted';

const MAX_RECORDED_FAILURES = 20;

/** 1-based, and "canary" for the canary batch: how people read batch numbers. */
export function batchLabel(ro: RolloutCursor, index = ro.batch): string {
  return ro.resolved.canary && index === 0 ? 'batch 1 (canary)' : `batch ${index + 1}`;
}

export async function rollOutFleet(ctx: FleetContext, startCursor?: string): Promise<FleetEnd> {
  const { snapshot, progress, ro } = ctx;
  const r = ro.resolved;
  const running = new Set<Promise<void>>();
  const canaryLabels = r.canary && 'matchLabels' in r.canary ? r.canary.matchLabels : undefined;
  let cursor = startCursor;
  let startedThisRun = 0;
  let batchOpen = ro.inBatch > 0;
  const stopped = () =>
    ctx.stopReason() !== undefined || progress.rollout?.haltReason !== undefined;

  function breach(reason: string): void {
    if (!progress.rollout || progress.rollout.haltReason) return;
    progress.rollout.haltReason = reason;
    progress.rollout.state = 'halted';
    ctx.report(`halting: ${reason} (the re-runs in flight finish)`, true);
  }

  function checkBudget(): void {
    const why = budgetBreach(r, {
      batch: ro.batch,
      failed: progress.failed,
      canaryFailed: ro.canaryFailed,
      total: progress.total,
    });
    if (why) breach(why);
  }

  function watchDeadline(batch: number): void {
    if (!r.progressDeadlineMs || ro.batchStartedAt === undefined) return;
    const left = ro.batchStartedAt + r.progressDeadlineMs - Date.now();
    // Not awaited: fires beside the batch; a batch already done ignores it.
    void sleep(Math.max(left, 1)).then(() => {
      if (ro.batch === batch && batchOpen) {
        breach(
          `${batchLabel(ro, batch)} did not finish within its progress deadline (${formatDuration(r.progressDeadlineMs!)})`,
        );
      }
    });
  }

  async function reconcileOne(res: ResourceId): Promise<void> {
    progress.running++;
    const inCanary = r.canary !== undefined && ro.batch === 0;
    try {
      await ctx.runChild(res, 'promise-update');
      progress.done++;
    } catch (err) {
      if (isCancellation(err)) throw err;
      progress.failed++;
      if (inCanary) ro.canaryFailed++;
      if (progress.failures.length < MAX_RECORDED_FAILURES) {
        // The child's message starts with the resource it names; the entry names it already.
        const message = failureMessage(err);
        const label = `${snapshot.promiseName} ${res.namespace}/${res.name}: `;
        progress.failures.push({
          resource: `${res.namespace}/${res.name}`,
          message: message.startsWith(label) ? message.slice(label.length) : message,
        });
      }
      checkBudget();
    } finally {
      progress.running--;
      ctx.report(activity());
    }
  }

  function activity(): string {
    const stop = ctx.stopReason();
    if (stop) return `stopping: ${stop}`;
    if (progress.rollout?.haltReason) return `halting: ${progress.rollout.haltReason}`;
    if (ctx.paused()) return 'paused';
    return progress.rollout && r.batchSize
      ? `re-running resources, ${batchLabel(ro)}`
      : 're-running resources';
  }

  async function beginBatch(): Promise<void> {
    if (progress.rollout) progress.rollout.batch = ro.batch + 1;
    if (ctx.policyOn && needsApproval(r, ro.batch) && ro.approvedUpTo < ro.batch) {
      progress.rollout!.state = 'awaiting-approval';
      const message = `${batchLabel(ro)} waits for approval (promiseflow approve ${snapshot.promiseName})`;
      ctx.report(message, true);
      await acts.recordRollout({
        promiseName: snapshot.promiseName,
        state: 'AwaitingApproval',
        message,
        batch: ro.batch + 1,
      });
      await condition(() => ro.approvedUpTo >= ro.batch || stopped());
      if (stopped()) return;
      progress.rollout!.state = 'running';
    }
    ro.batchStartedAt = Date.now();
    batchOpen = true;
    if (ctx.policyOn && (r.batchSize || r.canary)) ctx.report(`${batchLabel(ro)} started`, true);
    watchDeadline(ro.batch);
  }

  /** The batch's re-runs all finished: check the budget, soak, and move to the next. */
  async function endBatch(): Promise<void> {
    await Promise.all(running);
    batchOpen = false;
    checkBudget();
    if (stopped()) return;
    ro.batch++;
    ro.inBatch = 0;
    if (r.soakMs > 0 && ro.started < progress.total) {
      progress.rollout!.state = 'soaking';
      ctx.report(`soaking ${formatDuration(r.soakMs)} before ${batchLabel(ro)}`, true);
      await condition(stopped, r.soakMs);
      if (!stopped()) progress.rollout!.state = 'running';
    }
  }

  // A batch open when the last run continued as new keeps its deadline.
  if (batchOpen) watchDeadline(ro.batch);

  // A Promise without an API (dependencies only) has no resources to re-run.
  for (;;) {
    if (stopped() || !snapshot.resourceKind) break;
    const page = await acts.listResourcesForUpdate({
      promiseName: snapshot.promiseName,
      version: snapshot.version,
      cursor,
      pageSize: ctx.pageSize,
      ...(canaryLabels
        ? ro.stream === 'canary'
          ? { matchLabels: canaryLabels }
          : { excludeLabels: canaryLabels }
        : {}),
    });
    for (const res of page.resources) {
      await condition(() => !ctx.paused() || stopped());
      if (stopped()) break;
      if (ro.inBatch === 0) {
        await beginBatch();
        if (stopped()) break;
      }
      while (running.size >= r.maxConcurrency) await Promise.race(running);
      if (stopped()) break;
      ro.moved?.push(res);
      const p: Promise<void> = reconcileOne(res).finally(() => running.delete(p));
      running.add(p);
      ro.inBatch++;
      ro.started++;
      startedThisRun++;
      if (ro.inBatch >= batchSize(r, ro.batch, progress.total)) await endBatch();
    }
    cursor = page.cursor;
    ctx.report(activity(), ctx.listPerPage);
    if (stopped()) break;
    if (!cursor) {
      if (ro.stream !== 'canary') break;
      // The canary ran (or selected nobody): the rest of the fleet, listed without it.
      if (ro.inBatch > 0) await endBatch();
      else ro.batch = Math.max(ro.batch, 1);
      ro.stream = 'rest';
      continue;
    }
    if (startedThisRun >= ctx.childrenPerRun) {
      // Keep history bounded: drain, then carry the cursor into a fresh run.
      await Promise.all(running);
      await ctx.continueAsNew(cursor);
    }
  }
  await Promise.all(running);
  batchOpen = false;
  if (progress.rollout?.haltReason) return 'halted';
  return ctx.stopReason() ? 'stopped' : 'finished';
}

/**
 * Re-runs every resource the rollout moved on the previous revision (the Promise holds
 * floating requests there), `maxConcurrency` at a time; a pinned request is left alone.
 */
export async function rollBack(ctx: FleetContext): Promise<{ done: number; failed: number }> {
  const { ro, progress } = ctx;
  const moved = ro.moved ?? [];
  const running = new Set<Promise<void>>();
  const counts = { done: 0, failed: 0 };
  for (const res of moved) {
    while (running.size >= ro.resolved.maxConcurrency) await Promise.race(running);
    const p: Promise<void> = ctx
      .runChild(res, 'rollback')
      .then(
        () => void counts.done++,
        (err: unknown) => {
          if (isCancellation(err)) throw err;
          counts.failed++;
          if (progress.failures.length < MAX_RECORDED_FAILURES) {
            progress.failures.push({
              resource: `${res.namespace}/${res.name}`,
              message: `rollback failed: ${failureMessage(err)}`,
            });
          }
        },
      )
      .finally(() => {
        running.delete(p);
        progress.rollout!.rolledBack = counts.done;
        progress.rollout!.rollbackFailed = counts.failed;
        ctx.report(`rolling back: ${counts.done + counts.failed} of ${moved.length}`);
      });
    running.add(p);
  }
  await Promise.all(running);
  return counts;
}

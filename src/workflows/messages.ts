/**
 * Signals and queries of the workflows, defined once: the workflows set their handlers,
 * and the CLI, the client and the bridge send and ask with the same definitions. Nothing
 * here runs workflow code, so importing it outside a worker is safe.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { PromiseUpdateOptions, UpdateProgress } from './promiseUpdate';
import type { ResourceReconcileState } from './resourceReconcile';

/** A Promise update's progress (done/failed/running/total, phase, failures). */
export const progressQuery = defineQuery<UpdateProgress>('progress');
/** No new resource re-runs start until `resume`. */
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
/** Stop starting resources; the ones in flight finish. The argument says why. */
export const abortSignal = defineSignal<[string?]>('abort');
/** Where one resource's reconcile is. */
export const resourceStateQuery = defineQuery<ResourceReconcileState>('state');
/**
 * Reconcile this resource again once the pass in flight is done: how a second starter (an
 * edit applied while the resource is being reconciled) joins the one run under the
 * resource's id instead of overlapping it.
 */
export const reconcileAgainSignal = defineSignal<[string?]>('reconcileAgain');

/** Lets the batch waiting at an approval gate start; refused (synchronously) when none waits. */
export interface ApproveInput {
  /** The batch (1-based, as `status` shows it) the approver means; refused if another waits. */
  batch?: number;
  /** Who approves (recorded in progress and history). */
  by?: string;
}
export interface ApproveResult {
  batch: number;
  message: string;
}
// One argument; `temporal workflow update execute` without --input sends none (handled as {}).
export const approveUpdate = defineUpdate<ApproveResult, [ApproveInput]>('approve');

/**
 * A newer spec of the Promise was stored while this update runs: no new resource starts,
 * the re-runs in flight finish, then the update continues as new with the newer spec.
 * `key` is the newer spec's trigger key (a duplicate of the run's own key is ignored).
 */
export interface SupersedeInput {
  key: string;
  options?: PromiseUpdateOptions;
}
export const supersedeSignal = defineSignal<[SupersedeInput]>('supersede');

/**
 * Signals and queries of the workflows, defined once: the workflows set their handlers,
 * and the CLI, the client and the bridge send and ask with the same definitions. Nothing
 * here runs workflow code, so importing it outside a worker is safe.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { UpdateProgress } from './promiseUpdate';
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

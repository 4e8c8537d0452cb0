import {
  ApplicationFailure,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  setCurrentDetails,
  setHandler,
} from '@temporalio/workflow';
import type { ResourcePlan, ResourceRef, SchedulingContext, WorkRef } from '../activities';
import { acts, localActs, pipelineActs } from './activity-proxies';
import { failureMessage } from './failures';
import { reconcileAgainSignal, resourceStateQuery } from './messages';
import { scheduleWork } from './scheduling';

export interface ResourceReconcileInput extends ResourceRef {
  /** Why it runs: `create`, `update`, `promise-update`, ... (for history readers). */
  trigger?: string;
  /**
   * The version of the Promise update (or rollback) running this reconcile: a request that
   * follows the latest version runs at it, not at a newer spec stored meanwhile (whose
   * revision the next update has yet to snapshot, after this one hands over).
   */
  version?: string;
}

export interface ResourceReconcileResult {
  /** `skipped`: a rollback left a pinned request alone. */
  outcome: 'reconciled' | 'gone' | 'skipped';
  version?: string;
  works: WorkRef[];
  misplaced: string[];
  unscheduledGroups: number;
}

export interface ResourceReconcileState {
  step: 'binding' | 'waiting' | 'pipelines' | 'scheduling' | 'status' | 'done' | 'failed';
  version?: string;
  pipeline?: string;
  message?: string;
}

export { reconcileAgainSignal, resourceStateQuery };

export const RESOURCE_FAILURE_TYPE = 'ResourceReconcileFailed';

/** Longest pause between looks at a Promise a request waits for. */
const MAX_WAIT_MS = 60_000;
/** Waits (or passes) per run before continue-as-new keeps history bounded. */
const MAX_ROUNDS_PER_RUN = 100;

/**
 * One resource request brought up to date: binding → configure pipelines → scheduling →
 * state-store writes → status. A failed pipeline is recorded on the request and its
 * ResourceBinding (UpgradeFailed) and fails this workflow without retrying in a loop.
 *
 * The one run under the resource's id: a request that cannot run yet waits here (durable
 * timers, said on the request) for its Promise; an edit applied meanwhile signals
 * `reconcileAgain`, and the pass in flight is followed by another with the new spec.
 */
export async function resourceReconcile(
  input: ResourceReconcileInput,
): Promise<ResourceReconcileResult> {
  const ref: ResourceRef = {
    promiseName: input.promiseName,
    namespace: input.namespace,
    name: input.name,
  };
  const state: ResourceReconcileState = { step: 'binding' };
  setHandler(resourceStateQuery, () => state);
  let again = false;
  setHandler(reconcileAgainSignal, () => {
    again = true;
  });
  const label = `${input.promiseName} ${input.namespace}/${input.name}`;
  // Newer runs: binding and status as local activities, the scheduling context read by
  // the pipeline activity (two server round trips per resource instead of five).
  const fewerTrips = patched('fewer-round-trips-v1');

  for (let round = 0; ; round++) {
    if (round >= MAX_ROUNDS_PER_RUN) await continueAsNew<typeof resourceReconcile>(input);
    again = false;
    let waitMs = 1_000;
    const outcome = await reconcilePass(ref, input, label, state, fewerTrips, async (why) => {
      state.step = 'waiting';
      state.message = `waiting for ${why}`;
      setCurrentDetails(`${label}: ${state.message}`);
      // An edit (the signal) looks again at once; otherwise back off up to a minute.
      await condition(() => again, waitMs);
      again = false;
      waitMs = Math.min(waitMs * 2, MAX_WAIT_MS);
      return ++round < MAX_ROUNDS_PER_RUN;
    });
    if (!again) {
      if (outcome instanceof Error) throw outcome;
      if (outcome === 'rounds-used') await continueAsNew<typeof resourceReconcile>(input);
      else return outcome;
    }
    // Signalled during the pass: its spec may be newer than the one just run.
  }
}

/**
 * One pass: the result, the failure to end the run with, or `rounds-used` when waiting
 * used the run's budget (`wait` says whether to look again).
 */
async function reconcilePass(
  ref: ResourceRef,
  input: ResourceReconcileInput,
  label: string,
  state: ResourceReconcileState,
  fewerTrips: boolean,
  wait: (why: string) => Promise<boolean>,
): Promise<ResourceReconcileResult | ApplicationFailure | 'rounds-used'> {
  state.step = 'binding';
  delete state.message;
  setCurrentDetails(`${label}: resolving binding`);
  let version = '';
  const { trigger } = input;
  const prepare = { ...ref, trigger, ...(input.version ? { updateVersion: input.version } : {}) };
  const quick = fewerTrips ? localActs : acts;
  try {
    let plan: ResourcePlan = await quick.prepareResourceReconcile(prepare);
    while (plan.waitingFor) {
      if (!(await wait(plan.waitingFor))) return 'rounds-used';
      plan = await quick.prepareResourceReconcile(prepare);
    }
    if (plan.gone) {
      state.step = 'done';
      setCurrentDetails(`${label}: request deleted, nothing to do`);
      return { outcome: 'gone', works: [], misplaced: [], unscheduledGroups: 0 };
    }
    if (plan.skipped) {
      state.step = 'done';
      setCurrentDetails(`${label}: left alone (${plan.skipped})`);
      return { outcome: 'skipped', works: [], misplaced: [], unscheduledGroups: 0 };
    }
    version = plan.version;
    state.version = version;
    delete state.message;

    state.step = 'pipelines';
    const works: WorkRef[] = [];
    const loaded: { ctx: SchedulingContext | undefined }[] = [];
    for (let i = 0; i < plan.pipelines.length; i++) {
      state.pipeline = plan.pipelines[i];
      setCurrentDetails(
        `${label}: running pipeline ${state.pipeline} (${i + 1}/${plan.pipelines.length}) at ${version}`,
      );
      const result = await pipelineActs.runResourcePipeline({
        ...ref,
        revisionName: plan.revisionName,
        pipelineIndex: i,
        ...(fewerTrips ? { withScheduling: true } : {}),
      });
      works.push(result.work);
      loaded.push({ ctx: result.scheduling });
    }

    state.step = 'scheduling';
    setCurrentDetails(`${label}: scheduling ${works.length} work(s)`);
    const misplaced: string[] = [];
    let unscheduledGroups = 0;
    for (const [i, work] of works.entries()) {
      const summary = await scheduleWork(work, fewerTrips ? loaded[i] : undefined);
      misplaced.push(...summary.misplaced);
      unscheduledGroups += summary.unscheduledGroups;
    }

    state.step = 'status';
    await quick.completeResourceReconcile({
      ...ref,
      version,
      revisionName: plan.revisionName,
      generation: plan.generation,
      ...(trigger === 'rollback' ? { trigger } : {}),
    });
    state.step = 'done';
    setCurrentDetails(
      `${label}: reconciled at ${version}${unscheduledGroups ? ` (${unscheduledGroups} group(s) waiting for a Destination)` : ''}`,
    );
    return { outcome: 'reconciled', version, works, misplaced, unscheduledGroups };
  } catch (err) {
    if (isCancellation(err)) throw err;
    const message = failureMessage(err);
    state.step = 'failed';
    state.message = message;
    setCurrentDetails(`${label}: failed: ${message}`);
    await acts.failResourceReconcile({ ...ref, version, message });
    return ApplicationFailure.nonRetryable(`${label}: ${message}`, RESOURCE_FAILURE_TYPE);
  }
}

import {
  ApplicationFailure,
  isCancellation,
  setCurrentDetails,
  setHandler,
} from '@temporalio/workflow';
import type { ResourceRef, WorkRef } from '../activities';
import { acts, pipelineActs } from './activity-proxies';
import { failureMessage } from './failures';
import { resourceStateQuery } from './messages';
import { scheduleWork } from './scheduling';

export interface ResourceReconcileInput extends ResourceRef {
  /** Why it runs: `create`, `update`, `promise-update`, ... (for history readers). */
  trigger?: string;
}

export interface ResourceReconcileResult {
  outcome: 'reconciled' | 'gone';
  version?: string;
  works: WorkRef[];
  misplaced: string[];
  unscheduledGroups: number;
}

export interface ResourceReconcileState {
  step: 'binding' | 'pipelines' | 'scheduling' | 'status' | 'done' | 'failed';
  version?: string;
  pipeline?: string;
  message?: string;
}

export { resourceStateQuery };

export const RESOURCE_FAILURE_TYPE = 'ResourceReconcileFailed';

/**
 * One resource request brought up to date: binding → configure pipelines → scheduling →
 * state-store writes → status. A failed pipeline is recorded on the request and its
 * ResourceBinding (UpgradeFailed) and fails this workflow without retrying in a loop.
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
  const label = `${input.promiseName} ${input.namespace}/${input.name}`;
  setCurrentDetails(`${label}: resolving binding`);

  let version = '';
  try {
    const plan = await acts.prepareResourceReconcile({ ...ref, trigger: input.trigger });
    if (plan.gone) {
      state.step = 'done';
      setCurrentDetails(`${label}: request deleted, nothing to do`);
      return { outcome: 'gone', works: [], misplaced: [], unscheduledGroups: 0 };
    }
    version = plan.version;
    state.version = version;

    state.step = 'pipelines';
    const works: WorkRef[] = [];
    for (let i = 0; i < plan.pipelines.length; i++) {
      state.pipeline = plan.pipelines[i];
      setCurrentDetails(
        `${label}: running pipeline ${state.pipeline} (${i + 1}/${plan.pipelines.length}) at ${version}`,
      );
      const result = await pipelineActs.runResourcePipeline({
        ...ref,
        revisionName: plan.revisionName,
        pipelineIndex: i,
      });
      works.push(result.work);
    }

    state.step = 'scheduling';
    setCurrentDetails(`${label}: scheduling ${works.length} work(s)`);
    const misplaced: string[] = [];
    let unscheduledGroups = 0;
    for (const work of works) {
      const summary = await scheduleWork(work);
      misplaced.push(...summary.misplaced);
      unscheduledGroups += summary.unscheduledGroups;
    }

    state.step = 'status';
    await acts.completeResourceReconcile({
      ...ref,
      version,
      revisionName: plan.revisionName,
      generation: plan.generation,
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
    throw ApplicationFailure.nonRetryable(`${label}: ${message}`, RESOURCE_FAILURE_TYPE);
  }
}

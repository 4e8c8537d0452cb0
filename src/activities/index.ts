import type { ActivityDeps } from './deps';
import { createDeletionActivities } from './deletion';
import { createDestinationActivities } from './destination';
import { createPromiseActivities } from './promise';
import { createResourceActivities } from './resource';
import { createRolloutActivities } from './rollout';
import { createSchedulingActivities } from './scheduling';

export type { ActivityDeps } from './deps';
export { FAILURE } from './deps';
export type { PromiseSnapshot, PromiseRef } from './promise';
export type { ResourcePlan, ResourceRef } from './resource';
export type { RolloutState } from './rollout';
export type { SchedulingContext } from './scheduling';
export type { DeletePlan } from './deletion';
export { LATEST_REVISION_DELETE_REFUSED } from './deletion';
export type { PipelineWorkResult, WorkRef } from './works';

/** Every activity, built over injected ports (Temporal samples' factory pattern). */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createPromiseActivities(deps),
    ...createResourceActivities(deps),
    ...createRolloutActivities(deps),
    ...createSchedulingActivities(deps),
    ...createDestinationActivities(deps),
    ...createDeletionActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;

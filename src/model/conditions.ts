import type { Condition } from './types';

/** Condition types and their fixed reasons, as Kratix names them. */
export const CONDITION = {
  configureWorkflowCompleted: 'ConfigureWorkflowCompleted',
  reconciled: 'Reconciled',
  available: 'Available',
  upgradeSucceeded: 'UpgradeSucceeded',
  ready: 'Ready',
  scheduled: 'Scheduled',
  /** On a Promise: whether its last update brought every resource request to its version. */
  resourcesReconciled: 'ResourcesReconciled',
  /** On a Promise: where its last update's rollout stands (Promiseflow's rollout policy). */
  rolloutSucceeded: 'RolloutSucceeded',
} as const;

export const REASON = {
  pipelinesExecutedSuccessfully: 'PipelinesExecutedSuccessfully',
  pipelinesInProgress: 'PipelinesInProgress',
  /** A request waits for its Promise (configure workflow, or the revision being snapshotted). */
  waitingForPromise: 'WaitingForPromise',
  configureWorkflowFailed: 'ConfigureWorkflowFailed',
  reconciled: 'Reconciled',
  reconcileFailed: 'ReconcileFailed',
  promiseAvailable: 'PromiseAvailable',
  upgradeInProgress: 'UpgradeInProgress',
  upgradeComplete: 'UpgradeComplete',
  upgradeFailed: 'UpgradeFailed',
  stateStoreReady: 'StateStoreReady',
  stateStoreWriteFailed: 'StateStoreWriteFailed',
  scheduled: 'Scheduled',
  unscheduled: 'NoMatchingDestinations',
  invalidRequest: 'InvalidRequest',
  /** The object itself is refused (bad field, API the platform cannot serve). */
  invalidSpec: 'InvalidSpec',
  allResourcesReconciled: 'AllResourcesReconciled',
  /** The update finished the fleet, but some resource requests failed. */
  resourcesFailed: 'ResourcesFailed',
  updateAborted: 'UpdateAborted',
  rolloutProgressing: 'RolloutProgressing',
  rolloutAwaitingApproval: 'AwaitingApproval',
  rolloutComplete: 'RolloutComplete',
  rolloutHalted: 'RolloutHalted',
  rollingBack: 'RollingBack',
  rolledBack: 'RolledBack',
} as const;

/** Sets (or replaces) a condition by type, keeping lastTransitionTime when status is unchanged. */
export function setCondition(
  conditions: Condition[] | undefined,
  next: Condition,
  now: string,
): Condition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === next.type);
  const prev = i >= 0 ? list[i] : undefined;
  const merged: Condition = {
    ...next,
    lastTransitionTime:
      prev && prev.status === next.status ? (prev.lastTransitionTime ?? now) : now,
  };
  if (i >= 0) list[i] = merged;
  else list.push(merged);
  return list;
}

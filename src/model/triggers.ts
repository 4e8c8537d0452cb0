/**
 * When an object needs a workflow, as a pure function of the objects: what the Kubernetes
 * bridge decides on every event and what starts record (the workflow memo's trigger key),
 * so duplicate events, restarts and a second starter never run the same work twice.
 *
 * A trigger key names the state a run brings about ("generation 3 of the Promise at
 * v0.2.0"). A run recorded with the same key (running or finished) means nothing to do; a
 * different key means the object changed since.
 */
import { CONDITION } from './conditions';
import { isBeingDeleted } from './objects';
import type { Condition, KratixObject, KratixPromise } from './types';
import { promiseVersion } from './validate';

/** Kratix's label asking for a re-run now; the bridge removes it once the run starts. */
export const MANUAL_RECONCILIATION_LABEL = 'kratix.io/manual-reconciliation';

const generation = (o: KratixObject | undefined) => o?.metadata.generation ?? 1;
/**
 * Which incarnation of a name: an object deleted and created again starts at generation 1
 * once more, and must not be taken for the one an old run (same workflow id) served.
 */
const incarnation = (o: KratixObject | undefined) => (o?.metadata.uid ? `~${o.metadata.uid}` : '');
const observed = (o: KratixObject | undefined) => o?.status?.observedGeneration;

export function manualReconciliationRequested(o: KratixObject): boolean {
  return o.metadata.labels?.[MANUAL_RECONCILIATION_LABEL] === 'true';
}

/** A key for a manual re-run: the object's key plus what makes this request unique. */
export function manualKey(key: string, o: KratixObject): string {
  return `${key}#manual-${String(o.metadata.resourceVersion ?? '')}`;
}

/** A recorded run covers `key` when it was started for it (manual re-runs included). */
export function runCovers(recorded: string | undefined, key: string): boolean {
  return recorded !== undefined && (recorded === key || recorded.startsWith(`${key}#`));
}

export function promiseUpdateKey(promise: KratixPromise): string {
  return `g${generation(promise)}/${promiseVersion(promise)}${incarnation(promise)}`;
}

/** Spec or version label changed since the last update was snapshotted. */
export function promiseNeedsUpdate(promise: KratixPromise): boolean {
  return (
    observed(promise) !== generation(promise) || promise.status?.version !== promiseVersion(promise)
  );
}

/**
 * A resource request re-runs when its spec changed (generation) or its ResourceBinding's
 * spec did (a version pinned or unpinned); a binding is created at generation 1 by the
 * first run, which is not a change.
 */
export function resourceReconcileKey(
  request: KratixObject,
  binding: KratixObject | undefined,
): string {
  const b = generation(binding);
  const key = binding && b > 1 ? `r${generation(request)}.b${b}` : `r${generation(request)}`;
  return `${key}${incarnation(request)}`;
}

export function resourceNeedsReconcile(
  request: KratixObject,
  binding: KratixObject | undefined,
): boolean {
  if (observed(request) !== generation(request)) return true;
  if (!binding) return false;
  const seen = observed(binding);
  return generation(binding) > (typeof seen === 'number' ? seen : 1);
}

/** Resources start only once their Promise's configure workflow succeeded. */
export function promiseAvailable(promise: KratixPromise | undefined): boolean {
  const conditions = (promise?.status?.conditions ?? []) as Condition[];
  return (
    !!promise &&
    !isBeingDeleted(promise) &&
    conditions.some((c) => c.type === CONDITION.configureWorkflowCompleted && c.status === 'True')
  );
}

/**
 * A Destination is reconciled (readiness checked, every Work rescheduled) when its spec,
 * its labels (its scheduling labels) or its state store changed.
 */
export function destinationReconcileKey(
  destination: KratixObject,
  stateStore: KratixObject | undefined,
): string {
  const labels = Object.entries(destination.metadata.labels ?? {})
    .filter(([k]) => k !== MANUAL_RECONCILIATION_LABEL)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const store = stateStore
    ? `${stateStore.kind}/${stateStore.metadata.name}@${generation(stateStore)}${incarnation(stateStore)}`
    : 'no-store';
  return `g${generation(destination)}${incarnation(destination)};${store};${labels}`;
}

/** What a deletion run is for: this deletion of this object (a re-created one is new). */
export function deletionKey(o: KratixObject): string {
  return `delete@${String(o.metadata.deletionTimestamp ?? '')}/${String(o.metadata.uid ?? '')}`;
}

import { setCondition } from '../model/conditions';
import type { Condition, KratixObject } from '../model/types';
import type { ObjectKey, PlatformEvent } from '../platform/store';
import type { ActivityDeps } from './deps';
import { nowIso } from './deps';

export type StatusExtra =
  | Record<string, unknown>
  | ((status: Record<string, unknown>, object: KratixObject) => Record<string, unknown>);

/** An object's conditions, typed (status is free-form JSON in the store). */
export function conditionsOf(object: { status?: object } | undefined): Condition[] {
  const list = (object?.status as { conditions?: unknown } | undefined)?.conditions;
  return Array.isArray(list) ? (list as Condition[]) : [];
}

/**
 * The one read-merge-write of status: sets `conditions` (each by type, keeping its
 * transition time when unchanged) and merges `extra` (fields, or a function of the current
 * status) into the object's status, with the store's optimistic concurrency so a concurrent
 * writer's fields are never lost. A missing object is left alone.
 */
export async function writeStatus(
  deps: ActivityDeps,
  key: ObjectKey,
  conditions: Condition[],
  extra: StatusExtra = {},
): Promise<void> {
  const now = nowIso(deps);
  await deps.store.mutateStatus(key, (object) => {
    const current = (object.status ?? {}) as Record<string, unknown>;
    const merged = typeof extra === 'function' ? extra(current, object) : { ...current, ...extra };
    let list = conditionsOf({ status: current });
    for (const c of conditions) list = setCondition(list, c, now);
    return list.length > 0 ? { ...merged, conditions: list } : merged;
  });
}

/** Best effort: an event that cannot be written never fails the work it describes. */
export async function recordEvent(
  deps: ActivityDeps,
  about: ObjectKey,
  event: PlatformEvent,
): Promise<void> {
  try {
    await deps.store.recordEvent(about, event);
  } catch (err) {
    deps.logger.debug({ err, about }, 'event not recorded');
  }
}

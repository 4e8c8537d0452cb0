import type { KratixObject } from './types';

/**
 * An object whose deletion has begun (Kubernetes sets `deletionTimestamp` and keeps the
 * object while finalizers run): it takes no new work, e.g. a Destination being deleted is
 * no longer a scheduling candidate.
 */
export function isBeingDeleted(object: Pick<KratixObject, 'metadata'> | undefined): boolean {
  const stamp = object?.metadata.deletionTimestamp;
  return typeof stamp === 'string' && stamp !== '';
}

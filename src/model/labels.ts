/** Label keys Kratix users select on; one place so CLI, store and tests agree. */
export const LABELS = {
  promiseVersion: 'kratix.io/promise-version',
  promiseName: 'kratix.io/promise-name',
  latestRevision: 'kratix.io/latest-revision',
  resourceName: 'kratix.io/resource-name',
  resourceNamespace: 'kratix.io/resource-namespace',
  work: 'kratix.io/work',
  workType: 'kratix.io/work-type',
  pipelineName: 'kratix.io/pipeline-name',
  targetDestinationName: 'kratix.io/targetDestinationName',
  // The documentation uses both spellings; Promiseflow sets both.
  misplaced: 'kratix.io/misplaced',
  misscheduled: 'kratix.io/misscheduled',
} as const;

export const NOT_SET_VERSION = 'not-set';
export const LATEST_VERSION = 'latest';

/** Kubernetes' limit for a label value. */
const MAX_LABEL_VALUE = 63;

/**
 * `value` as a label value: itself when it fits, else cut to fit and ended with a short
 * hash of the whole, so long names (a Work's name can be ~190 characters) stay distinct
 * and selectable. Pure (no Node modules): workflow code may use it.
 */
export function labelValue(value: string): string {
  if (value.length <= MAX_LABEL_VALUE) return value;
  let hash = 0x811c9dc5; // FNV-1a, 32 bit
  for (let i = 0; i < value.length; i++) {
    hash ^= value.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  const suffix = hash.toString(16).padStart(8, '0');
  const head = value.slice(0, MAX_LABEL_VALUE - suffix.length - 1).replace(/[^A-Za-z0-9]+$/, '');
  return `${head}-${suffix}`;
}

/** The labels saying whose output a Work (or its placement) is: the Promise, the request. */
export function ownerLabels(spec: {
  promiseName: string;
  resourceName?: string;
}): Record<string, string> {
  return {
    [LABELS.promiseName]: spec.promiseName,
    ...(spec.resourceName ? { [LABELS.resourceName]: spec.resourceName } : {}),
  };
}

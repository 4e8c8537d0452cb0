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

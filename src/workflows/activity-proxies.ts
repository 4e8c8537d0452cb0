import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

/** Platform-store and state-store work: quick, retried with backoff on I/O failures. */
export const acts = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 10,
  },
});

/** Pipelines run containers: longer timeout, few retries (a failing container is final). */
export const pipelineActs = proxyActivities<Activities>({
  startToCloseTimeout: '15 minutes',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 3,
  },
});

import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

/** Platform-store and state-store work: quick, retried with backoff on I/O failures. */
// Activities heartbeat every 2 s (activities/deps.ts): a dead worker is noticed in 15 s.
export const acts = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '15 seconds',
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
  heartbeatTimeout: '15 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 3,
  },
});

/**
 * State-store writes: a remote that is down (a Git server restarting, MinIO unreachable)
 * is waited for rather than failing the resource: retried with no attempt limit, at
 * most a minute apart, for up to half an hour; the pending activity's last failure says
 * why it waits (`temporal workflow describe`, Temporal Web). Bad input (a path, bad
 * credentials) is non-retryable and fails at once.
 */
export const writeActs = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  scheduleToCloseTimeout: '30 minutes',
  heartbeatTimeout: '15 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
  },
});

/**
 * Quick platform-store reads and writes of a resource reconcile (its binding and plan,
 * its final status), run inside the workflow task that asks for them: no server round
 * trip each, which a fleet of thousands pays per resource. Same retries as `acts`.
 */
export const localActs = proxyLocalActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 10,
  },
});

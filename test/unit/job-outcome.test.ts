import { describe, expect, it } from 'vitest';
import { jobOutcome } from '../../src/pipelines/job-outcome';

const pod = (status: object) => ({ metadata: { name: 'kratix-db-render-1a2b3-xyz' }, status });

describe('jobOutcome: where a pipeline Job is', () => {
  it('is finished when the Job completed, reading the Pod it ran in', () => {
    const job = { status: { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] } };
    expect(jobOutcome(job, pod({ phase: 'Succeeded' }))).toEqual({
      state: 'succeeded',
      pod: 'kratix-db-render-1a2b3-xyz',
    });
    expect(jobOutcome(job, undefined).state).toBe('running');
  });

  it('names the container that exited non-zero and its code', () => {
    const job = {
      status: {
        failed: 1,
        conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }],
      },
    };
    const failed = pod({
      phase: 'Failed',
      initContainerStatuses: [
        { name: 'reader', state: { terminated: { exitCode: 0 } } },
        { name: 'render', state: { terminated: { exitCode: 3, reason: 'Error' } } },
      ],
    });
    expect(jobOutcome(job, failed)).toEqual({
      state: 'failed',
      pod: 'kratix-db-render-1a2b3-xyz',
      container: 'render',
      reason: 'exited with code 3 (Error)',
    });
    // A Job failed with no Pod left (deadline, deleted Pod): the Job's own words.
    expect(jobOutcome(job, undefined)).toEqual({
      state: 'failed',
      reason: 'Job failed: BackoffLimitExceeded',
    });
  });

  it('fails at once on an image that cannot be pulled, with the kubelet message', () => {
    const waiting = pod({
      phase: 'Pending',
      initContainerStatuses: [
        {
          name: 'render',
          state: {
            waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "nope"' },
          },
        },
      ],
    });
    expect(jobOutcome({ status: {} }, waiting)).toMatchObject({
      state: 'failed',
      container: 'render',
      reason: 'ImagePullBackOff: Back-off pulling image "nope"',
    });
  });

  it('says why it is still waiting: no Pod, not scheduled, which container runs', () => {
    expect(jobOutcome({ status: {} }, undefined)).toEqual({
      state: 'running',
      why: 'no Pod yet (is the Job controller running?)',
    });
    const unscheduled = pod({
      phase: 'Pending',
      conditions: [
        {
          type: 'PodScheduled',
          status: 'False',
          message: '0/3 nodes are available: 3 Insufficient cpu.',
        },
      ],
    });
    expect(jobOutcome({ status: {} }, unscheduled)).toEqual({
      state: 'running',
      why: 'Pod kratix-db-render-1a2b3-xyz not scheduled: 0/3 nodes are available: 3 Insufficient cpu.',
    });
    const running = pod({
      phase: 'Pending',
      initContainerStatuses: [
        { name: 'reader', state: { terminated: { exitCode: 0 } } },
        { name: 'render', state: { running: {} } },
      ],
    });
    expect(jobOutcome({ status: {} }, running)).toEqual({
      state: 'running',
      why: 'container "render" running',
    });
    expect(jobOutcome({ status: {} }, pod({ phase: 'Pending' }))).toEqual({
      state: 'running',
      why: 'Pod kratix-db-render-1a2b3-xyz Pending (no node has started it)',
    });
  });
});

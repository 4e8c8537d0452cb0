/**
 * Where a pipeline's Job is, read from the Job and its Pod as the API server reports them:
 * finished, failed in a named container, or still going with the reason a person would want
 * (no Pod yet, Pending and why, which container runs). Pure, so every state is unit-tested.
 */

interface ContainerStatus {
  name: string;
  state?: {
    waiting?: { reason?: string; message?: string };
    running?: object;
    terminated?: { exitCode: number; reason?: string; message?: string };
  };
}

export interface JobView {
  status?: {
    succeeded?: number;
    failed?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

export interface PodView {
  metadata?: { name?: string };
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    initContainerStatuses?: ContainerStatus[];
    containerStatuses?: ContainerStatus[];
  };
}

export type JobOutcome =
  | { state: 'succeeded'; pod: string }
  | { state: 'failed'; pod?: string; container?: string; reason: string }
  | { state: 'running'; why: string };

/** Image and start problems that do not fix themselves: the run fails at once with them. */
const STUCK = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'CreateContainerConfigError',
]);

export function jobOutcome(job: JobView, pod: PodView | undefined): JobOutcome {
  const podName = pod?.metadata?.name;
  const done = (type: string) =>
    job.status?.conditions?.find((c) => c.type === type && c.status === 'True');
  if (done('Complete') || (job.status?.succeeded ?? 0) > 0) {
    if (!podName)
      return { state: 'running', why: 'Job complete; waiting for its Pod to be listed' };
    return { state: 'succeeded', pod: podName };
  }
  const statuses = [
    ...(pod?.status?.initContainerStatuses ?? []),
    ...(pod?.status?.containerStatuses ?? []),
  ];
  const crashed = statuses.find((s) => (s.state?.terminated?.exitCode ?? 0) !== 0);
  const failedCondition = done('Failed');
  if (failedCondition || (crashed && pod?.status?.phase === 'Failed')) {
    const t = crashed?.state?.terminated;
    return {
      state: 'failed',
      ...(podName ? { pod: podName } : {}),
      ...(crashed ? { container: crashed.name } : {}),
      reason: t
        ? `exited with code ${t.exitCode}${t.reason ? ` (${t.reason})` : ''}`
        : `Job failed: ${failedCondition?.reason ?? ''} ${failedCondition?.message ?? ''}`.trim(),
    };
  }
  const stuck = statuses.find((s) => STUCK.has(s.state?.waiting?.reason ?? ''));
  if (stuck) {
    const w = stuck.state!.waiting!;
    return {
      state: 'failed',
      ...(podName ? { pod: podName } : {}),
      container: stuck.name,
      reason: `${w.reason}${w.message ? `: ${w.message}` : ''}`,
    };
  }
  if (!pod) return { state: 'running', why: 'no Pod yet (is the Job controller running?)' };
  const running = statuses.find((s) => s.state?.running);
  if (running) return { state: 'running', why: `container "${running.name}" running` };
  const unscheduled = pod.status?.conditions?.find(
    (c) => c.type === 'PodScheduled' && c.status === 'False',
  );
  if (unscheduled) {
    return {
      state: 'running',
      why: `Pod ${podName ?? ''} not scheduled: ${unscheduled.message ?? unscheduled.reason ?? 'no node'}`,
    };
  }
  return {
    state: 'running',
    why: `Pod ${podName ?? ''} ${pod.status?.phase ?? 'Pending'}${pod.status?.message ? `: ${pod.status.message}` : ' (no node has started it)'}`,
  };
}

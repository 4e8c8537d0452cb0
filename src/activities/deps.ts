import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Logger } from 'pino';
import { InvalidInputError } from '../model/errors';
import type { PipelineRunner } from '../pipelines/runner';
import { PipelineFailedError } from '../pipelines/runner';
import type { PlatformStore } from '../platform/store';
import type { StateStoreWriters } from '../statestores/registry';
import { StateStoreError } from '../statestores/writer';

/** The ports every activity is built over; chosen by configuration at the edge (worker). */
export interface ActivityDeps {
  store: PlatformStore;
  pipelineRunner: PipelineRunner;
  stateStores: StateStoreWriters;
  /** Scratch space for pipeline runs. */
  workDir: string;
  logger: Logger;
  now?: () => Date;
}

/** Failure types workflows branch on. */
export const FAILURE = {
  invalidInput: 'InvalidInput',
  pipelineFailed: 'PipelineFailed',
  notFound: 'NotFound',
  stateStore: 'StateStoreError',
} as const;

/** Logger bound to the running activity (workflow id, activity type, attempt). */
export function activityLogger(deps: ActivityDeps, bindings: Record<string, unknown> = {}): Logger {
  try {
    const info = Context.current().info;
    return deps.logger.child({
      workflowId: info.workflowExecution?.workflowId,
      activity: info.activityType,
      attempt: info.attempt,
      ...bindings,
    });
  } catch {
    return deps.logger.child(bindings);
  }
}

export function nowIso(deps: ActivityDeps): string {
  return (deps.now?.() ?? new Date()).toISOString();
}

/**
 * Bad input and failed pipelines are not retried (retrying cannot fix them); everything
 * else (I/O) is left to Temporal's retry policy.
 */
export function asActivityFailure(err: unknown): unknown {
  if (err instanceof InvalidInputError) {
    return ApplicationFailure.nonRetryable(err.message, FAILURE.invalidInput, err.details);
  }
  if (err instanceof PipelineFailedError) {
    return ApplicationFailure.nonRetryable(err.message, FAILURE.pipelineFailed, {
      pipeline: err.pipeline,
      container: err.container,
      reason: err.reason,
      logTail: err.logTail,
    });
  }
  if (err instanceof StateStoreError) {
    return ApplicationFailure.create({
      message: err.message,
      type: FAILURE.stateStore,
      nonRetryable: !err.retryable,
    });
  }
  return err;
}

/**
 * Runs an activity body: failures mapped for Temporal (see asActivityFailure), and a
 * heartbeat every few seconds so a worker that dies mid-activity is noticed within the
 * heartbeat timeout instead of the whole start-to-close timeout.
 */
export async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  let ctx: Context | undefined;
  try {
    ctx = Context.current();
  } catch {
    ctx = undefined; // called outside an activity (tests, tools)
  }
  const timer = ctx ? setInterval(() => ctx!.heartbeat(), HEARTBEAT_INTERVAL_MS) : undefined;
  try {
    return await fn();
  } catch (err) {
    throw asActivityFailure(err);
  } finally {
    if (timer) clearInterval(timer);
  }
}

const HEARTBEAT_INTERVAL_MS = 2_000;

export function notFound(what: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`${what} not found`, FAILURE.notFound);
}

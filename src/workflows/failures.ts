import {
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowFailure,
  TemporalFailure,
} from '@temporalio/workflow';

/** The most specific readable message of a failure chain (activity → application). */
export function failureMessage(err: unknown): string {
  let current: unknown = err;
  while (current instanceof ActivityFailure || current instanceof ChildWorkflowFailure) {
    if (!current.cause) break;
    current = current.cause;
  }
  if (current instanceof TemporalFailure || current instanceof Error) return current.message;
  return String(current);
}

export function failureType(err: unknown): string | undefined {
  let current: unknown = err;
  while (current instanceof ActivityFailure || current instanceof ChildWorkflowFailure)
    current = current.cause;
  return current instanceof ApplicationFailure ? (current.type ?? undefined) : undefined;
}

import {
  condition,
  continueAsNew,
  allHandlersFinished,
  setCurrentDetails,
} from '@temporalio/workflow';
import { acts } from './activity-proxies';
import { rescheduleWorks } from './scheduling';

export interface DestinationReconcileInput {
  name: string;
  /** Carried across continue-as-new. */
  cursor?: string;
  skipReadiness?: boolean;
}

const WORKS_PER_RUN = 300;

/**
 * A Destination was added, labelled or changed: check its readiness, then reschedule every
 * Work, so waiting work that now matches is written (no other action needed) and work
 * that no longer matches is flagged misplaced.
 */
export async function destinationReconcile(
  input: DestinationReconcileInput,
): Promise<{ ready: boolean; message: string }> {
  let readiness = { ready: true, message: 'not checked' };
  if (!input.skipReadiness) {
    setCurrentDetails(`Destination ${input.name}: checking state store`);
    readiness = await acts.checkDestinationReady({ name: input.name });
  }
  const { cursor } = await rescheduleWorks(input.cursor, WORKS_PER_RUN, (scheduled) =>
    setCurrentDetails(`Destination ${input.name}: rescheduled ${scheduled} work(s)`),
  );
  if (cursor) {
    await condition(allHandlersFinished);
    await continueAsNew<typeof destinationReconcile>({
      name: input.name,
      cursor,
      skipReadiness: true,
    });
  }
  return readiness;
}

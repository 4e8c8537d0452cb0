import {
  allHandlersFinished,
  condition,
  continueAsNew,
  setCurrentDetails,
} from '@temporalio/workflow';
import { acts } from './activity-proxies';
import { rescheduleWorks } from './scheduling';

export interface DestinationDeleteInput {
  name: string;
  /** Carried across continue-as-new. */
  cursor?: string;
}

const WORKS_PER_RUN = 300;

/**
 * A Destination is deleted: every Work is rescheduled without it (the Destination is gone,
 * or being deleted, so it is no candidate), so its placements are flagged misplaced with
 * their files left in place and resources move to another match; then the Destination
 * itself goes (on a cluster, its finalizer is removed and `kubectl delete` returns).
 */
export async function destinationDelete(
  input: DestinationDeleteInput,
): Promise<{ rescheduled: number }> {
  const { cursor, scheduled } = await rescheduleWorks(input.cursor, WORKS_PER_RUN, (n) =>
    setCurrentDetails(`Destination ${input.name} deleting: rescheduled ${n} work(s)`),
  );
  if (cursor) {
    await condition(allHandlersFinished);
    await continueAsNew<typeof destinationDelete>({ name: input.name, cursor });
  }
  await acts.deleteDestinationObject({ name: input.name });
  setCurrentDetails(`Destination ${input.name} deleted`);
  return { rescheduled: scheduled };
}

import {
  condition,
  continueAsNew,
  allHandlersFinished,
  setCurrentDetails,
} from '@temporalio/workflow';
import { acts } from './activity-proxies';
import { scheduleWork } from './scheduling';

export interface DestinationReconcileInput {
  name: string;
  /** Carried across continue-as-new. */
  cursor?: string;
  skipReadiness?: boolean;
}

const WORKS_PER_RUN = 300;
const PAGE_SIZE = 50;

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
  let cursor = input.cursor;
  let scheduled = 0;
  do {
    const page = await acts.listWorks({ cursor, pageSize: PAGE_SIZE });
    // A few at a time: each Work's writes are independent.
    for (let i = 0; i < page.works.length; i += 5) {
      await Promise.all(page.works.slice(i, i + 5).map((w) => scheduleWork(w)));
    }
    scheduled += page.works.length;
    setCurrentDetails(`Destination ${input.name}: rescheduled ${scheduled} work(s)`);
    cursor = page.cursor;
    if (cursor && scheduled >= WORKS_PER_RUN) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof destinationReconcile>({
        name: input.name,
        cursor,
        skipReadiness: true,
      });
    }
  } while (cursor);
  return readiness;
}

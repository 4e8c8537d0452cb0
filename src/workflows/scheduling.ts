import { decideSchedule } from '../model/placement';
import type { SchedulingContext, WorkRef } from '../activities';
import { acts, writeActs } from './activity-proxies';

export interface ScheduleSummary {
  written: number;
  misplaced: string[];
  unscheduledGroups: number;
}

/**
 * Schedules one Work: the decision is made here, in workflow code (so it is in history),
 * and carried out by activities: write targets, flag misplaced placements, report what
 * cannot be scheduled yet (it waits for a matching Destination).
 */
export async function scheduleWork(
  work: WorkRef,
  /** Read with the pipeline's Work (same activity); read here when not given. */
  loaded?: { ctx: SchedulingContext | undefined },
): Promise<ScheduleSummary> {
  const ctx = loaded ? loaded.ctx : await acts.loadSchedulingContext(work);
  if (!ctx) return { written: 0, misplaced: [], unscheduledGroups: 0 };
  const decision = decideSchedule(ctx.work, ctx.destinations, ctx.placements);
  if (decision.targets.length > 0)
    await writeActs.writeWorkPlacements({ work, targets: decision.targets });
  if (decision.misplaced.length > 0)
    await acts.markWorkPlacementsMisplaced({ names: decision.misplaced });
  if (decision.unscheduled.length > 0)
    await acts.reportUnscheduled({ work, groups: decision.unscheduled });
  return {
    written: decision.targets.length,
    misplaced: decision.misplaced,
    unscheduledGroups: decision.unscheduled.length,
  };
}

const WORKS_PAGE_SIZE = 50;
/** Works scheduled at once: each Work's writes are independent. */
const WORKS_IN_FLIGHT = 5;

/**
 * Reschedules every Work from `cursor` on, page by page, until `budget` Works were done
 * (then returns the cursor to continue from, e.g. after continue-as-new) or none are left.
 */
export async function rescheduleWorks(
  cursor: string | undefined,
  budget: number,
  onProgress: (scheduled: number) => void,
): Promise<{ cursor?: string; scheduled: number }> {
  let scheduled = 0;
  do {
    const page = await acts.listWorks({ cursor, pageSize: WORKS_PAGE_SIZE });
    for (let i = 0; i < page.works.length; i += WORKS_IN_FLIGHT) {
      await Promise.all(page.works.slice(i, i + WORKS_IN_FLIGHT).map((w) => scheduleWork(w)));
    }
    scheduled += page.works.length;
    onProgress(scheduled);
    cursor = page.cursor;
    if (cursor && scheduled >= budget) return { cursor, scheduled };
  } while (cursor);
  return { scheduled };
}

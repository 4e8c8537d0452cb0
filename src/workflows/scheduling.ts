import { decideSchedule } from '../model/placement';
import type { WorkRef } from '../activities';
import { acts } from './activity-proxies';

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
export async function scheduleWork(work: WorkRef): Promise<ScheduleSummary> {
  const ctx = await acts.loadSchedulingContext(work);
  if (!ctx) return { written: 0, misplaced: [], unscheduledGroups: 0 };
  const decision = decideSchedule(ctx.work, ctx.destinations, ctx.placements);
  if (decision.targets.length > 0)
    await acts.writeWorkPlacements({ work, targets: decision.targets });
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

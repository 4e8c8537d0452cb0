import { setCurrentDetails } from '@temporalio/workflow';
import { writeActs } from './activity-proxies';

export interface WorkPlacementDeleteInput {
  names: string[];
}

/** Deletes WorkPlacements and removes their files from the state stores (Kratix docs: Updates, misplaced workloads). */
export async function workPlacementDelete(
  input: WorkPlacementDeleteInput,
): Promise<{ deleted: string[] }> {
  setCurrentDetails(`deleting ${input.names.length} WorkPlacement(s)`);
  return writeActs.deleteWorkPlacements({ names: input.names });
}

import { setCurrentDetails } from '@temporalio/workflow';
import { acts } from './activity-proxies';

export interface WorkPlacementDeleteInput {
  names: string[];
}

/** Deletes WorkPlacements and removes their files from the state stores (seed 000 clean-up). */
export async function workPlacementDelete(
  input: WorkPlacementDeleteInput,
): Promise<{ deleted: string[] }> {
  setCurrentDetails(`deleting ${input.names.length} WorkPlacement(s)`);
  return acts.deleteWorkPlacements({ names: input.names });
}

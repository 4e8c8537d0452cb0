import { setCurrentDetails } from '@temporalio/workflow';
import { acts, pipelineActs, writeActs } from './activity-proxies';
import { forEachBounded } from './bounded';
import { deleteResourceAsChild } from './resourceDelete';

export interface PromiseDeleteInput {
  promiseName: string;
  concurrency?: number;
}

/**
 * Deleting a Promise removes everything it made: each resource request (a resourceDelete
 * child each, with their files), then the Promise's delete pipelines, its dependency files
 * and placements, its Works, every PromiseRevision, and the Promise.
 */
export async function promiseDelete(input: PromiseDeleteInput): Promise<{ resources: number }> {
  const concurrency = input.concurrency ?? 10;
  let cursor: string | undefined;
  let resources = 0;
  do {
    const page = await acts.listResourcesOfPromise({
      promiseName: input.promiseName,
      pageSize: 100,
      cursor,
    });
    setCurrentDetails(
      `${input.promiseName}: deleting ${page.resources.length} resource request(s) (${resources} done)`,
    );
    await forEachBounded(page.resources, concurrency, async (r) => {
      await deleteResourceAsChild({ promiseName: input.promiseName, ...r });
    });
    resources += page.resources.length;
    cursor = page.cursor;
  } while (cursor);

  const plan = await acts.planPromiseDelete({ promiseName: input.promiseName });
  for (let i = 0; i < plan.deletePipelines.length; i++) {
    setCurrentDetails(`${input.promiseName}: running delete pipeline ${plan.deletePipelines[i]}`);
    await pipelineActs.runPromiseDeletePipeline({
      promiseName: input.promiseName,
      pipelineIndex: i,
    });
  }
  if (plan.placements.length > 0) await writeActs.deleteWorkPlacements({ names: plan.placements });
  await acts.deletePromiseObjects({ promiseName: input.promiseName });
  setCurrentDetails(`${input.promiseName}: deleted with ${resources} resource request(s)`);
  return { resources };
}

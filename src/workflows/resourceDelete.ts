import { executeChild, patched, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import type { ResourceRef } from '../activities';
import { acts, pipelineActs, writeActs } from './activity-proxies';
import { workflowIds } from './ids';
import { executeChildAlone } from './one-run';

export type ResourceDeleteInput = ResourceRef;

/**
 * Deleting a resource request: its `workflows.resource.delete` pipelines run, then every
 * WorkPlacement of its Works is removed with its files ("Delete from: …"), then its Works,
 * ResourceBinding and the request itself.
 */
export async function resourceDelete(
  input: ResourceDeleteInput,
): Promise<{ deleted: boolean; placements: string[] }> {
  const label = `${input.promiseName} ${input.namespace}/${input.name}`;
  setCurrentDetails(`${label}: planning delete`);
  const plan = await acts.planResourceDelete(input);
  for (let i = 0; i < plan.deletePipelines.length; i++) {
    setCurrentDetails(`${label}: running delete pipeline ${plan.deletePipelines[i]}`);
    await pipelineActs.runResourceDeletePipeline({
      ...input,
      revisionName: plan.revisionName,
      pipelineIndex: i,
    });
  }
  if (plan.placements.length > 0) {
    setCurrentDetails(`${label}: removing ${plan.placements.length} placement(s) and their files`);
    await writeActs.deleteWorkPlacements({ names: plan.placements });
  }
  await acts.deleteResourceObjects(input);
  setCurrentDetails(`${label}: deleted`);
  return { deleted: plan.exists, placements: plan.placements };
}

/**
 * One resource deleted as part of a Promise's or a revision's deletion: under the
 * resource's own delete id (patched: older histories used `<parent id>/<ns>/<name>`), so a
 * `promiseflow delete` of the same request joins rather than overlaps.
 */
export async function deleteResourceAsChild(ref: ResourceRef): Promise<void> {
  const args: [ResourceDeleteInput] = [ref];
  if (patched('one-id-per-resource')) {
    const workflowId = workflowIds.resourceDelete(ref.promiseName, ref.namespace, ref.name);
    await executeChildAlone(resourceDelete, { workflowId, args });
  } else {
    const workflowId = `${workflowInfo().workflowId}/${ref.namespace}/${ref.name}`;
    await executeChild(resourceDelete, { workflowId, args });
  }
}

import { setCurrentDetails } from '@temporalio/workflow';
import { acts } from './activity-proxies';
import { forEachBounded } from './bounded';
import { deleteResourceAsChild } from './resourceDelete';

export interface PromiseRevisionDeleteInput {
  name: string;
}

/**
 * Deleting a PromiseRevision (Kratix docs: Promise Revisions): refused for the latest one; otherwise the
 * resource requests bound to exactly its version are deleted with their bindings, Works,
 * placements and files, then the revision.
 */
export async function promiseRevisionDelete(
  input: PromiseRevisionDeleteInput,
): Promise<{ resources: string[] }> {
  const { promiseName, version } = await acts.checkRevisionDeletable({ name: input.name });
  const deleted: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await acts.listResourcesOfPromise({ promiseName, version, pageSize: 100, cursor });
    setCurrentDetails(
      `${input.name}: deleting ${page.resources.length} request(s) bound to ${version}`,
    );
    await forEachBounded(page.resources, 10, async (r) => {
      await deleteResourceAsChild({ promiseName, ...r });
      deleted.push(`${r.namespace}/${r.name}`);
    });
    cursor = page.cursor;
  } while (cursor);
  await acts.deleteRevisionObject({ name: input.name });
  setCurrentDetails(`${input.name}: deleted with ${deleted.length} request(s)`);
  return { resources: deleted.sort() };
}

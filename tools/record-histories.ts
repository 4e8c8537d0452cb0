import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';

/**
 * Saves the histories of finished workflows (optionally only those `query` selects) for the
 * replay test (test/replay): `<type>-<workflow id>-<run id>.json`.
 */
export async function recordHistories(
  client: Client,
  dir: string,
  query?: string,
): Promise<number> {
  fs.mkdirSync(dir, { recursive: true });
  let n = 0;
  const finished = `ExecutionStatus != 'Running'${query ? ` AND ${query}` : ''}`;
  for await (const wf of client.workflow.list({ query: finished })) {
    const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
    const file = `${wf.type}-${wf.workflowId.replace(/[^a-zA-Z0-9.-]+/g, '_')}-${wf.runId}.json`;
    // The workflow id is part of what replays (child ids derive from it).
    fs.writeFileSync(
      path.join(dir, file),
      `{"workflowId":${JSON.stringify(wf.workflowId)},"history":${historyToJSON(history)}}\n`,
    );
    n++;
  }
  return n;
}

import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { executeChild, sleep } from '@temporalio/workflow';
import type { WithWorkflowArgs } from '@temporalio/common';
import type { ChildWorkflowOptions, Workflow, WorkflowResultType } from '@temporalio/workflow';

/** Longest pause between looks at an id another starter is using. */
const MAX_WAIT_MS = 30_000;

/**
 * Runs `workflow` as a child under an id shared with every other starter (one workflow
 * id per object), waiting for a run already under that id to end first: so two
 * reconciles (or deletes) of one object never overlap, whoever started them.
 */
export async function executeChildAlone<T extends Workflow>(
  workflow: T,
  options: WithWorkflowArgs<
    T,
    Omit<ChildWorkflowOptions, 'typeInfo'> & { typeInfo?: undefined; workflowId: string }
  >,
  onWait?: (workflowId: string) => void,
): Promise<WorkflowResultType<T>> {
  for (let waitMs = 1_000; ; waitMs = Math.min(waitMs * 2, MAX_WAIT_MS)) {
    try {
      return await executeChild(workflow, options);
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      onWait?.(options.workflowId);
      await sleep(waitMs);
    }
  }
}

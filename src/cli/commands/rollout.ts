import type { Command } from 'commander';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { InvalidInputError } from '../../model/errors';
import type { RolloutSpec } from '../../model/rollout';
import { resolveRollout } from '../../model/validate-rollout';
import type { PromiseUpdateOptions } from '../../workflows/promiseUpdate';
import { workflowIds } from '../../workflows/ids';
import { approveUpdate } from '../../workflows/messages';
import { out, withClient } from '../context';

/** The per-update rollout flags, as `apply` (and `retry promise`) take them. */
export interface RolloutFlags {
  rolloutPolicy?: string;
  /** A whole override as JSON (`--rollout '{"batchSize":"25%"}'`); the flags below win. */
  rollout?: string;
  canary?: string;
  batchSize?: string;
  maxConcurrency?: string;
  soak?: string;
  progressDeadline?: string;
  maxFailures?: string;
  onFailure?: string;
  approval?: string;
}

export function addRolloutOptions(cmd: Command): Command {
  return cmd
    .option('--rollout-policy <name>', 'use this RolloutPolicy for the Promise updates started')
    .option(
      '--rollout <json>',
      'this update\'s rollout settings as JSON, e.g. \'{"batchSize":"25%"}\'',
    )
    .option('--canary <n|key=value>', 'run a canary batch first: N resources, or those labelled')
    .option('--batch-size <n|p%>', 'resources per batch after the canary')
    .option('--max-concurrency <n>', 'resources re-running at once inside a batch')
    .option('--soak <duration>', 'pause between batches, e.g. 30s')
    .option('--progress-deadline <duration>', 'halt when a batch takes longer, e.g. 10m')
    .option('--max-failures <n|p%>', 'failures allowed before the rollout halts')
    .option('--on-failure <halt|rollback>', 'what a breach does')
    .option('--approval <none|afterCanary|everyBatch>', 'batches that wait for `approve`');
}

function num(text: string): number | string {
  return /^\d+$/.test(text) ? Number(text) : text;
}

/**
 * The update options the flags say, checked now (a bad flag is refused before anything is
 * stored), or undefined when none was given.
 */
export function rolloutOptionsFrom(
  flags: RolloutFlags,
): Pick<PromiseUpdateOptions, 'rolloutPolicy' | 'rollout'> | undefined {
  let rollout: Record<string, unknown> = {};
  if (flags.rollout !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(flags.rollout);
    } catch (err) {
      throw new InvalidInputError({
        field: '--rollout',
        expected: 'a JSON object of rollout settings',
        got: `${flags.rollout} (${(err as Error).message})`,
      });
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new InvalidInputError({
        field: '--rollout',
        expected: 'a JSON object',
        got: flags.rollout,
      });
    }
    rollout = { ...(parsed as Record<string, unknown>) };
  }
  if (flags.canary !== undefined) {
    const eq = flags.canary.indexOf('=');
    rollout.canary =
      eq > 0
        ? { matchLabels: { [flags.canary.slice(0, eq)]: flags.canary.slice(eq + 1) } }
        : { count: num(flags.canary) };
  }
  if (flags.batchSize !== undefined) rollout.batchSize = num(flags.batchSize);
  if (flags.maxConcurrency !== undefined) rollout.maxConcurrency = num(flags.maxConcurrency);
  if (flags.soak !== undefined) rollout.soakTime = flags.soak;
  if (flags.progressDeadline !== undefined) rollout.progressDeadline = flags.progressDeadline;
  if (flags.maxFailures !== undefined) rollout.maxFailures = num(flags.maxFailures);
  if (flags.onFailure !== undefined) rollout.onFailure = flags.onFailure;
  if (flags.approval !== undefined) rollout.approval = flags.approval;
  const given = Object.keys(rollout).length > 0;
  if (!given && !flags.rolloutPolicy) return undefined;
  // The same checks the update makes; errors name the option's field.
  if (given) resolveRollout({ concurrency: 1, override: rollout });
  return {
    ...(flags.rolloutPolicy ? { rolloutPolicy: flags.rolloutPolicy } : {}),
    ...(given ? { rollout: rollout as RolloutSpec } : {}),
  };
}

export function registerRollout(program: Command): void {
  program
    .command('approve')
    .description("let the batch waiting at a Promise update's approval gate start")
    .argument('<promise>')
    .option('--batch <n>', 'the batch you mean (refused if another one waits)')
    .option('--by <name>', 'who approves (recorded in the update)', process.env.USER)
    .action(async (promise: string, opts: { batch?: string; by?: string }) => {
      const batch = opts.batch === undefined ? undefined : Number(opts.batch);
      if (batch !== undefined && (!Number.isInteger(batch) || batch < 1)) {
        throw new InvalidInputError({
          field: '--batch',
          expected: 'a batch number (1 or more)',
          got: opts.batch,
        });
      }
      await withClient(program, async (client) => {
        const id = workflowIds.promiseUpdate(promise);
        try {
          const result = await client.temporal.workflow.getHandle(id).executeUpdate(approveUpdate, {
            args: [{ ...(batch ? { batch } : {}), ...(opts.by ? { by: opts.by } : {}) }],
          });
          out(`${id}: ${result.message}`);
        } catch (err) {
          if (err instanceof WorkflowUpdateFailedError) {
            const cause = err.cause instanceof Error ? err.cause.message : err.message;
            throw new Error(`${id}: approval refused: ${cause}`);
          }
          if (err instanceof WorkflowNotFoundError) {
            throw new Error(`${id}: no update of Promise "${promise}" is running`);
          }
          throw err;
        }
      });
    });
}

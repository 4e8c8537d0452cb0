import type { Command } from 'commander';
import type { PlanOptions, PlanPorts } from '../../client/plan';
import { planPromiseUpdate } from '../../client/plan';
import type { PromiseflowClient } from '../../client/platform-client';
import { loadKratixFile } from '../../client/load-file';
import { createLogger } from '../../logging';
import { InvalidInputError } from '../../model/errors';
import type { KratixPromise } from '../../model/types';
import type { UpdatePlan } from '../../model/update-plan';
import { validatePromise } from '../../model/validate';
import { configuredPipelineRunner } from '../../pipelines/configured';
import { out, warn, withClient } from '../context';
import { formatPlan, SMALL_FLEET } from '../plan-output';
import type { RolloutFlags } from './rollout';
import { addRolloutOptions, rolloutOptionsFrom } from './rollout';

export type PlanFlags = RolloutFlags;

/** The ports a plan reads through: the platform store, and the configured pipeline runner. */
export async function planPorts(client: PromiseflowClient): Promise<PlanPorts> {
  // Pipeline output lines are debug logs of the worker; a plan keeps them quiet.
  const pipelineRunner = await configuredPipelineRunner(
    client.config,
    createLogger({ level: 'warn' }),
  );
  return { store: client.store, pipelineRunner, concurrency: client.config.updateConcurrency };
}

/** The same rollout flags `apply` takes, as the plan reads them. */
export function planOptions(flags: PlanFlags, file: string): PlanOptions {
  const options = rolloutOptionsFrom(flags);
  return {
    file,
    ...(options?.rolloutPolicy !== undefined ? { rolloutPolicy: options.rolloutPolicy } : {}),
    ...(options?.rollout !== undefined ? { rollout: options.rollout } : {}),
  };
}

export function addPlanFlags(command: Command): Command {
  return addRolloutOptions(command);
}

export function registerPlan(program: Command): void {
  addPlanFlags(
    program
      .command('plan')
      .description(
        'show what applying a Promise would do (resources re-run, batches, placements, file diffs) without changing anything',
      )
      .requiredOption('-f, --filename <file>', 'file holding the Promise, or - for stdin')
      .option('--diff', `print every file diff (shown anyway for fleets of at most ${SMALL_FLEET})`)
      .option('-o, --output <format>', 'json for the whole plan'),
  ).action(async (opts: PlanFlags & { filename: string; diff?: boolean; output?: string }) => {
    if (opts.output !== undefined && opts.output !== 'json') {
      throw new InvalidInputError({ field: '-o', expected: 'json', got: opts.output });
    }
    const objects = await loadKratixFile(opts.filename, { onSkipped: warn });
    const promises = objects.filter((o) => o.kind === 'Promise');
    if (promises.length === 0) {
      throw new InvalidInputError({
        file: opts.filename,
        expected: 'a Promise',
        got: objects.map((o) => `${o.kind} "${o.metadata.name}"`).join(', '),
      });
    }
    const valid: KratixPromise[] = promises.map((p) => validatePromise(p, opts.filename));
    for (const o of objects) {
      if (o.kind !== 'Promise')
        warn(`${opts.filename}: ${o.kind} "${o.metadata.name}" not planned (only Promises are)`);
    }
    await withClient(
      program,
      async (client) => {
        const ports = await planPorts(client);
        const plans: UpdatePlan[] = [];
        for (const p of valid) {
          plans.push(await planPromiseUpdate(ports, p, planOptions(opts, opts.filename)));
        }
        if (opts.output === 'json') {
          out(JSON.stringify(plans.length === 1 ? plans[0] : plans, null, 2));
          return;
        }
        out(
          plans
            .map((plan) => {
              const fleet = plan.summary.resourcesRerun + plan.summary.resourcesPinned;
              return formatPlan(plan, { diffs: opts.diff === true || fleet <= SMALL_FLEET });
            })
            .join('\n'),
        );
      },
      // A plan starts nothing: it never needs Temporal.
      { temporal: 'lazy' },
    );
  });
}

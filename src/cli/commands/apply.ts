import type { Command } from 'commander';
import { PLATFORM_KINDS } from '../../client/kinds';
import { InvalidInputError } from '../../model/errors';
import { loadKratixFile } from '../../client/load-file';
import type { KratixObject } from '../../model/types';
import { validateFiles } from '../../client/validate-files';
import { out, warn, withClient } from '../context';
import { waitAndReport } from '../wait';
import { dryRunApply } from '../../client/dry-run';
import { formatPlanSummary } from '../plan-output';
import type { PlanFlags } from './plan';
import { addPlanFlags, planOptions, planPorts } from './plan';
import { rolloutOptionsFrom } from './rollout';

const CLUSTER_SCOPED = new Set(PLATFORM_KINDS.filter((k) => !k.namespaced).map((k) => k.kind));

/**
 * `apply -n NS`, as kubectl: namespaced objects without a namespace get NS; one that names
 * another namespace is refused.
 */
export function inNamespace(
  objects: KratixObject[],
  namespace: string,
  file: string,
): KratixObject[] {
  return objects.map((o) => {
    if (CLUSTER_SCOPED.has(o.kind)) return o;
    const own = o.metadata.namespace;
    if (own && own !== namespace) {
      throw new InvalidInputError({
        file,
        object: `${o.kind} "${o.metadata.name}"`,
        field: 'metadata.namespace',
        expected: `the namespace given with -n (${namespace})`,
        got: own,
      });
    }
    return { ...o, metadata: { ...o.metadata, namespace } };
  });
}

export function registerApply(program: Command): void {
  const apply = program
    .command('apply')
    .description('create or update objects from a Kratix YAML file (multi-document) or - for stdin')
    .requiredOption('-f, --filename <file>', 'file to apply, or - for stdin')
    .option(
      '-n, --namespace <ns>',
      'namespace for namespaced objects that name none (default "default")',
    )
    .option('--wait', 'wait for the workflows started to finish');
  addPlanFlags(
    apply.option(
      '--dry-run',
      'validate, plan each Promise and say what would change; store nothing, start nothing',
    ),
  ).action(
    async (
      opts: PlanFlags & { filename: string; namespace?: string; wait?: boolean; dryRun?: boolean },
    ) => {
      const updateOptions = rolloutOptionsFrom(opts);
      let objects = await loadKratixFile(opts.filename, { onSkipped: warn });
      if (opts.namespace) objects = inNamespace(objects, opts.namespace, opts.filename);
      if (opts.dryRun) {
        if (opts.wait) {
          throw new InvalidInputError({
            field: '--wait',
            expected: 'no --wait with --dry-run (a dry run starts nothing)',
            got: '--wait',
          });
        }
        await withClient(
          program,
          async (client) => {
            const outcomes = await dryRunApply(
              client,
              await planPorts(client),
              objects,
              opts.filename,
              planOptions(opts, opts.filename),
            );
            for (const o of outcomes) {
              out(`${o.object} (dry run: would be ${o.result})`);
              if (o.plan) out(formatPlanSummary(o.plan).replace(/^/gm, '  '));
            }
          },
          { temporal: 'lazy' },
        );
        return;
      }
      await withClient(program, async (client) => {
        const outcomes = await client.apply(objects, opts.filename, updateOptions);
        for (const o of outcomes) {
          const wf = o.workflow ? ` (workflow ${o.workflow.handle.workflowId})` : '';
          const retried = o.retried ? `; ${o.retried}: starting a new update` : '';
          out(`${o.object} ${o.result}${retried}${wf}`);
        }
        if (opts.wait) {
          const started = outcomes.flatMap((o) => (o.workflow ? [o.workflow] : []));
          if (!(await waitAndReport(client, started))) process.exitCode = 1;
        }
      });
    },
  );

  program
    .command('validate')
    .description(
      'check Kratix YAML files offline, as apply would (no server needed); requests are checked against the Promises in the files',
    )
    .requiredOption('-f, --filename <files...>', 'files to check')
    .action(async (opts: { filename: string[] }) => {
      let refused = 0;
      for (const report of await validateFiles(opts.filename)) {
        for (const w of report.warnings) warn(w);
        if (report.error) {
          refused++;
          process.stderr.write(`error: ${report.error}\n`);
        } else {
          for (const v of report.valid) out(`${report.file}: ${v} valid`);
        }
      }
      // Bad input, as apply reports it.
      if (refused > 0) process.exitCode = 2;
    });
}

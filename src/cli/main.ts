import { Command, Option } from 'commander';
import { SingleBar } from 'cli-progress';
import { resolveConfig } from '../config';
import type { ConfigOverrides, PromiseflowConfig } from '../config';
import { PromiseflowClient } from '../client/platform-client';
import type { WorkflowOutcome } from '../client/platform-client';
import type { StartedWorkflow } from '../client/workflow-starts';
import { InvalidInputError } from '../model/errors';
import { toYaml } from '../model/load';
import { loadKratixFile } from '../model/load-file';
import { openSqlitePlatformStore } from '../platform/sqlite';
import { connectClient } from '../temporal/client';
import type { UpdateProgress } from '../workflows/promiseUpdate';
import { formatTable } from './output';

interface GlobalFlags {
  dataDir?: string;
  temporalAddress?: string;
  namespace?: string;
  taskQueue?: string;
}

function configFrom(program: Command): PromiseflowConfig {
  const f = program.opts<GlobalFlags>();
  const overrides: ConfigOverrides = {
    dataDir: f.dataDir,
    temporalAddress: f.temporalAddress,
    namespace: f.namespace,
    taskQueue: f.taskQueue,
  };
  return resolveConfig(overrides);
}

/** Opens the platform store and the Temporal client for one command, and closes both. */
async function withClient<T>(
  program: Command,
  fn: (client: PromiseflowClient) => Promise<T>,
): Promise<T> {
  const config = configFrom(program);
  const store = openSqlitePlatformStore(config.dataDir);
  try {
    const temporal = await connectClient(config);
    try {
      return await fn(new PromiseflowClient(config, store, temporal.client));
    } finally {
      await temporal.close();
    }
  } finally {
    await store.close();
  }
}

/** `--wait`: follow the started workflows (progress bar for updates on a TTY); false if any failed. */
async function waitAndReport(
  client: PromiseflowClient,
  started: StartedWorkflow[],
): Promise<boolean> {
  if (started.length === 0) return true;
  const bars = new Map<string, SingleBar>();
  const tty = process.stderr.isTTY === true;
  let last = '';
  const outcomes: WorkflowOutcome[] = await client.waitFor(started, (label, p: UpdateProgress) => {
    if (tty) {
      let bar = bars.get(label);
      if (!bar) {
        bar = new SingleBar({
          format: `${label} [{bar}] {value}/{total} resources | {phase}`,
          stream: process.stderr,
          hideCursor: true,
        });
        bar.start(Math.max(p.total, 1), 0, { phase: p.phase });
        bars.set(label, bar);
      }
      bar.setTotal(Math.max(p.total, 1));
      bar.update(p.done + p.failed, { phase: p.phase });
    } else {
      const line = `${label}: ${p.phase} ${p.done + p.failed}/${p.total} (${p.failed} failed)`;
      if (line !== last) process.stderr.write(`${line}\n`);
      last = line;
    }
  });
  for (const bar of bars.values()) bar.stop();
  let ok = true;
  for (const o of outcomes) {
    process.stdout.write(
      `${o.label}: ${o.ok ? 'done' : 'FAILED'} (${o.message}) [workflow ${o.workflowId}]\n`,
    );
    ok &&= o.ok;
  }
  return ok;
}

export function buildProgram(): Command {
  const program = new Command('promiseflow')
    .description('Kratix Promise updates as durable Temporal workflows')
    .option(
      '--data-dir <dir>',
      'platform data directory (env PROMISEFLOW_DATA_DIR, default ./.promiseflow)',
    )
    .option(
      '--temporal-address <host:port>',
      'Temporal frontend (env PROMISEFLOW_TEMPORAL_ADDRESS, default 127.0.0.1:7233)',
    )
    .option('--namespace <ns>', 'Temporal namespace (env PROMISEFLOW_NAMESPACE, default "default")')
    .option(
      '--task-queue <queue>',
      'task queue (env PROMISEFLOW_TASK_QUEUE, default "promiseflow")',
    )
    .showHelpAfterError();

  program
    .command('apply')
    .description('create or update objects from a Kratix YAML file (multi-document) or - for stdin')
    .requiredOption('-f, --filename <file>', 'file to apply, or - for stdin')
    .option('--wait', 'wait for the workflows started to finish')
    .action(async (opts: { filename: string; wait?: boolean }) => {
      const objects = await loadKratixFile(opts.filename);
      await withClient(program, async (client) => {
        const outcomes = await client.apply(objects, opts.filename);
        for (const o of outcomes) {
          const wf = o.workflow ? ` (workflow ${o.workflow.handle.workflowId})` : '';
          process.stdout.write(`${o.object} ${o.result}${wf}\n`);
        }
        if (opts.wait) {
          const started = outcomes.flatMap((o) => (o.workflow ? [o.workflow] : []));
          if (!(await waitAndReport(client, started))) process.exitCode = 1;
        }
      });
    });

  program
    .command('get')
    .description(
      'list objects: promises, promiserevisions, resourcebindings, destinations, works, workplacements, or a Promise API (e.g. mongodbs)',
    )
    .argument('<kind>')
    .argument('[name]')
    .option('-l, --selector <selector>', 'label selector, e.g. kratix.io/misscheduled=true')
    .option('-n, --object-namespace <ns>', 'only this namespace')
    .option('--show-labels', 'add a LABELS column')
    .addOption(
      new Option('-o, --output <format>', 'output format')
        .choices(['table', 'yaml', 'json'])
        .default('table'),
    )
    .action(
      async (
        kind: string,
        name: string | undefined,
        opts: { selector?: string; objectNamespace?: string; showLabels?: boolean; output: string },
      ) => {
        await withClient(program, async (client) => {
          const { kind: info, items } = await client.get(kind, {
            name,
            labelSelector: opts.selector,
            namespace: opts.objectNamespace,
          });
          if (opts.output === 'json')
            process.stdout.write(
              `${JSON.stringify(name ? items[0] : { apiVersion: 'v1', kind: 'List', items }, null, 2)}\n`,
            );
          else if (opts.output === 'yaml') process.stdout.write(toYaml(items));
          else if (items.length === 0) process.stderr.write(`No ${info.plural} found.\n`);
          else process.stdout.write(`${formatTable(info, items, opts.showLabels === true)}\n`);
        });
      },
    );

  program
    .command('delete')
    .description(
      'delete objects by name or label selector (WorkPlacements: with their state-store files)',
    )
    .argument('<kind>')
    .argument('[name]')
    .option('-l, --selector <selector>', 'label selector')
    .option('--wait', 'wait for the workflows started to finish')
    .action(
      async (
        kind: string,
        name: string | undefined,
        opts: { selector?: string; wait?: boolean },
      ) => {
        if (!name && !opts.selector)
          throw new InvalidInputError({ field: 'NAME', expected: 'a name or -l SELECTOR' });
        await withClient(program, async (client) => {
          const { deleted, workflows } = await client.delete(kind, {
            name,
            labelSelector: opts.selector,
          });
          for (const d of deleted) process.stdout.write(`${kind} "${d}" deleted\n`);
          if (deleted.length === 0) process.stderr.write(`No ${kind} found.\n`);
          if (opts.wait && !(await waitAndReport(client, workflows))) process.exitCode = 1;
        });
      },
    );

  program
    .command('label')
    .description(
      'set (k=v) or remove (k-) labels; labelling a Destination reschedules waiting work',
    )
    .argument('<kind>')
    .argument('<name>')
    .argument('<labels...>')
    .option('--wait', 'wait for the workflows started to finish')
    .action(async (kind: string, name: string, labels: string[], opts: { wait?: boolean }) => {
      await withClient(program, async (client) => {
        const { workflow } = await client.label(kind, name, labels);
        process.stdout.write(`${kind}/${name} labeled\n`);
        if (opts.wait && workflow && !(await waitAndReport(client, [workflow])))
          process.exitCode = 1;
      });
    });

  program
    .command('status')
    .description('running Promise updates and their progress')
    .action(async () => {
      await withClient(program, async (client) => {
        const rows = await client.status();
        if (rows.length === 0) process.stdout.write('No Promise updates running.\n');
        for (const r of rows) {
          const p = r.progress;
          process.stdout.write(
            p
              ? `${r.workflowId}  ${p.promiseName} ${p.version}  ${p.phase}${p.paused ? ' (paused)' : ''}  ${p.done}/${p.total} done, ${p.failed} failed, ${p.running} running  ${p.details}\n`
              : `${r.workflowId}  (progress unavailable: ${r.error})\n`,
          );
        }
      });
    });

  for (const [cmd, signal, help] of [
    ['pause', 'pause', 'pause a running Promise update (no new resource re-runs start)'],
    ['resume', 'resume', 'resume a paused Promise update'],
    ['abort', 'abort', 'stop a Promise update after the re-runs in flight'],
  ] as const) {
    program
      .command(cmd)
      .description(help)
      .argument('<promise>')
      .action(async (promise: string) => {
        await withClient(program, async (client) => {
          await client.temporal.workflow.getHandle(`promise-update/${promise}`).signal(signal);
          process.stdout.write(`promise-update/${promise}: ${cmd} sent\n`);
        });
      });
  }

  program
    .command('worker')
    .description('run a Promiseflow worker in the foreground')
    .action(async () => {
      const { runWorker } = await import('../worker/main');
      const f = program.opts<GlobalFlags>();
      await runWorker({
        dataDir: f.dataDir,
        temporalAddress: f.temporalAddress,
        namespace: f.namespace,
        taskQueue: f.taskQueue,
      });
    });

  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = err instanceof InvalidInputError ? 2 : 1;
  }
}

if (require.main === module) void main(process.argv);

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError } from 'commander';
import { PROJECT_ROOT } from '../config';
import { InvalidInputError } from '../model/errors';
import { registerApply } from './commands/apply';
import { registerCompletion } from './commands/completion';
import { registerConfig } from './commands/config';
import { registerDescribe } from './commands/describe';
import { registerGet } from './commands/get';
import { registerModify } from './commands/modify';
import { registerPlan } from './commands/plan';
import { registerProcesses } from './commands/processes';
import { registerRollout } from './commands/rollout';
import { registerUpdates } from './commands/updates';

function packageVersion(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export function buildProgram(): Command {
  const program = new Command('promiseflow')
    .description('Kratix Promise updates as durable Temporal workflows')
    .version(packageVersion(), '--version', 'print the version')
    .option(
      '--config <file>',
      'config file (env PROMISEFLOW_CONFIG, default $XDG_CONFIG_HOME/promiseflow/config.yaml)',
    )
    .option(
      '--data-dir <dir>',
      'platform data directory (env PROMISEFLOW_DATA_DIR, config dataDir, default $XDG_DATA_HOME/promiseflow)',
    )
    .option(
      '--temporal-address <host:port>',
      'Temporal frontend (env PROMISEFLOW_TEMPORAL_ADDRESS, config temporalAddress, default 127.0.0.1:7233)',
    )
    .option(
      '--temporal-namespace <ns>',
      'Temporal namespace (env PROMISEFLOW_TEMPORAL_NAMESPACE, config temporalNamespace, default "default")',
    )
    .option(
      '--task-queue <queue>',
      'task queue (env PROMISEFLOW_TASK_QUEUE, config taskQueue, default "promiseflow")',
    )
    .option(
      '--platform <store>',
      'where the platform lives: sqlite (the data directory) or kubernetes (env PROMISEFLOW_PLATFORM)',
    )
    .option(
      '--kubeconfig <file>',
      'kubeconfig of the cluster (implies --platform kubernetes; env PROMISEFLOW_KUBECONFIG, else KUBECONFIG)',
    )
    // A typo gets the error and a "did you mean", not the whole help.
    .showSuggestionAfterError(true)
    .showHelpAfterError("(run 'promiseflow --help' for usage)");

  registerApply(program);
  registerPlan(program);
  registerGet(program);
  registerDescribe(program);
  registerModify(program);
  registerUpdates(program);
  registerRollout(program);
  registerProcesses(program);
  registerConfig(program);
  registerCompletion(program);
  for (const command of program.commands) {
    command.showSuggestionAfterError(true);
    command.showHelpAfterError(`(run 'promiseflow ${command.name()} --help' for usage)`);
  }
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = err instanceof InvalidInputError ? 2 : 1;
  }
}

if (require.main === module) void main(process.argv);

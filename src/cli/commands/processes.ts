import type { Command } from 'commander';
import { overridesFrom } from '../context';

/** The long-running processes: a worker, and the Kubernetes bridge. */
export function registerProcesses(program: Command): void {
  program
    .command('worker')
    .description('run a Promiseflow worker in the foreground')
    .action(async () => {
      const { runWorker } = await import('../../worker/main');
      await runWorker(overridesFrom(program));
    });

  program
    .command('bridge')
    .description(
      'watch a Kubernetes cluster (KUBECONFIG or --kubeconfig) and start the workflows its objects need',
    )
    .option('--resync <seconds>', 'decide every object again this often', '60')
    .action(async (opts: { resync: string }) => {
      const { runBridge } = await import('../../bridge/main');
      await runBridge(
        { ...overridesFrom(program), platform: 'kubernetes' },
        { resyncMs: Number(opts.resync) * 1000 },
      );
    });
}

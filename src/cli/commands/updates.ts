import type { Command } from 'commander';
import type { UpdateStatus } from '../../client/platform-client';
import { workflowIds } from '../../workflows/ids';
import { abortSignal, pauseSignal, resumeSignal } from '../../workflows/messages';
import { out, withClient } from '../context';

/** One update per line, then its failures (each a pipeline's own message), indented. */
export function formatUpdate(row: UpdateStatus): string {
  const p = row.progress;
  if (!p)
    return `${row.workflowId}  ${row.promiseName}  ${row.state.toLowerCase()}  ${row.error ?? ''}`.trimEnd();
  const lines = [
    `${row.workflowId}  ${p.promiseName} ${p.version}  ${p.phase}${p.paused ? ' (paused)' : ''}  ` +
      `${p.done}/${p.total} done, ${p.failed} failed, ${p.running} running  ${p.details.replace(/\s*\n\s*/g, ' | ')}`,
  ];
  if (p.rollout) {
    const r = p.rollout;
    const approvals = r.approvals.length
      ? `; approved: ${r.approvals.map((a) => `batch ${a.batch}${a.by ? ` by ${a.by}` : ''}`).join(', ')}`
      : '';
    const back =
      r.rolledBack !== undefined
        ? `; rolled back ${r.rolledBack}${r.rollbackFailed ? `, ${r.rollbackFailed} failed` : ''}`
        : '';
    lines.push(`  rollout: batch ${r.batch}, ${r.state}${back}${approvals} (${r.policy})`);
    if (r.haltReason) lines.push(`  halted: ${r.haltReason}`);
  }
  for (const f of p.failures)
    lines.push(`  ✗ ${f.resource}: ${f.message.replace(/\s*\n\s*/g, ' | ')}`);
  if (p.failed > p.failures.length)
    lines.push(`  … and ${p.failed - p.failures.length} more failed`);
  return lines.join('\n');
}

export function registerUpdates(program: Command): void {
  program
    .command('status')
    .description(
      "each Promise's latest update: phase, done/failed/running/total, and why resources failed",
    )
    .argument('[promise]', 'only this Promise')
    .option('--running', 'only updates still running')
    .action(async (promise: string | undefined, opts: { running?: boolean }) => {
      await withClient(program, async (client) => {
        const rows = (await client.updates(promise)).filter(
          (r) => !opts.running || r.state === 'RUNNING',
        );
        if (rows.length === 0)
          out(opts.running ? 'No Promise updates running.' : 'No Promise updates found.');
        for (const r of rows) out(formatUpdate(r));
      });
    });

  for (const [cmd, signal, help] of [
    ['pause', pauseSignal, 'pause a running Promise update (no new resource re-runs start)'],
    ['resume', resumeSignal, 'resume a paused Promise update'],
  ] as const) {
    program
      .command(cmd)
      .description(help)
      .argument('<promise>')
      .action(async (promise: string) => {
        await withClient(program, async (client) => {
          const id = workflowIds.promiseUpdate(promise);
          await client.temporal.workflow.getHandle(id).signal(signal);
          out(`${id}: ${cmd} sent`);
        });
      });
  }
  program
    .command('abort')
    .description('stop a Promise update after the re-runs in flight')
    .argument('<promise>')
    .option('--reason <text>', 'why (shown in its progress and on the Promise)')
    .action(async (promise: string, opts: { reason?: string }) => {
      await withClient(program, async (client) => {
        const id = workflowIds.promiseUpdate(promise);
        await client.temporal.workflow.getHandle(id).signal(abortSignal, opts.reason);
        out(`${id}: abort sent`);
      });
    });
}

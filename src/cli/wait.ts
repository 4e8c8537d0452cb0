import { SingleBar } from 'cli-progress';
import type { PromiseflowClient, WorkflowOutcome } from '../client/platform-client';
import type { StartedWorkflow } from '../client/workflow-starts';
import type { UpdateProgress } from '../workflows/promiseUpdate';
import { listedPhase } from '../workflows/update-progress';
import { out } from './context';

/**
 * `--wait`: follows the started workflows (a progress bar per update on a TTY, a line per
 * change otherwise) and prints each outcome; false if any failed.
 */
export async function waitAndReport(
  client: PromiseflowClient,
  started: StartedWorkflow[],
): Promise<boolean> {
  if (started.length === 0) return true;
  const bars = new Map<string, SingleBar>();
  const tty = process.stderr.isTTY === true;
  const last = new Map<string, string>();
  const outcomes: WorkflowOutcome[] = await client.waitFor(started, (label, p: UpdateProgress) => {
    // One word, as Temporal lists it: paused, awaiting-approval, soaking, halting, ...
    const phase = listedPhase(p);
    if (tty) {
      let bar = bars.get(label);
      if (!bar) {
        bar = new SingleBar({
          format: `${label} [{bar}] {value}/{total} resources | {failed} failed | {phase}`,
          stream: process.stderr,
          hideCursor: true,
        });
        bar.start(Math.max(p.total, 1), 0, { phase, failed: p.failed });
        bars.set(label, bar);
      }
      bar.setTotal(Math.max(p.total, 1));
      bar.update(p.done + p.failed, { phase, failed: p.failed });
    } else {
      const line = `${label}: ${phase} ${p.done + p.failed}/${p.total} (${p.failed} failed)`;
      if (line !== last.get(label)) process.stderr.write(`${line}\n`);
      last.set(label, line);
    }
  });
  for (const bar of bars.values()) bar.stop();
  let ok = true;
  for (const o of outcomes) {
    out(`${o.label}: ${o.ok ? 'done' : 'FAILED'} (${o.message}) [workflow ${o.workflowId}]`);
    for (const f of (o.result as UpdateProgress | undefined)?.failures ?? []) {
      out(`  ✗ ${f.resource}: ${f.message}`);
    }
    ok &&= o.ok;
  }
  return ok;
}

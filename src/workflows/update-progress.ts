import { condition, upsertSearchAttributes } from '@temporalio/workflow';
import type { UpdateProgress } from './promiseUpdate';
import { SEARCH_ATTRIBUTES } from './search-attributes';

/**
 * A Promise update's progress where operators look: the current details (Temporal Web's
 * User Metadata tab, `temporal workflow describe`) and the search attributes (list
 * columns and filters, `temporal workflow list`).
 */

/** At most one search-attribute upsert per interval: each is a history event. */
export const PUBLISH_INTERVAL_MS = 2_000;
const FAILURES_SHOWN = 3;
const MAX_FAILURE_CHARS = 300;

/** UpdatePhase as listed: a paused or stopping update says so. */
export function listedPhase(p: UpdateProgress): string {
  if (p.phase === 'resources' && p.rollout?.haltReason) return 'halting';
  // A newer spec arrived: the in-flight re-runs finish, then the update continues as new.
  if (p.phase === 'resources' && p.stopReason?.startsWith('superseded')) return 'handing-over';
  if (p.phase === 'resources' && p.stopReason) return 'aborting';
  if (p.phase === 'resources' && p.rollout?.state === 'awaiting-approval') {
    return 'awaiting-approval';
  }
  if (p.phase === 'resources' && p.rollout?.state === 'soaking') return 'soaking';
  if (p.phase === 'resources' && p.paused) return 'paused';
  return p.phase;
}

/**
 * The current details, as Markdown (Temporal Web renders it; "11 of 201", not "11/201",
 * which its renderer turns into a fraction glyph).
 */
export function currentDetails(p: UpdateProgress): string {
  const lines = [
    `**${p.promiseName} ${p.version}**: ${p.details}`,
    `phase **${listedPhase(p)}** · **${p.done} of ${p.total} done** · ${p.failed} failed · ${p.running} running`,
  ];
  if (p.paused) lines.push('Paused: no new resource re-runs start until `resume`.');
  if (p.rollout) {
    const r = p.rollout;
    const back =
      r.rolledBack !== undefined
        ? ` · rolled back ${r.rolledBack}${r.rollbackFailed ? `, ${r.rollbackFailed} failed` : ''}`
        : '';
    lines.push(`Rollout: **batch ${r.batch}** · ${r.state}${back} · ${r.policy}`);
    if (r.haltReason) lines.push(`**Halted**: ${clip(r.haltReason)}`);
  }
  if (p.stopReason && p.phase === 'resources') {
    lines.push(`Stopping: ${p.stopReason} (the re-runs in flight finish).`);
  }
  for (const f of p.failures.slice(0, FAILURES_SHOWN)) {
    lines.push(`Failed ${f.resource}: ${clip(f.message)}`);
  }
  if (p.failures.length > FAILURES_SHOWN) {
    lines.push(`… ${p.failed - FAILURES_SHOWN} more failed (query \`progress\` for the list)`);
  }
  return lines.join('\n\n');
}

function clip(text: string): string {
  const one = text.replace(/\s*\n\s*/g, ' | ');
  return one.length > MAX_FAILURE_CHARS ? `${one.slice(0, MAX_FAILURE_CHARS - 1)}…` : one;
}

/**
 * Keeps the update's search attributes current without one upsert per child: a change is
 * published at once when the last upsert is older than the interval, else when a timer
 * for the rest of the interval fires. So every change (a new failure included) is listed
 * within the interval, and a fleet of any size adds at most one upsert per interval.
 */
export class ProgressPublisher {
  private published?: string;
  private publishedAt = Number.NEGATIVE_INFINITY;
  private stopped = false;

  constructor(private readonly progress: UpdateProgress) {}

  private key(): string {
    const p = this.progress;
    return JSON.stringify([p.promiseName, p.version, listedPhase(p), p.total, p.done, p.failed]);
  }

  /** Publishes now if anything listed changed (phase boundaries, the final state). */
  publishNow(): void {
    const key = this.key();
    if (key === this.published) return;
    const p = this.progress;
    upsertSearchAttributes([
      // Set by the starter too; an update refused before its snapshot knows no version.
      ...(p.promiseName ? [{ key: SEARCH_ATTRIBUTES.promiseName, value: p.promiseName }] : []),
      ...(p.version ? [{ key: SEARCH_ATTRIBUTES.promiseVersion, value: p.version }] : []),
      { key: SEARCH_ATTRIBUTES.updatePhase, value: listedPhase(p) },
      { key: SEARCH_ATTRIBUTES.resourcesTotal, value: p.total },
      { key: SEARCH_ATTRIBUTES.resourcesDone, value: p.done },
      { key: SEARCH_ATTRIBUTES.resourcesFailed, value: p.failed },
    ]);
    this.published = key;
    // Workflow time: deterministic on replay.
    this.publishedAt = Date.now();
  }

  /** Runs beside the update until stop(). */
  async run(): Promise<void> {
    for (;;) {
      await condition(() => this.stopped || this.key() !== this.published);
      if (this.stopped) return;
      const wait = this.publishedAt + PUBLISH_INTERVAL_MS - Date.now();
      if (wait > 0) {
        const p = this.progress;
        await condition(() => this.stopped, wait, {
          summary: `progress: ${p.done} of ${p.total} done, ${p.failed} failed`,
        });
        if (this.stopped) return;
      }
      this.publishNow();
    }
  }

  stop(): void {
    this.stopped = true;
  }
}

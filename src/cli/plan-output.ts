import type { PlanSummary, UpdatePlan, WorkPlan } from '../model/update-plan';

/** Diffs are shown without `--diff` up to this fleet size (re-run plus pinned). */
export const SMALL_FLEET = 10;

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function planHeader(plan: UpdatePlan): string[] {
  const from = plan.currentVersion ?? '(new Promise)';
  const note = plan.changed
    ? ''
    : ' (spec and version unchanged: apply starts no update unless the last one did not succeed)';
  return [
    `Promise ${plan.promise}: ${from} → ${plan.proposedVersion}${note}`,
    `Rollout: ${plan.rollout}`,
  ];
}

export function summaryLines(s: PlanSummary): string[] {
  const p = s.placements;
  const files = Object.entries(s.filesChanged)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([d, n]) => `${d} ${n}`);
  const lines = [
    `  resources re-run: ${s.resourcesRerun} in ${plural(s.batches, 'batch', 'batches')}; pinned to another version (not touched): ${s.resourcesPinned}`,
    `  placements: ${p.added} added, ${p.kept} kept, ${p.misplaced} misplaced${p.unscheduled ? `, ${p.unscheduled} unscheduled` : ''}`,
    `  files changed: ${files.length ? files.join(', ') : 'none'}`,
  ];
  if (s.errors) lines.push(`  errors: ${s.errors} (see below)`);
  return lines;
}

function workLines(w: WorkPlan, indent: string): string[] {
  const lines = [`${indent}work ${w.work} (pipeline ${w.pipeline})`];
  if (w.error) lines.push(`${indent}  error: ${w.error}`);
  if (!w.error && w.changes.length === 0 && w.unscheduled.length === 0) {
    lines.push(`${indent}  nothing to place`);
  }
  const width = Math.max(0, ...w.changes.map((c) => c.destination.length));
  const order = { added: 0, kept: 1, misplaced: 2 };
  const changes = [...w.changes].sort(
    (a, b) => order[a.change] - order[b.change] || a.placement.localeCompare(b.placement),
  );
  for (const c of changes) {
    const note = c.change === 'misplaced' ? ' (files left in place, labelled misplaced)' : '';
    lines.push(
      `${indent}  ${c.change.padEnd(9)} ${c.destination.padEnd(width)}  ${c.placement} [group ${c.groupId}]${note}`,
    );
  }
  for (const u of w.unscheduled) {
    const labels = Object.entries(u.matchLabels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    lines.push(
      `${indent}  unscheduled [group ${u.groupId}]: no Destinations can be selected for scheduling (${labels || 'no selectors'})`,
    );
  }
  return lines;
}

/** The whole plan as text: header, summary, then details; diffs when `diffs`. */
export function formatPlan(plan: UpdatePlan, options: { diffs: boolean }): string {
  const lines = [...planHeader(plan), '', 'Summary:', ...summaryLines(plan.summary), ''];
  if (plan.batches.length) {
    lines.push('Batches:');
    plan.batches.forEach((b, i) => lines.push(`  ${i + 1}: ${b.join(', ')}`));
    lines.push('');
  }
  if (plan.pinned.length) {
    lines.push('Pinned (not touched):');
    for (const p of plan.pinned) lines.push(`  ${p.namespace}/${p.name} @ ${p.version}`);
    lines.push('');
  }
  lines.push('Promise:');
  for (const w of plan.promiseWorks) lines.push(...workLines(w, '  '));
  lines.push('');
  if (plan.resources.length) {
    lines.push('Resources:');
    for (const r of plan.resources) {
      lines.push(`  ${r.namespace}/${r.name} (binding ${r.binding}, batch ${r.batch + 1})`);
      if (r.error) lines.push(`    error: ${r.error}`);
      for (const w of r.works) lines.push(...workLines(w, '    '));
    }
    lines.push('');
  }
  lines.push('Files:');
  if (plan.files.length === 0) lines.push('  no file would change');
  for (const f of plan.files) lines.push(`  ${f.change.padEnd(8)} ${f.destination}: ${f.path}`);
  if (options.diffs) {
    for (const f of plan.files) {
      lines.push('');
      lines.push(
        f.binary
          ? `Binary file ${f.path} (${f.destination}) ${f.change}`
          : (f.patch ?? '').trimEnd(),
      );
    }
  } else if (plan.files.length) {
    lines.push('', `(diffs not shown for a fleet of more than ${SMALL_FLEET}: add --diff)`);
  }
  return `${lines.join('\n')}\n`;
}

/** Short form for `apply --dry-run`. */
export function formatPlanSummary(plan: UpdatePlan): string {
  const misplaced = [...plan.promiseWorks, ...plan.resources.flatMap((r) => r.works)]
    .flatMap((w) => w.changes)
    .filter((c) => c.change === 'misplaced')
    .map((c) => `  misplaced: ${c.placement}`);
  return `${[...planHeader(plan), ...summaryLines(plan.summary), ...misplaced].join('\n')}\n`;
}

import { formatLabels } from '../model/selectors';
import type { Condition, KratixObject } from '../model/types';
import { LABELS } from '../model/labels';
import type { KindInfo } from '../client/kinds';

/** kubectl-style columns for each kind; `-o yaml|json` prints whole objects instead. */
type Column = [header: string, value: (o: KratixObject) => string];

function condition(o: KratixObject, type: string): Condition | undefined {
  return (o.status?.conditions as Condition[] | undefined)?.find((c) => c.type === type);
}

function str(v: unknown): string {
  return v === undefined || v === null || v === '' ? '' : String(v);
}

function columnsFor(kind: KindInfo): Column[] {
  switch (kind.kind) {
    case 'Promise':
      return [
        [
          'STATUS',
          (o) => str(o.status?.status) || str(condition(o, 'ConfigureWorkflowCompleted')?.reason),
        ],
        ['VERSION', (o) => str(o.status?.version ?? o.metadata.labels?.[LABELS.promiseVersion])],
      ];
    case 'PromiseRevision':
      return [
        ['LATEST', (o) => (o.metadata.labels?.[LABELS.latestRevision] === 'true' ? 'true' : '')],
        ['VERSION', (o) => str((o.spec as { version?: string } | undefined)?.version)],
      ];
    case 'ResourceBinding':
      return [
        ['PROMISE', (o) => str((o.spec as { promiseRef?: { name?: string } })?.promiseRef?.name)],
        ['VERSION', (o) => str((o.spec as { version?: string })?.version)],
        ['LAST APPLIED', (o) => str(o.status?.lastAppliedVersion)],
        ['FAILED', (o) => str(o.status?.failedVersion)],
        ['UPGRADE', (o) => str(condition(o, 'UpgradeSucceeded')?.reason)],
      ];
    case 'Destination':
      return [
        ['READY', (o) => str(condition(o, 'Ready')?.status)],
        [
          'STATE STORE',
          (o) => {
            const r = (o.spec as { stateStoreRef?: { kind: string; name: string } })?.stateStoreRef;
            return r ? `${r.kind}/${r.name}` : '';
          },
        ],
      ];
    case 'GitStateStore':
    case 'BucketStateStore':
      return [['STATUS', (o) => str(o.status?.status)]];
    case 'Work':
      return [
        ['NAMESPACE', (o) => str(o.metadata.namespace)],
        ['SCHEDULED', (o) => str(condition(o, 'Scheduled')?.status)],
      ];
    case 'WorkPlacement':
      return [
        ['DESTINATION', (o) => str(o.metadata.labels?.[LABELS.targetDestinationName])],
        ['MISPLACED', (o) => (o.metadata.labels?.[LABELS.misplaced] === 'true' ? 'true' : '')],
      ];
    case 'Secret':
      return [['NAMESPACE', (o) => str(o.metadata.namespace)]];
    default:
      // Resource requests: the pipeline's status message (e.g. "mongodb version: 4.4.24").
      return [['STATUS', (o) => str(o.status?.message)]];
  }
}

export function formatTable(kind: KindInfo, items: KratixObject[], showLabels: boolean): string {
  const columns: Column[] = [['NAME', (o) => o.metadata.name], ...columnsFor(kind)];
  if (showLabels) columns.push(['LABELS', (o) => formatLabels(o.metadata.labels)]);
  const rows = [columns.map(([h]) => h), ...items.map((o) => columns.map(([, f]) => f(o)))];
  const widths = columns.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]! + 3)))
        .join('')
        .trimEnd(),
    )
    .join('\n');
}

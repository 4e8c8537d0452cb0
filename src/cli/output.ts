import { formatLabels } from '../model/selectors';
import type { Condition, KratixObject } from '../model/types';
import { LABELS } from '../model/labels';
import type { KindInfo } from '../client/kinds';

/**
 * kubectl-style tables for each kind: `get` (with AGE, and NAMESPACE where it tells objects
 * apart), `-o wide` (more columns), `-o name`; `-o yaml|json|jsonpath` print objects instead.
 */
type Column = [header: string, value: (o: KratixObject) => string];

export interface TableOptions {
  /** `-o wide`. */
  wide?: boolean;
  /** `--show-labels`. */
  showLabels?: boolean;
  /**
   * `always` (-A: first, as kubectl), `never` (-n), `auto` (without either: shown when the
   * objects listed are in more than one namespace, so two of the same name can be told apart).
   */
  namespaceColumn?: 'always' | 'never' | 'auto';
  now?: Date;
}

function condition(o: KratixObject, type: string): Condition | undefined {
  const list = o.status?.conditions;
  return Array.isArray(list) ? (list as Condition[]).find((c) => c.type === type) : undefined;
}

function str(v: unknown): string {
  return v === undefined || v === null || v === '' ? '' : String(v);
}

/** One line: messages may hold several (a pipeline's last output lines). */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' | ');
}

/**
 * A resource request's STATUS: its pipeline's status message, or why there is none yet.
 * A failed last reconcile says so, with the message of the last good run, if any.
 */
export function requestStatus(o: KratixObject): string {
  const message = str(o.status?.message);
  const reconciled = condition(o, 'Reconciled');
  if (reconciled?.status === 'False' && reconciled.reason === 'ReconcileFailed') {
    return message ? `Failed (${message})` : 'Failed';
  }
  if (message) return message;
  return condition(o, 'ConfigureWorkflowCompleted')?.status === 'False' ? 'Pending' : '';
}

function promiseStatus(o: KratixObject): string {
  const status = str(o.status?.status) || str(condition(o, 'ConfigureWorkflowCompleted')?.reason);
  const resources = condition(o, 'ResourcesReconciled');
  const failed = (o.status?.resources as { failed?: number } | undefined)?.failed ?? 0;
  if (resources?.status === 'False' && resources.reason === 'ResourcesFailed') {
    return `${status}, ${failed} resource(s) failed`;
  }
  return status;
}

function columnsFor(kind: KindInfo): { base: Column[]; wide: Column[] } {
  switch (kind.kind) {
    case 'Promise':
      return {
        base: [
          ['STATUS', promiseStatus],
          ['VERSION', (o) => str(o.status?.version ?? o.metadata.labels?.[LABELS.promiseVersion])],
        ],
        wide: [
          [
            'RESOURCES',
            (o) => {
              const r = o.status?.resources as { total?: number; done?: number } | undefined;
              return r ? `${r.done ?? 0}/${r.total ?? 0}` : '';
            },
          ],
          ['LAST UPDATE', (o) => oneLine(str(condition(o, 'ResourcesReconciled')?.message))],
        ],
      };
    case 'PromiseRevision':
      return {
        base: [
          ['LATEST', (o) => (o.metadata.labels?.[LABELS.latestRevision] === 'true' ? 'true' : '')],
          ['VERSION', (o) => str((o.spec as { version?: string } | undefined)?.version)],
        ],
        wide: [],
      };
    case 'ResourceBinding':
      return {
        base: [
          ['PROMISE', (o) => str((o.spec as { promiseRef?: { name?: string } })?.promiseRef?.name)],
          ['VERSION', (o) => str((o.spec as { version?: string })?.version)],
          ['LAST APPLIED', (o) => str(o.status?.lastAppliedVersion)],
          ['FAILED', (o) => str(o.status?.failedVersion)],
          ['UPGRADE', (o) => str(condition(o, 'UpgradeSucceeded')?.reason)],
        ],
        wide: [['MESSAGE', (o) => oneLine(str(condition(o, 'UpgradeSucceeded')?.message))]],
      };
    case 'Destination':
      return {
        base: [
          ['READY', (o) => str(condition(o, 'Ready')?.status)],
          [
            'STATE STORE',
            (o) => {
              const r = (o.spec as { stateStoreRef?: { kind: string; name: string } })
                ?.stateStoreRef;
              return r ? `${r.kind}/${r.name}` : '';
            },
          ],
        ],
        wide: [['MESSAGE', (o) => oneLine(str(condition(o, 'Ready')?.message))]],
      };
    case 'GitStateStore':
    case 'BucketStateStore':
      return {
        base: [['STATUS', (o) => str(o.status?.status)]],
        wide: [['MESSAGE', (o) => oneLine(str(o.status?.message))]],
      };
    case 'Work':
      return {
        base: [['SCHEDULED', (o) => str(condition(o, 'Scheduled')?.status)]],
        wide: [
          ['PROMISE', (o) => str(o.metadata.labels?.[LABELS.promiseName])],
          ['RESOURCE', (o) => str(o.metadata.labels?.[LABELS.resourceName])],
        ],
      };
    case 'WorkPlacement':
      return {
        base: [
          ['DESTINATION', (o) => str(o.metadata.labels?.[LABELS.targetDestinationName])],
          ['MISPLACED', (o) => (o.metadata.labels?.[LABELS.misplaced] === 'true' ? 'true' : '')],
        ],
        wide: [['WORK', (o) => str((o.spec as { workName?: string } | undefined)?.workName)]],
      };
    case 'Secret':
      return {
        base: [
          ['TYPE', (o) => str((o as { type?: string }).type) || 'Opaque'],
          [
            'DATA',
            (o) => {
              const s = o as { data?: object; stringData?: object };
              return String(
                new Set([...Object.keys(s.data ?? {}), ...Object.keys(s.stringData ?? {})]).size,
              );
            },
          ],
        ],
        wide: [],
      };
    default:
      // Resource requests: the pipeline's status message (e.g. "mongodb version: 4.4.24").
      return {
        base: [['STATUS', requestStatus]],
        wide: [
          ['VERSION', (o) => str(o.status?.promiseVersion)],
          ['MESSAGE', (o) => oneLine(str(condition(o, 'Reconciled')?.message))],
        ],
      };
  }
}

/** kubectl's age: 45s, 3m12s, 2h5m, 3d4h, 400d, 2y30d. */
export function formatAge(from: string | undefined, now: Date = new Date()): string {
  if (!from) return '<unknown>';
  const seconds = Math.max(0, Math.floor((now.getTime() - new Date(from).getTime()) / 1000));
  if (Number.isNaN(seconds)) return '<unknown>';
  const m = Math.floor(seconds / 60);
  const h = Math.floor(seconds / 3600);
  const d = Math.floor(seconds / 86400);
  const y = Math.floor(d / 365);
  if (seconds < 120) return `${seconds}s`;
  if (m < 10) return seconds % 60 === 0 ? `${m}m` : `${m}m${seconds % 60}s`;
  if (h < 3) return `${m}m`;
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  if (d < 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 365 * 2) return `${d}d`;
  if (y < 8) return d % 365 === 0 ? `${y}y` : `${y}y${d % 365}d`;
  return `${y}y`;
}

export function showNamespaceColumn(
  kind: KindInfo,
  items: KratixObject[],
  mode: TableOptions['namespaceColumn'] = 'auto',
): boolean {
  if (!kind.namespaced || mode === 'never') return false;
  if (mode === 'always') return true;
  return new Set(items.map((o) => o.metadata.namespace ?? '')).size > 1;
}

/** Header and rows, as cells. */
export function tableRows(
  kind: KindInfo,
  items: KratixObject[],
  options: TableOptions = {},
): string[][] {
  const { base, wide } = columnsFor(kind);
  const now = options.now ?? new Date();
  const columns: Column[] = [
    ...(showNamespaceColumn(kind, items, options.namespaceColumn)
      ? [['NAMESPACE', (o: KratixObject) => str(o.metadata.namespace)] as Column]
      : []),
    ['NAME', (o) => o.metadata.name],
    ...base,
    ['AGE', (o) => formatAge(o.metadata.creationTimestamp as string | undefined, now)],
    ...(options.wide ? wide : []),
  ];
  if (options.showLabels) columns.push(['LABELS', (o) => formatLabels(o.metadata.labels)]);
  return [columns.map(([h]) => h), ...items.map((o) => columns.map(([, f]) => f(o)))];
}

export function columnWidths(rows: string[][]): number[] {
  return (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => r[i]?.length ?? 0)));
}

/** Left-aligned columns three spaces apart, as kubectl prints them. */
export function renderRows(rows: string[][], widths: number[] = columnWidths(rows)): string {
  return rows
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd((widths[i] ?? 0) + 3)))
        .join('')
        .trimEnd(),
    )
    .join('\n');
}

export function formatTable(
  kind: KindInfo,
  items: KratixObject[],
  options: boolean | TableOptions = {},
): string {
  const opts = typeof options === 'boolean' ? { showLabels: options } : options;
  return renderRows(tableRows(kind, items, opts));
}

/** `-o name`: `promise.platform.kratix.io/mongodb`, `secret/db-credentials`. */
export function objectName(o: KratixObject): string {
  const slash = (o.apiVersion ?? '').lastIndexOf('/');
  const group = slash === -1 ? '' : o.apiVersion.slice(0, slash);
  return `${o.kind.toLowerCase()}${group ? `.${group}` : ''}/${o.metadata.name}`;
}

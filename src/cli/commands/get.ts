import type { Command } from 'commander';
import type { PromiseflowClient } from '../../client/platform-client';
import type { KindInfo } from '../../client/kinds';
import { InvalidInputError } from '../../model/errors';
import { toYaml } from '../../model/load';
import type { KratixObject } from '../../model/types';
import { withClient } from '../context';
import { renderJsonPath } from '../jsonpath';
import { columnWidths, objectName, renderRows, showNamespaceColumn, tableRows } from '../output';
import { namespaceOptions, namespaceScope, type NamespaceFlags } from './namespaces';

export type OutputFormat =
  { kind: 'table' | 'wide' | 'yaml' | 'json' | 'name' } | { kind: 'jsonpath'; template: string };

export function parseOutput(value: string): OutputFormat {
  if (['table', 'wide', 'yaml', 'json', 'name'].includes(value)) {
    return { kind: value as 'table' | 'wide' | 'yaml' | 'json' | 'name' };
  }
  const jsonpath = /^jsonpath=(.*)$/s.exec(value);
  if (jsonpath) return { kind: 'jsonpath', template: jsonpath[1]! };
  throw new InvalidInputError({
    field: '-o',
    expected: 'wide, name, yaml, json or jsonpath=TEMPLATE',
    got: value,
  });
}

interface GetFlags extends NamespaceFlags {
  selector?: string;
  showLabels?: boolean;
  output: string;
  watch?: boolean;
  watchInterval: string;
}

/** The objects printed in one format; `single`: `get KIND NAME` (one object, not a List). */
function render(
  kind: KindInfo,
  items: KratixObject[],
  format: OutputFormat,
  options: { single: boolean; showLabels: boolean; namespaceColumn: 'always' | 'never' | 'auto' },
): string {
  const list = { apiVersion: 'v1', kind: 'List', items };
  switch (format.kind) {
    case 'json':
      return `${JSON.stringify(options.single ? items[0] : list, null, 2)}\n`;
    case 'yaml':
      return toYaml(items);
    case 'name':
      return items.map((o) => `${objectName(o)}\n`).join('');
    case 'jsonpath':
      return renderJsonPath(format.template, options.single ? items[0] : list);
    default: {
      const rows = tableRows(kind, items, {
        wide: format.kind === 'wide',
        showLabels: options.showLabels,
        namespaceColumn: options.namespaceColumn,
      });
      return `${renderRows(rows)}\n`;
    }
  }
}

export function registerGet(program: Command): void {
  const get = program
    .command('get')
    .description(
      'list objects: promises, promiserevisions, resourcebindings, destinations, gitstatestores, bucketstatestores, works, workplacements, secrets, or a Promise API (e.g. mongodbs)',
    )
    .argument('<kind>')
    .argument('[name]')
    .option('-l, --selector <selector>', 'label selector, e.g. kratix.io/misscheduled=true')
    .option('--show-labels', 'add a LABELS column')
    .option(
      '-o, --output <format>',
      'wide, name, yaml, json, or jsonpath=TEMPLATE (e.g. jsonpath={.items[*].metadata.name})',
      'table',
    )
    .option('-w, --watch', 'after listing, keep printing objects as they change (Ctrl-C stops)')
    .option('--watch-interval <seconds>', 'how often --watch looks for changes', '1');
  namespaceOptions(get, 'only this namespace (default: every namespace)');
  get.action(async (kindArg: string, name: string | undefined, opts: GetFlags) => {
    const format = parseOutput(opts.output);
    const scope = namespaceScope(opts);
    const interval = Number(opts.watchInterval);
    if (!(interval > 0)) {
      throw new InvalidInputError({
        field: '--watch-interval',
        expected: 'a positive number of seconds',
        got: opts.watchInterval,
      });
    }
    await withClient(
      program,
      async (client) => {
        const { kind, items } = await client.get(kindArg, {
          name,
          labelSelector: opts.selector,
          namespace: scope.namespace,
        });
        const namespaceColumn = scope.all
          ? 'always'
          : scope.namespace
            ? 'never'
            : showNamespaceColumn(kind, items)
              ? 'always'
              : 'never';
        const options = {
          single: name !== undefined,
          showLabels: opts.showLabels === true,
          namespaceColumn,
        } as const;
        if (items.length === 0 && !opts.watch) {
          process.stderr.write(
            `No ${kind.plural} found${scope.namespace ? ` in namespace ${scope.namespace}` : ''}.\n`,
          );
          return;
        }
        if (items.length > 0) process.stdout.write(render(kind, items, format, options));
        if (opts.watch)
          await watch(
            client,
            kind,
            items,
            { name, selector: opts.selector, namespace: scope.namespace },
            format,
            options,
            interval * 1000,
          );
      },
      { temporal: 'lazy' },
    );
  });
}

/**
 * `get -w`: polls and prints each object that was added, changed or deleted since the last
 * look (tables keep the first listing's column widths, without a new header), until SIGINT
 * or SIGTERM; then returns so the clients close in order and the exit code is 0.
 */
async function watch(
  client: PromiseflowClient,
  kind: KindInfo,
  initial: KratixObject[],
  query: { name?: string; selector?: string; namespace?: string },
  format: OutputFormat,
  options: { single: boolean; showLabels: boolean; namespaceColumn: 'always' | 'never' | 'auto' },
  intervalMs: number,
): Promise<void> {
  const key = (o: KratixObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  let seen = new Map(initial.map((o) => [key(o), JSON.stringify(o)]));
  const tableOptions = {
    wide: format.kind === 'wide',
    showLabels: options.showLabels,
    namespaceColumn: options.namespaceColumn,
  };
  let widths =
    initial.length > 0 ? columnWidths(tableRows(kind, initial, tableOptions)) : undefined;
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  let running = true;
  const onSignal = () => {
    running = false;
    stop();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    while (running) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([stopped, new Promise<void>((r) => (timer = setTimeout(r, intervalMs)))]);
      clearTimeout(timer);
      if (!running) break;
      const items = await listQuietly(client, kind, query);
      if (!items) continue;
      const now = new Map(items.map((o) => [key(o), JSON.stringify(o)]));
      const changed = items.filter((o) => seen.get(key(o)) !== now.get(key(o)));
      const deleted = [...seen.keys()]
        .filter((k) => !now.has(k))
        .map((k) => JSON.parse(seen.get(k)!) as KratixObject);
      seen = now;
      const batch = [...changed, ...deleted];
      if (batch.length === 0) continue;
      if (format.kind === 'table' || format.kind === 'wide') {
        const rows = tableRows(kind, batch, tableOptions);
        // The header only when nothing was listed before, as kubectl.
        if (!widths) {
          widths = columnWidths(rows);
          process.stdout.write(`${renderRows(rows, widths)}\n`);
        } else {
          widths = widths.map((w, i) =>
            Math.max(w, ...rows.slice(1).map((r) => r[i]?.length ?? 0)),
          );
          process.stdout.write(`${renderRows(rows.slice(1), widths)}\n`);
        }
      } else {
        process.stdout.write(render(kind, batch, format, { ...options, single: false }));
      }
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

/** A listing that fails mid-watch (an object that went away) is skipped, not fatal. */
async function listQuietly(
  client: PromiseflowClient,
  kind: KindInfo,
  query: { name?: string; selector?: string; namespace?: string },
): Promise<KratixObject[] | undefined> {
  try {
    const { items } = await client.get(kind.kind, {
      labelSelector: query.selector,
      namespace: query.namespace,
    });
    return query.name ? items.filter((o) => o.metadata.name === query.name) : items;
  } catch {
    return undefined;
  }
}

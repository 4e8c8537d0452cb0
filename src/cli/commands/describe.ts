import type { Command } from 'commander';
import { stringify } from 'yaml';
import type { PromiseflowClient } from '../../client/platform-client';
import { resourceBindingName } from '../../model/revisions';
import type { Condition, KratixObject } from '../../model/types';
import type { RecordedEvent } from '../../platform/store';
import { out, withClient } from '../context';
import { formatAge, renderRows } from '../output';
import { namespaceOptions, namespaceScope, type NamespaceFlags } from './namespaces';

/** How long `describe promise` waits for Temporal to tell about the last update. */
const UPDATE_LOOKUP_MS = 5_000;
const EVENTS_SHOWN = 20;

export function registerDescribe(program: Command): void {
  const describe = program
    .command('describe')
    .description('show one object in detail: its spec, status, conditions and recent events')
    .argument('<kind>')
    .argument('<name>');
  namespaceOptions(describe, 'where the object is (needed when the name is in several)', false);
  describe.action(async (kindArg: string, name: string, opts: NamespaceFlags) => {
    const { namespace } = namespaceScope(opts);
    await withClient(
      program,
      async (client) => {
        const { kind, object } = await client.findOne(kindArg, name, namespace);
        const events = await client.events({
          kind: object.kind,
          name: object.metadata.name,
          namespace: object.metadata.namespace,
        });
        const sections = [describeObject(object, events)];
        if (kind.promiseName)
          sections.push(await describeBinding(client, kind.promiseName, object));
        if (object.kind === 'Promise') sections.push(await describeLastUpdate(client, name));
        out(sections.filter((s) => s !== '').join('\n'));
      },
      { temporal: 'lazy' },
    );
  });
}

function field(label: string, value: string): string {
  return `${`${label}:`.padEnd(14)}${value}`;
}

function indent(text: string, by = '  '): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => `${by}${l}`)
    .join('\n');
}

function map(label: string, entries: Record<string, string> | undefined): string[] {
  const list = Object.entries(entries ?? {}).map(([k, v]) => `${k}=${v}`);
  if (list.length === 0) return [field(label, '<none>')];
  return [field(label, list[0]!), ...list.slice(1).map((l) => `${' '.repeat(14)}${l}`)];
}

/** kubectl describe's layout: metadata, spec, status, conditions, events. */
export function describeObject(
  o: KratixObject,
  events: RecordedEvent[],
  now: Date = new Date(),
): string {
  const created = o.metadata.creationTimestamp as string | undefined;
  const lines = [
    field('Name', o.metadata.name),
    ...(o.metadata.namespace ? [field('Namespace', o.metadata.namespace)] : []),
    field('Kind', `${o.kind} (${o.apiVersion})`),
    ...map('Labels', o.metadata.labels),
    ...map('Annotations', o.metadata.annotations as Record<string, string> | undefined),
    field('Created', created ? `${created} (${formatAge(created, now)} ago)` : '<unknown>'),
  ];
  if (o.kind === 'Secret') {
    // Values never: only which keys there are and their sizes, as kubectl.
    const s = o as { data?: Record<string, string>; stringData?: Record<string, string> };
    const sizes: Record<string, number> = {};
    for (const [k, v] of Object.entries(s.data ?? {})) sizes[k] = Buffer.from(v, 'base64').length;
    for (const [k, v] of Object.entries(s.stringData ?? {})) sizes[k] = Buffer.byteLength(v);
    lines.push('Data:');
    for (const [k, n] of Object.entries(sizes)) lines.push(`  ${k}:  ${n} bytes`);
  } else if (o.spec !== undefined) {
    lines.push('Spec:', indent(stringify(o.spec, { lineWidth: 0 })));
  }
  const { conditions, ...status } = (o.status ?? {}) as Record<string, unknown>;
  if (Object.keys(status).length > 0) {
    lines.push('Status:', indent(stringify(status, { lineWidth: 0 })));
  }
  lines.push('Conditions:');
  const list = Array.isArray(conditions) ? (conditions as Condition[]) : [];
  if (list.length === 0) lines.push('  <none>');
  else {
    const rows = [
      ['Type', 'Status', 'Reason', 'Age', 'Message'],
      ...list.map((c) => [
        c.type,
        c.status,
        c.reason ?? '',
        c.lastTransitionTime ? formatAge(c.lastTransitionTime, now) : '',
        c.message ?? '',
      ]),
    ];
    lines.push(indent(renderMultiline(rows)));
  }
  lines.push('Events:');
  if (events.length === 0) lines.push('  <none>');
  else {
    const recent = events.slice(-EVENTS_SHOWN);
    const rows = [
      ['Type', 'Reason', 'Age', 'Message'],
      ['----', '------', '---', '-------'],
      ...recent.map((e) => [
        e.type,
        e.reason,
        `${formatAge(e.time, now)}${(e.count ?? 1) > 1 ? ` (x${e.count})` : ''}`,
        e.message,
      ]),
    ];
    lines.push(indent(renderMultiline(rows)));
  }
  return lines.join('\n');
}

/** A table whose last column may hold several lines (a pipeline's output): kept aligned. */
function renderMultiline(rows: string[][]): string {
  const flat = rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.replace(/\n/g, ' '))));
  const widths = flat[0]!.map((_, i) =>
    Math.max(...flat.map((r) => (i === r.length - 1 ? 0 : (r[i]?.length ?? 0)))),
  );
  const pad = widths.slice(0, -1).reduce((n, w) => n + w + 3, 0);
  return flat
    .map((r) => {
      const [first, ...rest] = (r.at(-1) ?? '').split('\n');
      const line = renderRows([[...r.slice(0, -1), first ?? '']], widths);
      return [line, ...rest.map((l) => `${' '.repeat(pad)}${l}`)].join('\n');
    })
    .join('\n');
}

async function describeBinding(
  client: PromiseflowClient,
  promiseName: string,
  request: KratixObject,
): Promise<string> {
  const name = resourceBindingName(promiseName, request.metadata.name);
  const found = await client
    .get('resourcebindings', { name, namespace: request.metadata.namespace })
    .catch(() => undefined);
  const binding = found?.items[0];
  if (!binding) return field('Binding', '<none yet>');
  const version = (binding.spec as { version?: string } | undefined)?.version ?? 'latest';
  const applied = binding.status?.lastAppliedVersion;
  const failed = binding.status?.failedVersion;
  return field(
    'Binding',
    `${name}: version ${version}${applied ? `, running ${String(applied)}` : ''}${failed ? `, failed at ${String(failed)}` : ''}`,
  );
}

async function describeLastUpdate(client: PromiseflowClient, promise: string): Promise<string> {
  try {
    const [row] = await client.temporal.connection.withDeadline(Date.now() + UPDATE_LOOKUP_MS, () =>
      client.updates(promise),
    );
    if (!row) return field('Last update', '<none on record>');
    const p = row.progress;
    const lines = [
      field(
        'Last update',
        `${row.workflowId} (${row.state.toLowerCase()})${p ? `: ${p.version} ${p.paused && p.phase === 'resources' ? 'paused' : p.phase}, ${p.done}/${p.total} done, ${p.failed} failed, ${p.running} running` : ''}`,
      ),
    ];
    if (row.error) lines.push(`  ${row.error}`);
    for (const f of p?.failures ?? []) lines.push(`  ✗ ${f.resource}: ${f.message}`);
    return lines.join('\n');
  } catch (err) {
    return field('Last update', `unknown (Temporal: ${(err as Error).message.split('\n')[0]})`);
  }
}

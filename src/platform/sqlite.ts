/**
 * The embedded PlatformStore: one SQLite file shared by the CLI and every worker process.
 *
 * Objects live in `objects` (keyed by kind, namespace, name; the object as JSON without its
 * status, and the status as a second JSON column so status writes never touch the spec).
 * Labels are copied into `labels` so that label selectors run as indexed SQL instead of
 * parsing every object.
 */
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeObject, InvalidInputError } from '../model/errors';
import { matchesRequirement, toLabelRequirements } from '../model/selectors';
import { buildListQuery, checkLimit, decodeCursor, encodeCursor } from './sqlite-queries';
import { BUSY_TIMEOUT_MS, createSchema, enableWal, prepareStatements } from './sqlite-schema';
import type { AnyKratixObject, Json, ObjectRow } from './sqlite-objects';
import {
  assemble,
  checkStatus,
  deepEqual,
  managedMetadata,
  nextResourceVersion,
  normalizeInput,
} from './sqlite-objects';
import type { KratixObject } from '../model/types';
import type {
  ApplyResult,
  ListOptions,
  ListPage,
  ObjectKey,
  PlatformEvent,
  RecordedEvent,
  PlatformStore,
} from './store';

export const PLATFORM_DB_FILE = 'platform.db';
/** Events kept per object (oldest dropped), as the API server's event TTL would. */
const EVENTS_PER_OBJECT = 50;
/** Rows fetched per round when part of a selector (`>`/`<`) can only be checked in JS. */
const FILTER_BATCH = 256;

type StoredObject = KratixObject;

export function openSqlitePlatformStore(dataDir: string): SqlitePlatformStore {
  fs.mkdirSync(dataDir, { recursive: true });
  return new SqlitePlatformStore(path.join(dataDir, PLATFORM_DB_FILE));
}

export class SqlitePlatformStore implements PlatformStore {
  private readonly db: Database.Database;
  private readonly statements: ReturnType<typeof prepareStatements>;
  private readonly listStatements = new Map<string, Database.Statement>();

  constructor(readonly file: string) {
    // `timeout` is SQLite's busy_timeout: writers in other processes are waited for, not failed.
    this.db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
    try {
      enableWal(this.db);
      // NORMAL is durable across process crashes in WAL mode; only an OS crash can lose the tail.
      this.db.pragma('synchronous = NORMAL');
      createSchema(this.db);
      this.statements = prepareStatements(this.db);
    } catch (err) {
      this.db.close();
      throw err;
    }
  }

  async get<T extends AnyKratixObject = KratixObject>(key: ObjectKey): Promise<T | undefined> {
    const row = this.statements.select.get(key.kind, key.namespace ?? '', key.name) as
      ObjectRow | undefined;
    return row ? (assemble(row) as T) : undefined;
  }

  /**
   * `namespace` '' or omitted lists every namespace (as in Kubernetes); cluster-scoped kinds
   * only have ''. Pages are keyset-paginated on (namespace, name), so objects created or
   * deleted between pages never make another object repeat or go missing.
   */
  async list<T extends AnyKratixObject = KratixObject>(
    kind: string,
    options: ListOptions = {},
  ): Promise<ListPage<T>> {
    const limit = checkLimit(options.limit);
    const requirements =
      options.labelSelector === undefined ? [] : toLabelRequirements(options.labelSelector);
    const inJs = requirements.filter(
      (r) => r.operator === 'GreaterThan' || r.operator === 'LessThan',
    );
    const inSql = requirements.filter((r) => !inJs.includes(r));
    let after = options.continue ? decodeCursor(options.continue) : undefined;
    // Without a JS filter a page is one query of limit+1 rows: the extra row says "more follow".
    const batch = limit === undefined ? undefined : inJs.length ? FILTER_BATCH : limit + 1;

    // One read transaction: every batch sees the same snapshot.
    const items = this.db.transaction(() => {
      const found: KratixObject[] = [];
      for (;;) {
        const { sql, params } = buildListQuery(kind, options.namespace, after, inSql, batch);
        const rows = this.listStatement(sql).all(...params) as ObjectRow[];
        for (const row of rows) {
          const object = assemble(row);
          if (inJs.every((r) => matchesRequirement(object.metadata.labels, r))) found.push(object);
          if (limit !== undefined && found.length > limit) return found;
        }
        const last = rows[rows.length - 1];
        if (batch === undefined || rows.length < batch || !last) return found;
        after = [last.namespace, last.name];
      }
    })();

    if (limit === undefined || items.length <= limit) return { items: items as T[] };
    const page = items.slice(0, limit);
    const last = page[page.length - 1] as KratixObject;
    return {
      items: page as T[],
      continue: encodeCursor([last.metadata.namespace ?? '', last.metadata.name]),
    };
  }

  /**
   * Status in `object` is ignored, on create too: status belongs to `updateStatus`, as with
   * a Kubernetes status subresource.
   */
  async apply<T extends AnyKratixObject>(object: T): Promise<{ object: T; result: ApplyResult }> {
    const input = normalizeInput(object);
    const { kind } = input;
    const namespace = input.metadata.namespace ?? '';
    const { name } = input.metadata;
    return this.db
      .transaction(() => {
        const row = this.statements.select.get(kind, namespace, name) as ObjectRow | undefined;
        if (!row) {
          const created: StoredObject = {
            ...input,
            metadata: {
              ...input.metadata,
              uid: randomUUID(),
              creationTimestamp: new Date().toISOString(),
              generation: 1,
              resourceVersion: '1',
            },
          };
          this.statements.insert.run(kind, namespace, name, JSON.stringify(created));
          this.writeLabels(kind, namespace, name, created.metadata.labels);
          return { object: created as T, result: 'created' as const };
        }

        const existing = JSON.parse(row.object) as StoredObject;
        const candidate: StoredObject = {
          ...input,
          metadata: { ...input.metadata, ...managedMetadata(existing) },
        };
        if (deepEqual(existing as Json, candidate as Json)) {
          return { object: assemble(row) as T, result: 'unchanged' as const };
        }
        const specChanged = !deepEqual(
          (existing.spec ?? null) as Json,
          (candidate.spec ?? null) as Json,
        );
        candidate.metadata.generation = (existing.metadata.generation ?? 1) + (specChanged ? 1 : 0);
        candidate.metadata.resourceVersion = nextResourceVersion(existing);
        this.statements.updateObject.run(JSON.stringify(candidate), kind, namespace, name);
        this.writeLabels(kind, namespace, name, candidate.metadata.labels);
        return {
          object: assemble({ ...row, object: JSON.stringify(candidate) }) as T,
          result: 'configured' as const,
        };
      })
      .immediate();
  }

  /** Replaces status wholesale; writing the same status again changes nothing. */
  async updateStatus<T extends AnyKratixObject>(
    key: ObjectKey,
    status: Record<string, unknown>,
  ): Promise<T | undefined> {
    return this.mutateStatus<T>(key, () => status);
  }

  /** One immediate transaction: no other writer can come between the read and the write. */
  async mutateStatus<T extends AnyKratixObject>(
    key: ObjectKey,
    mutate: (current: T) => Record<string, unknown> | undefined,
  ): Promise<T | undefined> {
    return this.changeRow(key, (row, namespace) => {
      const status = mutate(assemble(row) as T);
      if (status === undefined) return assemble(row) as T;
      checkStatus(key, status);
      const statusJson = JSON.stringify(status);
      const before = row.status === null ? null : (JSON.parse(row.status) as Json);
      if (deepEqual(before, JSON.parse(statusJson) as Json)) return assemble(row) as T;
      const object = JSON.parse(row.object) as StoredObject;
      object.metadata.resourceVersion = nextResourceVersion(object);
      const objectJson = JSON.stringify(object);
      this.statements.updateAll.run(objectJson, statusJson, key.kind, namespace, key.name);
      return assemble({ ...row, object: objectJson, status: statusJson }) as T;
    });
  }

  /** Requests are validated against the Promise itself (model/validate): nothing to install. */
  async ensureResourceApi(_crd: KratixObject): Promise<void> {}

  async removeResourceApi(_name: string): Promise<void> {}

  async recordEvent(about: ObjectKey, event: PlatformEvent): Promise<void> {
    const namespace = about.namespace ?? '';
    this.db
      .transaction(() => {
        this.statements.insertEvent.run(
          about.kind,
          namespace,
          about.name,
          new Date().toISOString(),
          event.type,
          event.reason,
          event.message,
        );
        this.statements.pruneEvents.run(
          about.kind,
          namespace,
          about.name,
          about.kind,
          namespace,
          about.name,
          EVENTS_PER_OBJECT,
        );
      })
      .immediate();
  }

  async listEvents(about: ObjectKey): Promise<RecordedEvent[]> {
    return this.events(about);
  }

  /** Events about one object, oldest first (for `promiseflow describe`). */
  async events(about: ObjectKey): Promise<(PlatformEvent & { time: string })[]> {
    return this.statements.selectEvents.all(
      about.kind,
      about.namespace ?? '',
      about.name,
    ) as (PlatformEvent & { time: string })[];
  }

  async patchLabels<T extends AnyKratixObject>(
    key: ObjectKey,
    labels: Record<string, string | null>,
  ): Promise<T | undefined> {
    for (const [k, v] of Object.entries(labels)) {
      if (v !== null && typeof v !== 'string') {
        throw new InvalidInputError({
          object: describeObject(key.kind, key.name),
          field: `metadata.labels.${k}`,
          expected: 'a string, or null to remove the label',
          got: JSON.stringify(v) ?? typeof v,
        });
      }
    }
    return this.changeRow(key, (row, namespace) => {
      const object = JSON.parse(row.object) as StoredObject;
      const before = object.metadata.labels ?? {};
      const after: Record<string, string> = { ...before };
      for (const [k, v] of Object.entries(labels)) {
        if (v === null) delete after[k];
        else after[k] = v;
      }
      if (deepEqual(before, after)) return assemble(row) as T;
      if (Object.keys(after).length === 0) delete object.metadata.labels;
      else object.metadata.labels = after;
      object.metadata.resourceVersion = nextResourceVersion(object);
      const objectJson = JSON.stringify(object);
      this.statements.updateObject.run(objectJson, key.kind, namespace, key.name);
      this.writeLabels(key.kind, namespace, key.name, object.metadata.labels);
      return assemble({ ...row, object: objectJson }) as T;
    });
  }

  /**
   * Read-modify-write of one row in an immediate (write-locked) transaction, so writers in
   * other processes wait instead of losing an update; undefined when there is no row.
   */
  private changeRow<R>(
    key: ObjectKey,
    change: (row: ObjectRow, namespace: string) => R,
  ): R | undefined {
    const namespace = key.namespace ?? '';
    return this.db
      .transaction(() => {
        const row = this.statements.select.get(key.kind, namespace, key.name) as
          ObjectRow | undefined;
        return row ? change(row, namespace) : undefined;
      })
      .immediate();
  }

  async delete(key: ObjectKey): Promise<boolean> {
    const namespace = key.namespace ?? '';
    return this.db
      .transaction(() => {
        this.statements.deleteLabels.run(key.kind, namespace, key.name);
        return this.statements.deleteObject.run(key.kind, namespace, key.name).changes > 0;
      })
      .immediate();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private writeLabels(
    kind: string,
    namespace: string,
    name: string,
    labels: Record<string, string> | undefined,
  ): void {
    this.statements.deleteLabels.run(kind, namespace, name);
    for (const [key, value] of Object.entries(labels ?? {})) {
      this.statements.insertLabel.run(kind, namespace, name, key, value);
    }
  }

  private listStatement(sql: string): Database.Statement {
    let statement = this.listStatements.get(sql);
    if (!statement) {
      // Selector shapes vary (number of `in` values...): keep the cache bounded.
      if (this.listStatements.size >= 256) this.listStatements.clear();
      statement = this.db.prepare(sql);
      this.listStatements.set(sql, statement);
    }
    return statement;
  }
}

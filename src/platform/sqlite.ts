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
import { type LabelRequirement, matchesRequirement, toLabelRequirements } from '../model/selectors';
import type { KratixObject } from '../model/types';
import type { ApplyResult, ListOptions, ListPage, ObjectKey, PlatformStore } from './store';

export const PLATFORM_DB_FILE = 'platform.db';
const BUSY_TIMEOUT_MS = 10_000;
const SCHEMA_VERSION = 1;
/** Rows fetched per round when part of a selector (`>`/`<`) can only be checked in JS. */
const FILTER_BATCH = 256;

interface ObjectRow {
  kind: string;
  namespace: string;
  name: string;
  object: string;
  status: string | null;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type StoredObject = KratixObject;
/**
 * Looser than the interface's `KratixObject` bound so that typed objects whose spec is an
 * interface without an index signature (PromiseRevision, Work, ...) can be passed directly.
 */
type AnyKratixObject = KratixObject<object, object>;

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
    if (typeof status !== 'object' || status === null || Array.isArray(status)) {
      throw new InvalidInputError({
        object: describeObject(key.kind, key.name),
        field: 'status',
        expected: 'an object',
        got: Array.isArray(status) ? 'an array' : String(status),
      });
    }
    const statusJson = JSON.stringify(status);
    const namespace = key.namespace ?? '';
    return this.db
      .transaction(() => {
        const row = this.statements.select.get(key.kind, namespace, key.name) as
          ObjectRow | undefined;
        if (!row) return undefined;
        const before = row.status === null ? null : (JSON.parse(row.status) as Json);
        if (deepEqual(before, JSON.parse(statusJson) as Json)) return assemble(row) as T;
        const object = JSON.parse(row.object) as StoredObject;
        object.metadata.resourceVersion = nextResourceVersion(object);
        const objectJson = JSON.stringify(object);
        this.statements.updateAll.run(objectJson, statusJson, key.kind, namespace, key.name);
        return assemble({ ...row, object: objectJson, status: statusJson }) as T;
      })
      .immediate();
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
    const namespace = key.namespace ?? '';
    return this.db
      .transaction(() => {
        const row = this.statements.select.get(key.kind, namespace, key.name) as
          ObjectRow | undefined;
        if (!row) return undefined;
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

function enableWal(db: Database.Database): void {
  if (db.pragma('journal_mode', { simple: true }) === 'wal') return;
  // Switching to WAL needs the file to itself; another process opening it at the same
  // moment makes that fail with SQLITE_BUSY, so wait and retry within the busy timeout.
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (;;) {
    try {
      if (db.pragma('journal_mode = WAL', { simple: true }) === 'wal') return;
    } catch (err) {
      if (!isBusy(err) || Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) throw new Error(`could not switch ${db.name} to WAL mode`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

function createSchema(db: Database.Database): void {
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version >= SCHEMA_VERSION) return;
    db.exec(`
      CREATE TABLE IF NOT EXISTS objects (
        kind TEXT NOT NULL,
        namespace TEXT NOT NULL,
        name TEXT NOT NULL,
        object TEXT NOT NULL,
        status TEXT,
        PRIMARY KEY (kind, namespace, name)
      );
      CREATE TABLE IF NOT EXISTS labels (
        kind TEXT NOT NULL,
        namespace TEXT NOT NULL,
        name TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (kind, namespace, name, key)
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS labels_by_key ON labels (kind, key, value, namespace, name);
    `);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

function prepareStatements(db: Database.Database) {
  const key = 'kind = ? AND namespace = ? AND name = ?';
  return {
    select: db.prepare(`SELECT kind, namespace, name, object, status FROM objects WHERE ${key}`),
    insert: db.prepare(
      'INSERT INTO objects (kind, namespace, name, object, status) VALUES (?, ?, ?, ?, NULL)',
    ),
    updateObject: db.prepare(`UPDATE objects SET object = ? WHERE ${key}`),
    updateAll: db.prepare(`UPDATE objects SET object = ?, status = ? WHERE ${key}`),
    deleteObject: db.prepare(`DELETE FROM objects WHERE ${key}`),
    deleteLabels: db.prepare(`DELETE FROM labels WHERE ${key}`),
    insertLabel: db.prepare(
      'INSERT INTO labels (kind, namespace, name, key, value) VALUES (?, ?, ?, ?, ?)',
    ),
  };
}

function buildListQuery(
  kind: string,
  namespace: string | undefined,
  after: [string, string] | undefined,
  requirements: LabelRequirement[],
  batch: number | undefined,
): { sql: string; params: unknown[] } {
  // With an equality requirement, walk the labels index for it: it yields (namespace, name)
  // in order, so a page costs its own size, not a scan of every object of the kind.
  const driver = requirements.find(
    (r) => (r.operator === 'Equals' || r.operator === 'In') && r.values.length === 1,
  );
  const t = driver ? 'd' : 'o';
  let from = 'objects o';
  const where: string[] = [];
  const params: unknown[] = [];
  if (driver) {
    from =
      'labels d JOIN objects o' +
      ' ON o.kind = d.kind AND o.namespace = d.namespace AND o.name = d.name';
    where.push('d.kind = ?', 'd.key = ?', 'd.value = ?');
    params.push(kind, driver.key, driver.values[0]);
  } else {
    where.push('o.kind = ?');
    params.push(kind);
  }
  if (namespace) {
    where.push(`${t}.namespace = ?`);
    params.push(namespace);
  }
  if (after && namespace) {
    // SQLite seeks on `namespace = ? AND name > ?` but not on a row value after an equality.
    if (after[0] > namespace) where.push('0');
    else if (after[0] === namespace) {
      where.push(`${t}.name > ?`);
      params.push(after[1]);
    }
  } else if (after) {
    where.push(`(${t}.namespace, ${t}.name) > (?, ?)`);
    params.push(...after);
  }
  for (const r of requirements) {
    if (r === driver) continue;
    // The unary `+` stops SQLite from copying the cursor's range onto the labels table,
    // which turns this primary-key probe into a scan (quadratic paging).
    const probe =
      'SELECT 1 FROM labels l WHERE l.kind = o.kind AND l.namespace = +o.namespace' +
      ' AND l.name = +o.name AND l.key = ?';
    const valueIn = ` AND l.value IN (${r.values.map(() => '?').join(', ')})`;
    switch (r.operator) {
      case 'Exists':
        where.push(`EXISTS (${probe})`);
        params.push(r.key);
        break;
      case 'DoesNotExist':
        where.push(`NOT EXISTS (${probe})`);
        params.push(r.key);
        break;
      case 'Equals':
      case 'In':
        where.push(`EXISTS (${probe}${valueIn})`);
        params.push(r.key, ...r.values);
        break;
      case 'NotEquals':
      case 'NotIn':
        where.push(`NOT EXISTS (${probe}${valueIn})`);
        params.push(r.key, ...r.values);
        break;
      default:
        throw new Error(`label operator ${r.operator} is filtered in JS, not SQL`);
    }
  }
  let sql =
    `SELECT o.kind, o.namespace, o.name, o.object, o.status FROM ${from}` +
    ` WHERE ${where.join(' AND ')} ORDER BY ${t}.namespace, ${t}.name`;
  if (batch !== undefined) {
    sql += ' LIMIT ?';
    params.push(batch);
  }
  return { sql, params };
}

function assemble(row: ObjectRow): KratixObject {
  const object = JSON.parse(row.object) as KratixObject;
  if (row.status !== null) object.status = JSON.parse(row.status) as Record<string, unknown>;
  return object;
}

/** A JSON copy of the caller's object without status and managed metadata, checked. */
function normalizeInput(object: AnyKratixObject): StoredObject {
  const kind: unknown = object?.kind;
  const name: unknown = object?.metadata?.name;
  const where = describeObject(
    typeof kind === 'string' ? kind : undefined,
    typeof name === 'string' ? name : undefined,
  );
  if (typeof kind !== 'string' || kind === '') {
    throw new InvalidInputError({ object: where, field: 'kind', expected: 'a non-empty string' });
  }
  if (typeof name !== 'string' || name === '') {
    throw new InvalidInputError({
      object: where,
      field: 'metadata.name',
      expected: 'a non-empty string',
    });
  }
  const namespace: unknown = object.metadata.namespace;
  if (namespace !== undefined && typeof namespace !== 'string') {
    throw new InvalidInputError({
      object: where,
      field: 'metadata.namespace',
      expected: 'a string',
      got: JSON.stringify(namespace),
    });
  }
  const labels: unknown = object.metadata.labels;
  if (labels !== undefined) {
    if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) {
      throw new InvalidInputError({
        object: where,
        field: 'metadata.labels',
        expected: 'a map of strings',
        got: JSON.stringify(labels),
      });
    }
    for (const [k, v] of Object.entries(labels)) {
      if (typeof v !== 'string') {
        throw new InvalidInputError({
          object: where,
          field: `metadata.labels.${k}`,
          expected: 'a string (quote numbers and booleans in YAML)',
          got: JSON.stringify(v),
        });
      }
    }
  }

  const copy = JSON.parse(JSON.stringify(object)) as StoredObject;
  delete copy.status;
  const {
    uid: _u,
    creationTimestamp: _c,
    generation: _g,
    resourceVersion: _r,
    ...meta
  } = copy.metadata;
  // Cluster-scoped objects are stored without a namespace key at all.
  if (meta.namespace === '') delete meta.namespace;
  // Same rule as patchLabels: no labels means no `labels` key.
  if (meta.labels && Object.keys(meta.labels).length === 0) delete meta.labels;
  copy.metadata = meta as StoredObject['metadata'];
  return copy;
}

function managedMetadata(object: StoredObject): Partial<StoredObject['metadata']> {
  const { uid, creationTimestamp, generation, resourceVersion } = object.metadata;
  return { uid, creationTimestamp, generation, resourceVersion };
}

function nextResourceVersion(object: StoredObject): string {
  const current = Number(object.metadata.resourceVersion ?? '0');
  return String((Number.isFinite(current) ? current : 0) + 1);
}

/** JSON equality where object key order does not matter and array order does. */
function deepEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => deepEqual(v, b[i]));
  }
  const aKeys = Object.keys(a);
  if (aKeys.length !== Object.keys(b).length) return false;
  return aKeys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
}

function checkLimit(limit: number | undefined): number | undefined {
  if (limit === undefined) return undefined;
  if (!Number.isInteger(limit) || limit < 0) {
    throw new InvalidInputError({
      field: 'limit',
      expected: 'a whole number of 0 or more',
      got: String(limit),
    });
  }
  // 0 means no limit, as in Kubernetes.
  return limit === 0 ? undefined : limit;
}

function encodeCursor(after: [string, string]): string {
  return Buffer.from(JSON.stringify(after), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      typeof value[0] === 'string' &&
      typeof value[1] === 'string'
    ) {
      return [value[0], value[1]];
    }
  } catch {
    // Reported below.
  }
  throw new InvalidInputError({
    field: 'continue',
    expected: 'the `continue` token of a previous page',
    got: JSON.stringify(cursor),
  });
}

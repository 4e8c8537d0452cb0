/**
 * The SQLite platform store's file: WAL mode (several processes share it), the schema
 * (objects, their labels for indexed selectors, events) and the prepared statements.
 */
import type Database from 'better-sqlite3';

export const BUSY_TIMEOUT_MS = 10_000;
const SCHEMA_VERSION = 2;

export function enableWal(db: Database.Database): void {
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

export function createSchema(db: Database.Database): void {
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
      CREATE TABLE IF NOT EXISTS events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        namespace TEXT NOT NULL,
        name TEXT NOT NULL,
        time TEXT NOT NULL,
        type TEXT NOT NULL,
        reason TEXT NOT NULL,
        message TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS events_by_object ON events (kind, namespace, name, id);
    `);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

export function prepareStatements(db: Database.Database) {
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
    insertEvent: db.prepare(
      'INSERT INTO events (kind, namespace, name, time, type, reason, message)' +
        ' VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    pruneEvents: db.prepare(
      `DELETE FROM events WHERE ${key} AND id NOT IN` +
        ` (SELECT id FROM events WHERE ${key} ORDER BY id DESC LIMIT ?)`,
    ),
    selectEvents: db.prepare(
      `SELECT time, type, reason, message FROM events WHERE ${key} ORDER BY id`,
    ),
  };
}

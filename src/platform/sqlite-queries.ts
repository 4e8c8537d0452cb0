/**
 * Listing objects of the SQLite store: label selectors run as indexed SQL (a `>`/`<`
 * requirement is checked in JS), and pages are keyset cursors on (namespace, name), so an
 * object created or deleted between pages never makes another repeat or go missing.
 */
import { InvalidInputError } from '../model/errors';
import type { LabelRequirement } from '../model/selectors';

export function buildListQuery(
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

export function checkLimit(limit: number | undefined): number | undefined {
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

export function encodeCursor(after: [string, string]): string {
  return Buffer.from(JSON.stringify(after), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): [string, string] {
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

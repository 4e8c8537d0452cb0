import { describe, expect, it } from 'vitest';
import { PLATFORM_KINDS } from '../../src/client/kinds';
import type { KindInfo } from '../../src/client/kinds';
import { closest } from '../../src/client/suggest';
import { renderJsonPath } from '../../src/cli/jsonpath';
import { formatAge, formatTable, objectName, requestStatus } from '../../src/cli/output';
import { InvalidInputError } from '../../src/model/errors';
import type { KratixObject } from '../../src/model/types';

const mongodbs: KindInfo = {
  kind: 'MongoDB',
  plural: 'mongodbs',
  namespaced: true,
  promiseName: 'mongodb',
};
const now = new Date('2026-01-10T12:00:00Z');

function request(name: string, namespace: string, status?: object): KratixObject {
  return {
    apiVersion: 'promise.kratix.io/v1alpha1',
    kind: 'MongoDB',
    metadata: { name, namespace, creationTimestamp: '2026-01-10T11:55:00Z' },
    spec: { majorVersion: '4' },
    ...(status ? { status } : {}),
  } as KratixObject;
}

const failed = request('mongo-v3', 'default', {
  conditions: [
    {
      type: 'Reconciled',
      status: 'False',
      reason: 'ReconcileFailed',
      message:
        'pipeline "instance-configure" container "create-instance" failed: exited with code 1',
    },
  ],
});
const ready = request('mongo-v4', 'team-a', {
  message: 'mongodb version: 4.4.24',
  conditions: [{ type: 'Reconciled', status: 'True', reason: 'Reconciled' }],
});

describe('get tables', () => {
  it('fills STATUS for a request whose last reconcile failed, keeping the last good message', () => {
    expect(requestStatus(failed)).toBe('Failed');
    const degraded = request('old', 'default', {
      message: 'mongodb version: 4.4.23',
      conditions: (failed.status as { conditions: object[] }).conditions,
    });
    expect(requestStatus(degraded)).toBe('Failed (mongodb version: 4.4.23)');
    expect(requestStatus(ready)).toBe('mongodb version: 4.4.24');
  });

  it('adds AGE, and NAMESPACE first when listing across namespaces (-A)', () => {
    const table = formatTable(mongodbs, [failed, ready], { namespaceColumn: 'always', now });
    expect(table.split('\n')).toEqual([
      'NAMESPACE   NAME       STATUS                    AGE',
      'default     mongo-v3   Failed                    5m',
      'team-a      mongo-v4   mongodb version: 4.4.24   5m',
    ]);
  });

  it('shows NAMESPACE without -A only when the objects listed are in more than one', () => {
    expect(formatTable(mongodbs, [failed], { now })).not.toContain('NAMESPACE');
    expect(formatTable(mongodbs, [failed, ready], { now }).split('\n')[0]).toMatch(/^NAMESPACE\s/);
    expect(formatTable(mongodbs, [failed, ready], { now, namespaceColumn: 'never' })).not.toContain(
      'NAMESPACE',
    );
  });

  it('-o wide adds the failure message on one line', () => {
    const multiLine = request('x', 'default', {
      conditions: [
        { type: 'Reconciled', status: 'False', reason: 'ReconcileFailed', message: 'a\n  b' },
      ],
    });
    const [, row] = formatTable(mongodbs, [multiLine], { wide: true, now }).split('\n');
    expect(row).toMatch(/^x\s+Failed\s+5m\s+a \| b$/);
  });

  it('prints ages as kubectl does', () => {
    const ago = (s: number) => new Date(now.getTime() - s * 1000).toISOString();
    expect(formatAge(ago(45), now)).toBe('45s');
    expect(formatAge(ago(192), now)).toBe('3m12s');
    expect(formatAge(ago(60 * 40), now)).toBe('40m');
    expect(formatAge(ago(3600 * 5 + 60 * 7), now)).toBe('5h7m');
    expect(formatAge(ago(86400 * 3 + 3600 * 4), now)).toBe('3d4h');
    expect(formatAge(ago(86400 * 400), now)).toBe('400d');
    expect(formatAge(undefined, now)).toBe('<unknown>');
  });

  it('names objects for -o name as kind.group/name', () => {
    expect(objectName(ready)).toBe('mongodb.promise.kratix.io/mongo-v4');
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } } as KratixObject;
    expect(objectName(secret)).toBe('secret/s');
    expect(PLATFORM_KINDS.find((k) => k.kind === 'Promise')).toBeDefined();
  });
});

describe('-o jsonpath', () => {
  const list = { apiVersion: 'v1', kind: 'List', items: [failed, ready] };

  it('selects fields, indexes, slices and every item', () => {
    expect(renderJsonPath('{.items[*].metadata.name}', list)).toBe('mongo-v3 mongo-v4');
    expect(renderJsonPath('{.items[0].metadata.namespace}', list)).toBe('default');
    expect(renderJsonPath('{.items[-1].status.message}', list)).toBe('mongodb version: 4.4.24');
    expect(renderJsonPath('{.items[1:].metadata.name}', list)).toBe('mongo-v4');
    expect(renderJsonPath('{$.kind}', list)).toBe('List');
    expect(renderJsonPath("{.items[0].metadata['name']}", list)).toBe('mongo-v3');
  });

  it('filters, ranges and prints literals', () => {
    expect(
      renderJsonPath(
        '{range .items[*]}{.metadata.name}{"\\t"}{.status.conditions[?(@.type=="Reconciled")].status}{"\\n"}{end}',
        list,
      ),
    ).toBe('mongo-v3\tFalse\nmongo-v4\tTrue\n');
    expect(renderJsonPath('{..reason}', ready)).toBe('Reconciled');
    expect(renderJsonPath('name={.metadata.name}', ready)).toBe('name=mongo-v4');
  });

  it('refuses templates it cannot read, naming the flag', () => {
    expect(() => renderJsonPath('{range .items[*]}{.x}', list)).toThrow(InvalidInputError);
    expect(() => renderJsonPath('{.items[?(@.a>1)]}', list)).toThrow(/-o jsonpath/);
  });
});

describe('did you mean', () => {
  it('suggests the closest command or kind for a typo, and nothing for a different word', () => {
    expect(closest('gte', ['get', 'delete', 'describe'])).toBe('get');
    expect(closest('mongdbs', ['promises', 'mongodbs'])).toBe('mongodbs');
    expect(closest('workplacemnts', ['works', 'workplacements'])).toBe('workplacements');
    expect(closest('banana', ['promises', 'mongodbs'])).toBeUndefined();
  });
});

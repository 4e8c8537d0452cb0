import { describe, it, expect, beforeEach, afterEach, beforeAll } from 'vitest';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import ts from 'typescript';
import { InvalidInputError } from '../../src/model/errors';
import type { KratixObject } from '../../src/model/types';
import { openSqlitePlatformStore, type SqlitePlatformStore } from '../../src/platform/sqlite';

const ROOT = path.resolve(__dirname, '../..');

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'promiseflow-sqlite-'));
}

function thing(
  name: string,
  extra: Partial<KratixObject> = {},
  namespace = 'default',
): KratixObject {
  return {
    apiVersion: 'example.com/v1',
    kind: 'Thing',
    metadata: { name, namespace },
    spec: { size: 1 },
    ...extra,
  };
}

function destination(name: string, labels?: Record<string, string>): KratixObject {
  return {
    apiVersion: 'platform.kratix.io/v1alpha1',
    kind: 'Destination',
    metadata: { name, ...(labels ? { labels } : {}) },
    spec: { path: name },
  };
}

async function listAll(
  store: SqlitePlatformStore,
  kind: string,
  options: { labelSelector?: string | Record<string, string>; limit: number; namespace?: string },
): Promise<{ names: string[]; pages: number }> {
  const names: string[] = [];
  let pages = 0;
  let cursor: string | undefined;
  do {
    const page = await store.list(kind, { ...options, continue: cursor });
    pages++;
    expect(page.items.length).toBeLessThanOrEqual(options.limit);
    names.push(...page.items.map((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`));
    cursor = page.continue;
  } while (cursor);
  return { names, pages };
}

describe('SqlitePlatformStore', () => {
  let dir: string;
  let store: SqlitePlatformStore;

  beforeEach(() => {
    dir = tmpDir();
    store = openSqlitePlatformStore(path.join(dir, 'data'));
  });

  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('apply', () => {
    it('creates platform.db in WAL mode inside a data directory it makes', () => {
      expect(fs.existsSync(path.join(dir, 'data', 'platform.db'))).toBe(true);
      expect(store.file).toBe(path.join(dir, 'data', 'platform.db'));
      expect(fs.existsSync(path.join(dir, 'data', 'platform.db-wal'))).toBe(true);
    });

    it('creates an object with uid, creationTimestamp, generation 1 and resourceVersion "1"', async () => {
      const { object, result } = await store.apply(thing('a'));
      expect(result).toBe('created');
      expect(object.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
      expect(Date.parse(object.metadata.creationTimestamp ?? '')).not.toBeNaN();
      expect(object.metadata.generation).toBe(1);
      expect(object.metadata.resourceVersion).toBe('1');
      expect(await store.get({ kind: 'Thing', namespace: 'default', name: 'a' })).toEqual(object);
    });

    it('reports unchanged and writes nothing when the same object is applied again', async () => {
      const { object: first } = await store.apply(
        thing('a', { spec: { x: 1, y: { a: 1, b: 2 } } }),
      );
      const again = await store.apply(thing('a', { spec: { y: { b: 2, a: 1 }, x: 1 } }));
      expect(again.result).toBe('unchanged');
      expect(again.object).toEqual(first);
      expect(again.object.metadata.resourceVersion).toBe('1');
    });

    it('bumps generation and resourceVersion when spec changes', async () => {
      await store.apply(thing('a'));
      const { object, result } = await store.apply(thing('a', { spec: { size: 2 } }));
      expect(result).toBe('configured');
      expect(object.metadata.generation).toBe(2);
      expect(object.metadata.resourceVersion).toBe('2');
      expect(object.spec).toEqual({ size: 2 });
    });

    it('bumps resourceVersion but not generation when only metadata changes', async () => {
      const { object: created } = await store.apply(thing('a'));
      const labelled = thing('a');
      labelled.metadata.labels = { team: 'db' };
      labelled.metadata.annotations = { note: 'hi' };
      const { object, result } = await store.apply(labelled);
      expect(result).toBe('configured');
      expect(object.metadata.generation).toBe(1);
      expect(object.metadata.resourceVersion).toBe('2');
      expect(object.metadata.uid).toBe(created.metadata.uid);
      expect(object.metadata.creationTimestamp).toBe(created.metadata.creationTimestamp);
      expect(object.metadata.labels).toEqual({ team: 'db' });
    });

    it('replaces fields the new object leaves out, except status', async () => {
      const first = thing('a', { data: { k: 'v' } });
      first.metadata.labels = { team: 'db' };
      await store.apply(first);
      const { object } = await store.apply(thing('a'));
      expect(object.data).toBeUndefined();
      expect(object.metadata.labels).toBeUndefined();
      expect(await store.list('Thing', { labelSelector: 'team=db' })).toEqual({ items: [] });
    });

    it('ignores uid, generation, resourceVersion and creationTimestamp sent by the caller', async () => {
      const { object: created } = await store.apply(thing('a'));
      const forged = thing('a');
      forged.metadata = {
        ...forged.metadata,
        uid: 'forged',
        generation: 99,
        resourceVersion: '99',
        creationTimestamp: '2000-01-01T00:00:00Z',
      };
      const { object, result } = await store.apply(forged);
      expect(result).toBe('unchanged');
      expect(object).toEqual(created);
    });

    it('keeps status across applies and ignores status sent with apply', async () => {
      await store.apply(thing('a', { status: { ignored: true } }));
      const key = { kind: 'Thing', namespace: 'default', name: 'a' };
      expect((await store.get(key))?.status).toBeUndefined();
      await store.updateStatus(key, { phase: 'Ready' });
      const { object } = await store.apply(
        thing('a', { spec: { size: 5 }, status: { phase: 'Overwritten' } }),
      );
      expect(object.status).toEqual({ phase: 'Ready' });
      expect((await store.get(key))?.status).toEqual({ phase: 'Ready' });
    });

    it('stores cluster-scoped objects without metadata.namespace', async () => {
      const d = destination('dev');
      d.metadata.namespace = '';
      const { object } = await store.apply(d);
      expect('namespace' in object.metadata).toBe(false);
      expect(await store.get({ kind: 'Destination', name: 'dev' })).toEqual(object);
      expect(await store.get({ kind: 'Destination', name: 'dev', namespace: '' })).toEqual(object);
    });

    it('keys objects by kind, namespace and name', async () => {
      await store.apply(thing('a', {}, 'one'));
      await store.apply(thing('a', {}, 'two'));
      await store.apply({ ...thing('a', {}, 'one'), kind: 'Other' });
      expect((await store.list('Thing')).items.map((o) => o.metadata.namespace)).toEqual([
        'one',
        'two',
      ]);
      expect(await store.get({ kind: 'Thing', name: 'a' })).toBeUndefined();
      expect((await store.list('Other')).items).toHaveLength(1);
    });

    it('refuses objects without a name or with non-string labels', async () => {
      await expect(store.apply(thing(''))).rejects.toThrow(InvalidInputError);
      const numeric = thing('a');
      (numeric.metadata as { labels: unknown }).labels = { version: 1.0 };
      await expect(store.apply(numeric)).rejects.toThrow(/metadata\.labels\.version/);
    });

    it('returns fresh copies that callers may mutate', async () => {
      const input = thing('a');
      const { object } = await store.apply(input);
      input.spec = { size: 100 };
      object.spec = { size: 200 };
      const got = await store.get<KratixObject>({ kind: 'Thing', namespace: 'default', name: 'a' });
      expect(got?.spec).toEqual({ size: 1 });
      (got?.spec as { size: number }).size = 300;
      const listed = (await store.list('Thing')).items[0];
      expect(listed?.spec).toEqual({ size: 1 });
    });
  });

  describe('list', () => {
    it('orders by namespace then name and filters by namespace', async () => {
      for (const [ns, name] of [
        ['b', 'z'],
        ['a', 'y'],
        ['b', 'a'],
        ['a', 'x'],
      ] as const) {
        await store.apply(thing(name, {}, ns));
      }
      const all = (await store.list('Thing')).items.map(
        (o) => `${o.metadata.namespace}/${o.metadata.name}`,
      );
      expect(all).toEqual(['a/x', 'a/y', 'b/a', 'b/z']);
      const inB = (await store.list('Thing', { namespace: 'b' })).items.map((o) => o.metadata.name);
      expect(inB).toEqual(['a', 'z']);
    });

    it('selects by label selector string, by matchLabels map, and by set-based requirements', async () => {
      await store.apply(destination('dev-1', { environment: 'dev', region: 'eu' }));
      await store.apply(destination('dev-2', { environment: 'dev', region: 'us', size: '3' }));
      await store.apply(destination('prod-1', { environment: 'prod', region: 'eu', size: '10' }));
      await store.apply(destination('bare'));
      const names = async (labelSelector: string | Record<string, string>) =>
        (await store.list('Destination', { labelSelector })).items.map((o) => o.metadata.name);

      expect(await names('environment=dev')).toEqual(['dev-1', 'dev-2']);
      expect(await names({ environment: 'dev', region: 'eu' })).toEqual(['dev-1']);
      expect(await names('environment!=dev')).toEqual(['bare', 'prod-1']);
      expect(await names('region in (us, eu),environment notin (prod)')).toEqual([
        'dev-1',
        'dev-2',
      ]);
      expect(await names('size')).toEqual(['dev-2', 'prod-1']);
      expect(await names('!size')).toEqual(['bare', 'dev-1']);
      expect(await names('size>5')).toEqual(['prod-1']);
      expect(await names('')).toEqual(['bare', 'dev-1', 'dev-2', 'prod-1']);
      expect(await names({})).toEqual(['bare', 'dev-1', 'dev-2', 'prod-1']);
    });

    it('refuses a malformed label selector with InvalidInputError', async () => {
      await expect(store.list('Thing', { labelSelector: 'a in b' })).rejects.toThrow(
        InvalidInputError,
      );
    });

    it('pages through 2,500 objects with keyset cursors, returning each exactly once', async () => {
      const expected: string[] = [];
      for (let i = 0; i < 2500; i++) {
        const ns = `ns-${i % 7}`;
        const name = `thing-${String(i).padStart(4, '0')}`;
        const t = thing(name, {}, ns);
        t.metadata.labels = { parity: i % 2 === 0 ? 'even' : 'odd', bucket: String(i % 10) };
        await store.apply(t);
        expected.push(`${ns}/${name}`);
      }
      expected.sort();

      const all = await listAll(store, 'Thing', { limit: 100 });
      expect(all.pages).toBe(25);
      expect(all.names).toEqual(expected);

      const even = await listAll(store, 'Thing', { limit: 333, labelSelector: 'parity=even' });
      expect(even.names).toHaveLength(1250);
      expect(new Set(even.names).size).toBe(1250);
      expect(even.names).toEqual([...even.names].sort());

      // `>` is filtered in JS over SQL batches; paging must still be exact.
      const high = await listAll(store, 'Thing', { limit: 97, labelSelector: 'bucket>6' });
      expect(high.names).toHaveLength(750);
      expect(new Set(high.names).size).toBe(750);

      const oneNs = await listAll(store, 'Thing', { limit: 50, namespace: 'ns-3' });
      expect(oneNs.names).toEqual(expected.filter((n) => n.startsWith('ns-3/')));

      const evenInNs = await listAll(store, 'Thing', {
        limit: 40,
        namespace: 'ns-3',
        labelSelector: 'parity=even,bucket notin (0)',
      });
      expect(evenInNs.names).toEqual(
        expected.filter((n) => {
          const i = Number(n.slice(-4));
          return n.startsWith('ns-3/') && i % 2 === 0 && i % 10 !== 0;
        }),
      );
    });

    it('keeps paging exact while objects are created and deleted between pages', async () => {
      for (let i = 0; i < 20; i++) await store.apply(thing(`t${String(i).padStart(2, '0')}`));
      const first = await store.list('Thing', { limit: 10 });
      expect(first.items.map((o) => o.metadata.name)).toEqual(
        Array.from({ length: 10 }, (_, i) => `t${String(i).padStart(2, '0')}`),
      );
      // Deleting seen objects and adding one before the cursor must not shift the next page.
      await store.delete({ kind: 'Thing', namespace: 'default', name: 't00' });
      await store.delete({ kind: 'Thing', namespace: 'default', name: 't05' });
      await store.apply(thing('t01a'));
      const second = await store.list('Thing', { limit: 10, continue: first.continue });
      expect(second.items.map((o) => o.metadata.name)).toEqual(
        Array.from({ length: 10 }, (_, i) => `t${String(i + 10).padStart(2, '0')}`),
      );
      expect(second.continue).toBeUndefined();
    });

    it('omits continue on the last page, even when it is exactly full', async () => {
      for (const n of ['a', 'b', 'c', 'd']) await store.apply(thing(n));
      const page = await store.list('Thing', { limit: 2 });
      const last = await store.list('Thing', { limit: 2, continue: page.continue });
      expect(last.items.map((o) => o.metadata.name)).toEqual(['c', 'd']);
      expect(last.continue).toBeUndefined();
    });

    it('refuses a continue token it did not make', async () => {
      await expect(store.list('Thing', { limit: 1, continue: 'garbage' })).rejects.toThrow(
        /continue/,
      );
    });
  });

  describe('updateStatus', () => {
    const key = { kind: 'Thing', namespace: 'default', name: 'a' };

    it('replaces status wholesale and bumps resourceVersion, not generation', async () => {
      await store.apply(thing('a'));
      await store.updateStatus(key, { phase: 'Pending', conditions: [] });
      const updated = await store.updateStatus(key, { phase: 'Ready' });
      expect(updated?.status).toEqual({ phase: 'Ready' });
      expect(updated?.metadata.resourceVersion).toBe('3');
      expect(updated?.metadata.generation).toBe(1);
      expect(await store.get(key)).toEqual(updated);
    });

    it('writes nothing when the status is the same', async () => {
      await store.apply(thing('a'));
      await store.updateStatus(key, { a: 1, b: 2 });
      const again = await store.updateStatus(key, { b: 2, a: 1 });
      expect(again?.metadata.resourceVersion).toBe('2');
    });

    it('returns undefined for an object that does not exist', async () => {
      expect(await store.updateStatus(key, { phase: 'Ready' })).toBeUndefined();
      expect(await store.get(key)).toBeUndefined();
    });
  });

  describe('mutateStatus', () => {
    const key = { kind: 'Thing', namespace: 'default', name: 'a' };

    it('writes what the function makes of the current status, and nothing when it returns undefined', async () => {
      await store.apply(thing('a'));
      await store.updateStatus(key, { count: 1 });
      const next = await store.mutateStatus<KratixObject>(key, (o) => ({
        count: (o.status?.count as number) + 1,
      }));
      expect(next?.status).toEqual({ count: 2 });
      const same = await store.mutateStatus(key, () => undefined);
      expect(same?.metadata.resourceVersion).toBe(next?.metadata.resourceVersion);
    });

    it('loses no write when many writers add to one status at once', async () => {
      await store.apply(thing('a'));
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store.mutateStatus(key, (o) => ({ ...(o.status ?? {}), [`w${i}`]: true })),
        ),
      );
      expect(Object.keys((await store.get(key))?.status ?? {})).toHaveLength(20);
    });
  });

  describe('recordEvent', () => {
    it('keeps the events about an object, oldest first, and only the latest 50', async () => {
      const about = { kind: 'Destination', name: 'dev' };
      for (let i = 0; i < 55; i++) {
        await store.recordEvent(about, { type: 'Normal', reason: 'Ready', message: `event ${i}` });
      }
      await store.recordEvent(
        { kind: 'Destination', name: 'other' },
        {
          type: 'Warning',
          reason: 'NotReady',
          message: 'elsewhere',
        },
      );
      const events = await store.events(about);
      expect(events).toHaveLength(50);
      expect(events[0]).toMatchObject({ type: 'Normal', reason: 'Ready', message: 'event 5' });
      expect(events.at(-1)?.message).toBe('event 54');
    });
  });

  describe('patchLabels', () => {
    it('sets and removes labels, and drops the labels key when none are left', async () => {
      await store.apply(destination('dev', { environment: 'dev' }));
      const key = { kind: 'Destination', name: 'dev' };
      const added = await store.patchLabels(key, { zone: 'a' });
      expect(added?.metadata.labels).toEqual({ environment: 'dev', zone: 'a' });
      expect(added?.metadata.resourceVersion).toBe('2');
      expect(added?.metadata.generation).toBe(1);
      expect((await store.list('Destination', { labelSelector: 'zone=a' })).items).toHaveLength(1);

      const removed = await store.patchLabels(key, { environment: null, zone: null });
      expect(removed?.metadata).not.toHaveProperty('labels');
      expect((await store.list('Destination', { labelSelector: 'zone' })).items).toHaveLength(0);
      expect((await store.list('Destination', { labelSelector: '!zone' })).items).toHaveLength(1);
    });

    it('writes nothing when the labels already say so', async () => {
      await store.apply(destination('dev', { environment: 'dev' }));
      const same = await store.patchLabels(
        { kind: 'Destination', name: 'dev' },
        { environment: 'dev', absent: null },
      );
      expect(same?.metadata.resourceVersion).toBe('1');
    });

    it('returns undefined for an object that does not exist', async () => {
      expect(await store.patchLabels({ kind: 'Destination', name: 'x' }, { a: 'b' })).toBe(
        undefined,
      );
    });
  });

  describe('delete', () => {
    it('deletes an object and its labels, and says whether anything was deleted', async () => {
      await store.apply(destination('dev', { environment: 'dev' }));
      expect(await store.delete({ kind: 'Destination', name: 'dev' })).toBe(true);
      expect(await store.delete({ kind: 'Destination', name: 'dev' })).toBe(false);
      expect(await store.get({ kind: 'Destination', name: 'dev' })).toBeUndefined();
      expect(
        (await store.list('Destination', { labelSelector: 'environment=dev' })).items,
      ).toHaveLength(0);
      const { result, object } = await store.apply(destination('dev', { environment: 'dev' }));
      expect(result).toBe('created');
      expect(object.metadata.resourceVersion).toBe('1');
    });
  });

  describe('sharing one file', () => {
    it('keeps everything across close and reopen', async () => {
      await store.apply(destination('dev', { environment: 'dev' }));
      await store.updateStatus({ kind: 'Destination', name: 'dev' }, { ready: true });
      await store.close();
      store = openSqlitePlatformStore(path.join(dir, 'data'));
      const got = await store.get({ kind: 'Destination', name: 'dev' });
      expect(got?.status).toEqual({ ready: true });
      expect((await store.list('Destination', { labelSelector: 'environment=dev' })).items).toEqual(
        [got],
      );
    });

    it("lets two stores on the same file see each other's writes", async () => {
      const other = openSqlitePlatformStore(path.join(dir, 'data'));
      try {
        await store.apply(destination('dev'));
        await other.patchLabels({ kind: 'Destination', name: 'dev' }, { seen: 'yes' });
        const got = await store.get({ kind: 'Destination', name: 'dev' });
        expect(got?.metadata.labels).toEqual({ seen: 'yes' });
        await Promise.all([
          store.patchLabels({ kind: 'Destination', name: 'dev' }, { a: '1' }),
          other.patchLabels({ kind: 'Destination', name: 'dev' }, { b: '2' }),
        ]);
        expect((await other.get({ kind: 'Destination', name: 'dev' }))?.metadata.labels).toEqual({
          seen: 'yes',
          a: '1',
          b: '2',
        });
      } finally {
        await other.close();
      }
    });
  });
});

describe('SqlitePlatformStore across processes', () => {
  let buildDir: string;

  // The child processes are plain Node: give them a JavaScript copy of the store's sources.
  beforeAll(() => {
    buildDir = tmpDir();
    for (const file of [
      'src/platform/sqlite.ts',
      'src/platform/sqlite-objects.ts',
      'src/platform/sqlite-queries.ts',
      'src/platform/sqlite-schema.ts',
      'src/model/selectors.ts',
      'src/model/errors.ts',
    ]) {
      const source = fs.readFileSync(path.join(ROOT, file), 'utf8');
      const { outputText } = ts.transpileModule(source, {
        compilerOptions: {
          module: ts.ModuleKind.CommonJS,
          target: ts.ScriptTarget.ES2022,
          esModuleInterop: true,
        },
      });
      const out = path.join(buildDir, file.replace(/\.ts$/, '.js'));
      fs.mkdirSync(path.dirname(out), { recursive: true });
      fs.writeFileSync(out, outputText);
    }
    return () => fs.rmSync(buildDir, { recursive: true, force: true });
  });

  function runWriters(dataDir: string, writers: number, count: number, mode: string) {
    const moduleFile = path.join(buildDir, 'src/platform/sqlite.js');
    const script = path.join(__dirname, 'fixtures-sqlite/writer.js');
    return Promise.all(
      Array.from(
        { length: writers },
        (_, id) =>
          new Promise<void>((resolve, reject) => {
            const child = spawn(
              process.execPath,
              [script, moduleFile, dataDir, String(id), String(count), mode],
              {
                // The compiled copy lives outside the project: let it find better-sqlite3.
                env: { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') },
                stdio: ['ignore', 'ignore', 'pipe'],
              },
            );
            let stderr = '';
            child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
            child.on('error', reject);
            child.on('exit', (code) =>
              code === 0 ? resolve() : reject(new Error(`writer ${id} exited ${code}: ${stderr}`)),
            );
          }),
      ),
    );
  }

  it('lets several processes open a brand-new data directory at once and write', async () => {
    const dir = tmpDir();
    try {
      await runWriters(path.join(dir, 'data'), 4, 50, 'own');
      const store = openSqlitePlatformStore(path.join(dir, 'data'));
      try {
        expect((await store.list('Thing')).items).toHaveLength(200);
      } finally {
        await store.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loses no write when processes create objects and patch one shared object concurrently', async () => {
    const dir = tmpDir();
    const dataDir = path.join(dir, 'data');
    const store = openSqlitePlatformStore(dataDir);
    try {
      await store.apply({
        apiVersion: 'example.com/v1',
        kind: 'Counter',
        metadata: { name: 'shared' },
      });
      const writers = 4;
      const count = 100;
      // The parent keeps reading while the children write: WAL readers never block writers.
      let reading = true;
      const reads = (async () => {
        let rounds = 0;
        while (reading) {
          await store.list('Thing', { limit: 50, labelSelector: 'writer=0' });
          await new Promise((r) => setTimeout(r, 5));
          rounds++;
        }
        return rounds;
      })();
      await runWriters(dataDir, writers, count, 'shared').finally(() => (reading = false));
      expect(await reads).toBeGreaterThan(0);

      const things = await store.list('Thing', { labelSelector: 'writer in (0,1,2,3)' });
      expect(things.items).toHaveLength(writers * count);
      for (let id = 0; id < writers; id++) {
        const mine = await store.list('Thing', { labelSelector: { writer: String(id) } });
        expect(mine.items).toHaveLength(count);
      }
      const shared = await store.get({ kind: 'Counter', name: 'shared' });
      expect(Object.keys(shared?.metadata.labels ?? {})).toHaveLength(writers * count);
      expect(shared?.metadata.resourceVersion).toBe(String(1 + writers * count));
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { InvalidInputError } from '../../src/model/errors';
import { loadKratixFile } from '../../src/client/load-file';
import { parseKratixYaml, toYaml } from '../../src/model/load';

const fixture = (name: string) => join(__dirname, '..', 'fixtures', name);

function errorOf(fn: () => unknown): InvalidInputError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return error as InvalidInputError;
  }
  throw new Error('expected an InvalidInputError');
}

describe('parseKratixYaml', () => {
  it('reads every document of a multi-document file and skips the empty ones', () => {
    const text =
      '---\n# only a comment\n---\napiVersion: v1\nkind: A\nmetadata: {name: a}\n---\n---\napiVersion: v1\nkind: B\nmetadata: {name: b}\n---\n';
    expect(parseKratixYaml(text, 'two.yaml').map((o) => o.kind)).toEqual(['A', 'B']);
  });

  it('refuses a file with no object in it, naming the file', () => {
    expect(errorOf(() => parseKratixYaml('', 'empty.yaml')).message).toBe(
      'empty.yaml: expected at least one Kubernetes object, got an empty file',
    );
    expect(errorOf(() => parseKratixYaml('---\n# nothing\n---\n', 'c.yaml')).message).toBe(
      'c.yaml: expected at least one Kubernetes object, got only comments and "---"',
    );
    expect(
      errorOf(() => parseKratixYaml('apiVersion: v1\nkind: List\nitems: []\n', 'l.yaml')).message,
    ).toBe('l.yaml: expected at least one Kubernetes object, got only empty Lists');
  });

  it('refuses a YAML alias bomb naming the file and document, without expanding it', () => {
    const leaf = '["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]';
    const levels = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'].map((n, i, all) =>
      i === 0
        ? `  ${n}: &${n} ${leaf}`
        : `  ${n}: &${n} [${Array(9)
            .fill(`*${all[i - 1]}`)
            .join(', ')}]`,
    );
    const text = [
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata: {name: lol}',
      'data:',
      ...levels,
    ].join('\n');
    expect(
      errorOf(() =>
        parseKratixYaml(`apiVersion: v1\nkind: A\nmetadata: {name: a}\n---\n${text}`, 'bomb.yaml'),
      ).message,
    ).toBe(
      'bomb.yaml: document 2: expected YAML whose aliases expand to a bounded size (at most 1000 alias expansions), got aliases that expand exponentially (a "billion laughs" alias bomb)',
    );
  });

  it('still resolves the few aliases real files use', () => {
    const text =
      'apiVersion: v1\nkind: A\nmetadata: {name: a, labels: &l {env: dev}}\nspec: {selector: *l}\n';
    expect(parseKratixYaml(text, 'a.yaml')[0]?.spec).toEqual({ selector: { env: 'dev' } });
  });

  it('expands a kind: List into its items, in order', () => {
    const text = [
      'apiVersion: v1',
      'kind: List',
      'items:',
      '  - {apiVersion: v1, kind: Secret, metadata: {name: s}}',
      '  - {apiVersion: platform.kratix.io/v1alpha1, kind: Destination, metadata: {name: d}}',
    ].join('\n');
    expect(parseKratixYaml(text, 'list.yaml').map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Secret/s',
      'Destination/d',
    ]);
  });

  it('keeps YAML 1.2 scalars as written, so yes and 0777 stay strings', () => {
    const [obj] = parseKratixYaml(
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: yes, b: 0777}\n',
      'c.yaml',
    );
    expect(obj?.data).toEqual({ a: 'yes', b: 777 });
  });

  it('drops null metadata fields such as creationTimestamp: null', () => {
    const [obj] = parseKratixYaml(
      'apiVersion: v1\nkind: A\nmetadata:\n  name: a\n  creationTimestamp: null\n',
      'a.yaml',
    );
    expect(obj?.metadata).toEqual({ name: 'a' });
  });

  it('refuses broken YAML naming the file, document, line and column', () => {
    const error = errorOf(() => parseKratixYaml('a: 1\n---\nkind: X\n  b: [1\n', 'broken.yaml'));
    expect(error.details).toMatchObject({ file: 'broken.yaml', object: 'document 2' });
    expect(error.details.field).toMatch(/^line \d+, column \d+$/);
    expect(error.message).toBe(
      'broken.yaml: document 2: line 3, column 7: expected valid YAML, got Nested mappings are not allowed in compact mappings',
    );
  });

  it('refuses a document without apiVersion, kind or metadata.name, naming the field', () => {
    expect(errorOf(() => parseKratixYaml('kind: A\nmetadata: {name: a}\n', 'f.yaml')).message).toBe(
      'f.yaml: document 1: apiVersion: expected string, got nothing (required property missing)',
    );
    expect(
      errorOf(() =>
        parseKratixYaml(
          '---\napiVersion: v1\nkind: A\nmetadata: {name: a}\n---\napiVersion: v1\nmetadata: {name: b}\n',
          'f.yaml',
        ),
      ).message,
    ).toBe('f.yaml: document 2: kind: expected string, got nothing (required property missing)');
    expect(errorOf(() => parseKratixYaml('apiVersion: v1\nkind: A\n', 'f.yaml')).message).toBe(
      'f.yaml: document 1: metadata: expected object, got nothing (required property missing)',
    );
    expect(
      errorOf(() => parseKratixYaml('apiVersion: v1\nkind: A\nmetadata: {name: 42}\n', 'f.yaml'))
        .message,
    ).toBe('f.yaml: document 1: metadata.name: expected string, got number');
  });

  it('names the list item when an item of a kind: List is incomplete', () => {
    const text =
      'apiVersion: v1\nkind: List\nitems:\n  - {apiVersion: v1, kind: A, metadata: {}}\n';
    expect(errorOf(() => parseKratixYaml(text, 'list.yaml')).message).toBe(
      'list.yaml: document 1: items[0].metadata.name: expected string, got nothing (required property missing)',
    );
  });

  it('refuses a document that is not a mapping', () => {
    expect(errorOf(() => parseKratixYaml('- a\n- b\n', 'f.yaml')).message).toBe(
      'f.yaml: document 1: expected a Kubernetes object (a mapping), got array',
    );
  });
});

describe('toYaml', () => {
  it('writes --- separated documents that parse back to the same objects', () => {
    const objects = [
      { apiVersion: 'v1', kind: 'A', metadata: { name: 'a' } },
      { apiVersion: 'v1', kind: 'B', metadata: { name: 'b' }, spec: { long: 'x'.repeat(200) } },
    ];
    const text = toYaml(objects);
    expect(text).toContain('\n---\n');
    expect(parseKratixYaml(text, 'out.yaml')).toEqual(objects);
  });

  it('never writes anchors and aliases for shared objects', () => {
    const shared = { environment: 'dev' };
    const text = toYaml([{ a: shared, b: shared }]);
    expect(text).not.toMatch(/[&*]a\d/);
    expect(parse(text)).toEqual({ a: shared, b: shared });
  });

  it('writes nothing for no objects', () => {
    expect(toYaml([])).toBe('');
  });
});

describe('loadKratixFile', () => {
  it('loads the marketplace-shaped MongoDB Promise with its large CRD and example request', async () => {
    const objects = await loadKratixFile(fixture('mongodb/promise-full.yaml'));
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Promise/mongodb-full',
      'MongoDBCommunity/example-mongodb',
    ]);
  });

  it('loads a multi-document file of requests with leading and trailing separators', async () => {
    const objects = await loadKratixFile(fixture('mongodb/fleet-requests.yaml'));
    expect(objects.map((o) => o.metadata.name)).toEqual(['payments-db', 'search-db', 'catalog-db']);
  });

  it('loads a kubectl List of platform objects', async () => {
    const objects = await loadKratixFile(fixture('platform/prod-bucket.yaml'));
    expect(objects.map((o) => o.kind)).toEqual(['Secret', 'BucketStateStore', 'Destination']);
  });

  it('refuses a broken file with its path and the line of the error', async () => {
    const file = fixture('bad/broken.yaml');
    await expect(loadKratixFile(file)).rejects.toThrow(
      `${file}: document 2: line 16, column 1: expected valid YAML, got A block sequence may not be used as an implicit map key`,
    );
  });

  it('refuses an empty file and an alias bomb, naming the file', async () => {
    const empty = fixture('bad/empty.yaml');
    await expect(loadKratixFile(empty)).rejects.toThrow(
      new InvalidInputError({
        file: empty,
        expected: 'at least one Kubernetes object',
        got: 'only comments and "---"',
      }),
    );
    const bomb = fixture('bad/alias-bomb.yaml');
    await expect(loadKratixFile(bomb)).rejects.toThrow(
      `${bomb}: document 1: expected YAML whose aliases expand to a bounded size`,
    );
  });

  it('refuses a file that does not exist', async () => {
    const file = fixture('no-such-file.yaml');
    await expect(loadKratixFile(file)).rejects.toThrow(
      new InvalidInputError({ file, expected: 'a readable file', got: 'ENOENT' }),
    );
  });
});

import { describe, expect, it } from 'vitest';
import { planBatch, StagedTree } from '../../src/statestores/git-changes';
import { parseTree, quotePath, type EntryKind } from '../../src/statestores/git-objects';

/** A base commit described as path → kind; directories are implied by their files. */
function baseOf(entries: Record<string, EntryKind>): (p: string) => Promise<EntryKind> {
  return (p) => {
    if (p === '') return Promise.resolve('dir');
    if (entries[p]) return Promise.resolve(entries[p]);
    const isDir = Object.keys(entries).some((k) => k.startsWith(`${p}/`));
    return Promise.resolve(isDir ? 'dir' : 'none');
  };
}

const summary = (t: StagedTree) =>
  t.changes.map((c) =>
    c.op === 'remove'
      ? `D ${c.path}`
      : `M ${c.exec ? '755' : '644'} ${c.path} ${c.content.toString('utf8')}`,
  );

describe('staging Git batches without a work tree', () => {
  it('replaces directories, writes files and deletes paths in Kratix order', async () => {
    const t = new StagedTree(baseOf({ 'r/old.yaml': 'file' }));
    await t.take(
      planBatch({
        message: 'm',
        replaceDirs: [{ dir: 'r', files: [{ path: 'new.yaml', content: 'n' }] }],
        writeFiles: [{ path: 'top.yaml', content: Buffer.from('t') }],
        deletePaths: ['gone'],
      }),
    );
    expect(summary(t)).toEqual(['D r', 'M 644 r/new.yaml n', 'M 644 top.yaml t', 'D gone']);
  });

  it('fails a batch whole when a file stands where it needs a directory, keeping earlier batches', async () => {
    const t = new StagedTree(baseOf({ 'keep.yaml': 'file' }));
    await t.take(planBatch({ message: 'a', writeFiles: [{ path: 'a.yaml', content: 'a' }] }));
    await expect(
      t.take(
        planBatch({
          message: 'bad',
          replaceDirs: [{ dir: 'half', files: [{ path: 'x', content: 'x' }] }],
          writeFiles: [{ path: 'keep.yaml/sub', content: 's' }],
        }),
      ),
    ).rejects.toThrow('"keep.yaml" is a file, and "keep.yaml/sub" needs it to be a directory');
    expect(summary(t)).toEqual(['M 644 a.yaml a']);
  });

  it('sees the batches taken before: a file written earlier blocks a directory, a removal frees it', async () => {
    const t = new StagedTree(baseOf({}));
    await t.take(planBatch({ message: 'a', writeFiles: [{ path: 'x', content: '1' }] }));
    await expect(
      t.take(planBatch({ message: 'b', writeFiles: [{ path: 'x/y', content: '2' }] })),
    ).rejects.toThrow(/"x" is a file/);
    await t.take(
      planBatch({
        message: 'c',
        replaceDirs: [{ dir: 'x', files: [{ path: 'y', content: '3' }] }],
      }),
    );
    await expect(
      t.take(planBatch({ message: 'd', writeFiles: [{ path: 'x', content: '4' }] })),
    ).rejects.toThrow('"x" is a directory, not a file');
    expect(summary(t)).toEqual(['M 644 x 1', 'D x', 'M 644 x/y 3']);
  });

  it('replaces symlinks on the way instead of failing, and keeps an executable file executable', async () => {
    const t = new StagedTree(baseOf({ link: 'link', 'bin/run.sh': 'exec' }));
    await t.take(
      planBatch({
        message: 'm',
        writeFiles: [
          { path: 'link/inside.yaml', content: 'i' },
          { path: 'bin/run.sh', content: 'echo' },
        ],
      }),
    );
    expect(summary(t)).toEqual(['M 644 link/inside.yaml i', 'M 755 bin/run.sh echo']);
  });

  it('replacing the root removes everything before the batch writes', async () => {
    const t = new StagedTree(baseOf({ 'a/b': 'file' }));
    await t.take(
      planBatch({ message: 'm', replaceDirs: [{ dir: '', files: [{ path: 'a', content: 'f' }] }] }),
    );
    expect(summary(t)).toEqual(['D ', 'M 644 a f']);
  });
});

describe('Git objects as fast-import and cat-file speak them', () => {
  it('quotes paths C-style so quotes, backslashes and control bytes survive', () => {
    expect(quotePath('a b/ü.yaml')).toBe('"a b/ü.yaml"');
    expect(quotePath('q"\\x\n\t')).toBe('"q\\"\\\\x\\012\\011"');
  });

  it('parses a raw tree object into kinds and ids', () => {
    const id = (b: number) => Buffer.alloc(20, b);
    const tree = Buffer.concat([
      Buffer.from('100644 a.yaml\0'),
      id(1),
      Buffer.from('40000 dir\0'),
      id(2),
      Buffer.from('100755 run\0'),
      id(3),
      Buffer.from('120000 ln\0'),
      id(4),
    ]);
    const parsed = parseTree(tree);
    expect([...parsed.entries()].map(([n, e]) => `${n} ${e.kind} ${e.oid.slice(0, 4)}`)).toEqual([
      'a.yaml file 0101',
      'dir dir 0202',
      'run exec 0303',
      'ln link 0404',
    ]);
    expect(() => parseTree(Buffer.from('100644 broken'))).toThrow('malformed tree object');
  });
});

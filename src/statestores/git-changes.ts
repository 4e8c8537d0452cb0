import type { EntryKind, TreeChange } from './git-objects';
import { safeRelativePath } from './paths';
import type { FileToWrite, UpdateBatch } from './writer';
import { resolveContent } from './writer';

/** A batch with every path checked and made root-relative. */
export interface BatchPlan {
  replaceDirs: { dir: string; files: PlannedFile[] }[];
  writeFiles: PlannedFile[];
  deletePaths: string[];
}

interface PlannedFile {
  path: string;
  content: FileToWrite['content'];
}

/** Checks every path of a batch; throws (bad input) before anything is touched. */
export function planBatch(batch: UpdateBatch): BatchPlan {
  const toFiles = (base: string, files: FileToWrite[]) =>
    files.map((f) => {
      const rel = safeRelativePath(base === '' ? f.path : `${base}/${f.path}`, 'file');
      if (rel === '') throw new Error(`file path "${f.path}" is empty`);
      return { path: rel, content: f.content };
    });
  return {
    replaceDirs: (batch.replaceDirs ?? []).map((d) => {
      const dir = safeRelativePath(d.dir, 'dir');
      return { dir, files: toFiles(dir, d.files) };
    }),
    writeFiles: toFiles('', batch.writeFiles ?? []),
    deletePaths: (batch.deletePaths ?? []).map((p) => safeRelativePath(p, 'deletePath')),
  };
}

/** Root-relative paths a batch replaces, writes or deletes ('' is the whole tree). */
export function touchedPaths(plan: BatchPlan): string[] {
  return [
    ...plan.replaceDirs.map((d) => d.dir),
    ...plan.writeFiles.map((f) => f.path),
    ...plan.deletePaths,
  ];
}

/** `inner` is strictly below `outer` ('' is the root, above everything). */
const below = (inner: string, outer: string) =>
  outer === '' ? inner !== '' : inner.startsWith(`${outer}/`);

/**
 * The tree a commit is being built into: a base commit plus the changes of the batches
 * taken so far. A batch is checked whole before any of it is taken, so one that cannot
 * apply (a file where it needs a directory) fails alone and leaves nothing behind.
 */
export class StagedTree {
  private readonly taken: TreeChange[] = [];

  /** `base` answers what is at a path in the base commit. */
  constructor(private readonly base: (p: string) => Promise<EntryKind>) {}

  /** Every change taken, in order. */
  get changes(): readonly TreeChange[] {
    return this.taken;
  }

  /**
   * Adds a batch in the order Kratix applies one (directories replaced, files written,
   * paths deleted), or throws why it cannot apply. Symlinks in the way are replaced by
   * directories and files, never followed: the repository's content is not ours to trust.
   */
  async take(plan: BatchPlan): Promise<void> {
    const changes: TreeChange[] = [];
    const write = async (f: PlannedFile) => {
      const parts = f.path.split('/');
      for (let i = 1; i < parts.length; i++) {
        const dir = parts.slice(0, i).join('/');
        const kind = await this.kindAt(dir, changes);
        if (kind === 'none') break;
        if (kind === 'file' || kind === 'exec') {
          throw new Error(`"${dir}" is a file, and "${f.path}" needs it to be a directory`);
        }
      }
      const kind = await this.kindAt(f.path, changes);
      if (kind === 'dir') throw new Error(`"${f.path}" is a directory, not a file`);
      // Strings as UTF-8, bytes as they are; a derived file is computed now, on every
      // attempt (again after a rejected push). An executable file stays executable.
      const content = Buffer.from(await resolveContent(f.content));
      changes.push({ op: 'write', path: f.path, exec: kind === 'exec', content });
    };
    for (const d of plan.replaceDirs) {
      changes.push({ op: 'remove', path: d.dir });
      for (const f of d.files) await write(f);
    }
    for (const f of plan.writeFiles) await write(f);
    for (const p of plan.deletePaths) changes.push({ op: 'remove', path: p });
    this.taken.push(...changes);
  }

  /** What is at `p` after the changes taken and `pending`, latest change first. */
  private async kindAt(p: string, pending: TreeChange[]): Promise<EntryKind> {
    const all = [...this.taken, ...pending];
    for (let i = all.length - 1; i >= 0; i--) {
      const c = all[i]!;
      if (c.op === 'write') {
        if (c.path === p) return c.exec ? 'exec' : 'file';
        if (below(c.path, p)) return 'dir';
        if (below(p, c.path)) return 'none';
      } else if (c.path === p || below(p, c.path)) {
        return p === '' ? 'dir' : 'none';
      }
    }
    return this.base(p);
  }
}

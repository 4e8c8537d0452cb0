import { lstat, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { safeRelativePath } from './paths';
import type { FileToWrite, UpdateBatch } from './writer';
import { resolveContent } from './writer';

/** A batch with every path checked and made root-relative, ready to apply to a work tree. */
export interface WorkTreePlan {
  replaceDirs: { dir: string; files: PlannedFile[] }[];
  writeFiles: PlannedFile[];
  deletePaths: string[];
}

interface PlannedFile {
  path: string;
  content: FileToWrite['content'];
}

/** Checks every path of a batch; throws (bad input) before anything is touched. */
export function planBatch(batch: UpdateBatch): WorkTreePlan {
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

/**
 * Applies a plan to the work tree at `root`. The repository's content is not ours to
 * trust: a committed symlink on the way to a path would make us write or delete outside
 * the clone, so such links are replaced by plain directories and files.
 */
export async function applyPlan(root: string, plan: WorkTreePlan): Promise<void> {
  const abs = (rel: string) => path.join(root, rel);
  const unlinkSymlinkParents = async (rel: string) => {
    let cur = root;
    for (const part of rel.split('/').slice(0, -1)) {
      cur = path.join(cur, part);
      const st = await lstat(cur).catch(() => undefined);
      if (!st) return;
      if (st.isSymbolicLink()) await rm(cur, { force: true });
    }
  };
  const removeRel = async (rel: string) => {
    if (rel === '') {
      // Replacing the root: empty the work tree but keep the repository itself.
      for (const entry of await readdir(root)) {
        if (entry !== '.git') await rm(abs(entry), { recursive: true, force: true });
      }
    } else {
      await unlinkSymlinkParents(rel);
      await rm(abs(rel), { recursive: true, force: true });
    }
  };
  const write = async (f: PlannedFile) => {
    await unlinkSymlinkParents(f.path);
    await mkdir(path.dirname(abs(f.path)), { recursive: true });
    // rm first so a symlink at the target itself is replaced, not followed.
    const st = await lstat(abs(f.path)).catch(() => undefined);
    if (st?.isSymbolicLink()) await rm(abs(f.path), { force: true });
    // Strings as UTF-8, bytes as they are: what reaches the commit is exactly the output.
    // A derived file is computed here, on every apply (again after a rejected push).
    await writeFile(abs(f.path), await resolveContent(f.content));
  };
  for (const d of plan.replaceDirs) {
    await removeRel(d.dir);
    for (const f of d.files) await write(f);
  }
  for (const f of plan.writeFiles) await write(f);
  for (const p of plan.deletePaths) await removeRel(p);
}

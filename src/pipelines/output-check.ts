/**
 * What a pipeline may leave in /kratix/output (behaviour §4): plain files and directories whose
 * paths a state store can hold. Checked once after the last container, so a bad file fails
 * the pipeline, naming it, and no Work with it is ever stored to fail every reconcile later.
 */
import type { Stats } from 'node:fs';
import { lstat, readdir, readlink, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { outputPathProblem } from '../model/safe-paths';
import { KRATIX_MOUNT_POINT } from './sandbox';

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Output must be plain files and directories inside output/, with names a state store can
 * hold (valid UTF-8, no `.git`, no `\`). Relative symlinks are tolerated only when they
 * resolve to a regular file inside output/ (directory links could loop).
 * Returns the first violation, or undefined.
 */
export async function findOutputViolation(outputDir: string): Promise<string | undefined> {
  const rootStat = await lstat(outputDir).catch(() => undefined);
  if (!rootStat?.isDirectory()) return `${KRATIX_MOUNT_POINT}/output is no longer a directory`;
  const root = await realpath(outputDir);

  const walk = async (dir: string, rel: string): Promise<string | undefined> => {
    // Raw bytes: a name that is not UTF-8 would read back as another name, and be lost.
    const entries = await readdir(dir, { encoding: 'buffer' });
    entries.sort(Buffer.compare);
    for (const raw of entries) {
      let entry: string;
      try {
        entry = UTF8.decode(raw);
      } catch {
        return `output/${rel}${raw.toString('utf8')}: the name is not valid UTF-8, so no state store can hold it`;
      }
      const full = path.join(dir, entry);
      const shown = `output/${rel}${entry}`;
      const st = await lstat(full);
      if (st.isDirectory()) {
        const inner = await walk(full, `${rel}${entry}/`);
        if (inner) return inner;
        continue;
      }
      if (st.isSymbolicLink()) {
        const problem = await checkSymlink(full, root);
        if (problem) return `${shown}: ${problem}`;
      } else if (!st.isFile()) {
        return `${shown}: not a regular file or directory (${fileKind(st)})`;
      }
      const problem = outputPathProblem(`${rel}${entry}`);
      if (problem) return `${shown}: ${problem}`;
    }
    return undefined;
  };
  return walk(outputDir, '');
}

async function checkSymlink(link: string, root: string): Promise<string | undefined> {
  const target = await readlink(link);
  if (path.isAbsolute(target)) return `absolute symlink (-> ${target}) is not allowed`;
  const resolved = await realpath(link).catch(() => undefined);
  if (resolved === undefined) return `dangling symlink (-> ${target})`;
  if (resolved !== root && !resolved.startsWith(root + path.sep)) {
    return `symlink points outside ${KRATIX_MOUNT_POINT}/output (-> ${target})`;
  }
  const st = await stat(resolved);
  if (!st.isFile()) return `symlink to something other than a regular file (-> ${target})`;
  return undefined;
}

function fileKind(st: Stats): string {
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'character device';
  if (st.isBlockDevice()) return 'block device';
  return 'unknown type';
}

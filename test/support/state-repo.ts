import { listedMessages } from '../../src/statestores/commit-message';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { simpleGit } from 'simple-git';

/**
 * Read-only views of what the engine wrote: a bare Git state store (its `main` branch)
 * and the worker's JSON-lines log file.
 */
export interface StateRepo {
  dir: string;
  url: string;
  /** Every file path on the branch, sorted; [] before the first commit. */
  files(prefix?: string): Promise<string[]>;
  /**
   * Like `files`, without the check documents every Destination gets when it is registered
   * (`kratix-canary-*.yaml`): only what Promises and resources put there.
   */
  workloads(prefix?: string): Promise<string[]>;
  /** A file's content on the branch, or undefined when it is not there. */
  read(file: string): Promise<string | undefined>;
  /** Commit subjects, newest first (only those touching `pathspec` if given). */
  commits(pathspec?: string): Promise<string[]>;
}

export async function createStateRepo(dir: string, branch = 'main'): Promise<StateRepo> {
  await simpleGit().init(true, [dir, `--initial-branch=${branch}`]);
  const raw = (args: string[]) => simpleGit().raw(['--git-dir', dir, ...args]);
  const hasBranch = async () =>
    (
      await raw(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`]).catch(() => '')
    ).trim() !== '';
  const files = async (prefix = ''): Promise<string[]> => {
    if (!(await hasBranch())) return [];
    const out = await raw(['ls-tree', '-r', '--name-only', `refs/heads/${branch}`]);
    return out
      .split('\n')
      .filter((f) => f !== '' && f.startsWith(prefix))
      .sort();
  };
  return {
    dir,
    url: `file://${dir}`,
    files,
    async workloads(prefix = '') {
      return (await files(prefix)).filter((f) => !/(^|\/)kratix-canary-[^/]*$/.test(f));
    },
    async read(file) {
      if (!(await hasBranch())) return undefined;
      return raw(['show', `refs/heads/${branch}:${file}`]).catch(() => undefined);
    },
    async commits(pathspec) {
      if (!(await hasBranch())) return [];
      const out = await raw([
        'log',
        '--format=%B%x00',
        `refs/heads/${branch}`,
        '--',
        ...(pathspec ? [pathspec] : []),
      ]);
      // A grouped commit counts as the batch messages it lists.
      return out
        .split('\0')
        .filter((m) => m.trim() !== '')
        .flatMap((m) => listedMessages(m.trim()));
    },
  };
}

/** `<id5>` of a workload-group directory: the first 5 hex chars of md5 (`.` → 5058f). */
export function groupId5(directory: string): string {
  return createHash('md5').update(directory).digest('hex').slice(0, 5);
}

/** The worker log's JSON lines whose `msg` is exactly `msg`, oldest first. */
export function logLinesWithMessage(logFile: string, msg: string): Record<string, unknown>[] {
  if (!fs.existsSync(logFile)) return [];
  return fs
    .readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((l) => l.includes(msg))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((o) => o.msg === msg);
}

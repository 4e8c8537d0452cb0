import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';
import type { FaultKind } from './faults';
import type { StateStoreError } from './writer';

/**
 * Working clones, one per writer instance.
 *
 * Why not one shared clone with a lock: worker processes (on one data directory, or on
 * several machines) would need a lock that holds across processes and survives SIGKILL,
 * which Node has no portable primitive for, and a stale or lost lock would mix one
 * writer's files into another's commit. With a private clone per writer there is no shared
 * mutable state at all: every writer fetches, commits on top of the remote branch and
 * pushes, and the remote's compare-and-swap on the branch (a non-fast-forward push is
 * rejected) is the only arbiter. The loser fetches and redoes its commits. (Writers on one
 * host also take turns, git-turns.ts, so they do not waste rounds racing; an optimisation
 * that correctness does not depend on.)
 *
 * A clone is `<parent>/<prefix>+<host>+<pid>+<random>`. `close()` removes it; clones of
 * processes that died on this host are adopted (their objects spare a full fetch) or
 * removed by the next writer that starts. Every claim is an atomic rename, so two starting
 * processes never both take, or delete, the same directory.
 */

export const HOST = hostname().replace(/[^A-Za-z0-9.-]/g, '_') || 'host';
const SEP = '+';
const TRASH = '.trash-';

/** Whether a process of this host is running (EPERM: it exists, it just is not ours). */
export function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Owner of a clone directory name, if it is one of ours. */
function ownerOf(entry: string): { prefix: string; host: string; pid: number } | undefined {
  const parts = entry.split(SEP);
  if (parts.length !== 4) return undefined;
  const [prefix, host, pid] = parts as [string, string, string, string];
  if (!/^\d+$/.test(pid)) return undefined;
  return { prefix, host, pid: Number(pid) };
}

async function removeClaimed(parent: string, entry: string): Promise<void> {
  const trash = path.join(parent, `${TRASH}${randomBytes(6).toString('hex')}`);
  try {
    await rename(path.join(parent, entry), trash);
  } catch {
    return; // someone else claimed it first
  }
  await rm(trash, { recursive: true, force: true }).catch(() => undefined);
}

/**
 * A new private clone directory for a writer of `prefix` (created, maybe holding a dead
 * process's clone). Stale clones of dead processes on this host are cleaned up on the way.
 */
async function claimCloneDir(
  parent: string,
  prefix: string,
): Promise<{ dir: string; adopted: boolean }> {
  await mkdir(parent, { recursive: true });
  const name = [prefix, HOST, String(process.pid), randomBytes(6).toString('hex')].join(SEP);
  const dir = path.join(parent, name);
  let adopted = false;
  for (const entry of await readdir(parent)) {
    if (entry.startsWith(TRASH)) {
      // Left by a cleanup that was itself killed; removing twice is harmless.
      await rm(path.join(parent, entry), { recursive: true, force: true }).catch(() => undefined);
      continue;
    }
    const owner = ownerOf(entry);
    if (!owner || owner.host !== HOST || alive(owner.pid)) continue;
    if (!adopted && owner.prefix === prefix) {
      try {
        await rename(path.join(parent, entry), dir);
        adopted = true;
        continue;
      } catch {
        // taken by another starting writer: look further
      }
    }
    await removeClaimed(parent, entry);
  }
  await mkdir(dir, { recursive: true });
  return { dir, adopted };
}

/** Removes a writer's clone (on close). */
async function releaseCloneDir(dir: string): Promise<void> {
  await removeClaimed(path.dirname(dir), path.basename(dir));
}

/**
 * Lock files git leaves behind when it is killed (timeout, SIGKILL). Only the clone's
 * owner runs git in it, one command at a time, so between commands any lock is stale.
 */
async function removeStaleLocks(repoDir: string): Promise<void> {
  const gitDir = path.join(repoDir, '.git');
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.name.endsWith('.lock')) await rm(full, { force: true });
    }
  };
  for (const f of ['index.lock', 'HEAD.lock', 'config.lock', 'packed-refs.lock', 'shallow.lock']) {
    await rm(path.join(gitDir, f), { force: true });
  }
  await walk(path.join(gitDir, 'refs'));
}

/**
 * `.git/info/attributes` outranks any `.gitattributes` committed to the repository, whose
 * eol conversions, filters or encodings would otherwise change the bytes we write.
 */
const BYTE_EXACT_ATTRIBUTES = '* -text -filter -ident -working-tree-encoding\n';

export interface WorkingCloneOptions {
  /** Directory holding the clones (`<cacheDir>/git`). */
  parent: string;
  /** Names the remote and branch, so a dead process's clone of the same one is reused. */
  prefix: string;
  /** The remote URL, without credentials. */
  url: string;
  env: () => Promise<Record<string, string>>;
  /** A git command producing no output for this long is killed. */
  timeoutMs: number;
  /** The classified error for a failed command (faults.ts). */
  fault: (err: unknown, command: string) => StateStoreError;
  onClaim?: (dir: string, adopted: boolean) => void;
}

/** What a writer does inside its clone, one operation at a time. */
export interface CloneSession {
  dir: string;
  /** Changes whenever the clone was set up again (after a failure): processes kept open in it must restart. */
  epoch: number;
  git: SimpleGit;
  /** Runs git; a failure is thrown as a classified StateStoreError. */
  run(args: string[]): Promise<string>;
}

/** A writer's private clone: claimed on first use, repaired after failures, removed on close. */
export class WorkingClone {
  /** What the writer remembers of the remote branch is not to be trusted (new, or failed). */
  dirty = true;
  private dir?: string;
  /** Configured and free of stale locks (false again after any failure). */
  private ready = false;
  /** Empty the clone before the next use (after a failure we cannot explain). */
  private discard = false;
  private epoch = 0;
  /** Operations run one at a time: they share the clone's refs and objects. */
  private lock: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: WorkingCloneOptions) {}

  /** The clone directory, once claimed (for tests and logs). */
  get repoDir(): string | undefined {
    return this.dir;
  }

  use<T>(fn: (session: CloneSession) => Promise<T>): Promise<T> {
    const run = this.lock.then(async () => {
      try {
        return await fn(await this.open());
      } catch (err) {
        const e = this.options.fault(err, 'operation');
        this.afterFailure(e.fault);
        throw e;
      }
    });
    this.lock = run.catch(() => undefined);
    return run;
  }

  /** Removes the clone once queued operations are done; a later use claims a new one. */
  async close(): Promise<void> {
    const done = this.lock.then(async () => {
      if (this.dir) await releaseCloneDir(this.dir);
      this.dir = undefined;
      this.ready = false;
    });
    this.lock = done.catch(() => undefined);
    await done;
  }

  /**
   * After any failure the next use re-checks the clone (a killed git leaves locks; someone
   * may have removed files), and after one we cannot explain it starts from an empty one.
   */
  private afterFailure(kind: FaultKind): void {
    this.ready = false;
    if (kind === 'unknown') this.discard = true;
    this.dirty = true;
  }

  private async open(): Promise<CloneSession> {
    if (!this.dir) {
      const claimed = await claimCloneDir(this.options.parent, this.options.prefix);
      this.dir = claimed.dir;
      this.ready = false;
      this.options.onClaim?.(claimed.dir, claimed.adopted);
    }
    const dir = this.dir;
    if (this.discard) {
      for (const entry of await readdir(dir).catch(() => [])) {
        await rm(path.join(dir, entry), { recursive: true, force: true });
      }
      this.discard = false;
      this.ready = false;
    }
    // simple-git refuses a missing directory; someone may have removed ours.
    if (!this.ready) await mkdir(dir, { recursive: true });
    const git = simpleGit({
      baseDir: dir,
      maxConcurrentProcesses: 1,
      timeout: { block: this.options.timeoutMs },
      // We set these ourselves (auth header, helper reset, SSH command), never from input.
      unsafe: {
        allowUnsafeConfigEnvCount: true,
        allowUnsafeSshCommand: true,
        allowUnsafeCredentialHelper: true,
      },
    }).env(await this.options.env());
    const run = async (args: string[]) => {
      try {
        return await git.raw(args);
      } catch (err) {
        throw this.options.fault(err, args[0] ?? 'git');
      }
    };
    if (!this.ready) {
      // A clone adopted from a dead process, or after a killed git, may hold anything.
      await removeStaleLocks(dir);
      await run(['init']);
      await run(['config', 'remote.origin.url', this.options.url]);
      // No automatic gc inside a fetch or commit: the writer packs between writes.
      await run(['config', 'gc.auto', '0']);
      await run(['config', 'maintenance.auto', 'false']);
      await mkdir(path.join(dir, '.git', 'info'), { recursive: true });
      await writeFile(path.join(dir, '.git', 'info', 'attributes'), BYTE_EXACT_ATTRIBUTES);
      this.dirty = true;
      this.ready = true;
      this.epoch++;
    }
    return { dir, epoch: this.epoch, git, run };
  }
}

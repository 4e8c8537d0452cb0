import { createHash, randomBytes } from 'node:crypto';
import { lstat } from 'node:fs/promises';
import * as path from 'node:path';
import type { Logger } from 'pino';
import type { GitStateStore, Secret } from '../model/types';
import { commitMessage } from './commit-message';
import { gitFault } from './faults';
import { WorkingClone, type CloneSession } from './git-clone';
import { credentialsOf, GitEnv, parseRemote, type ParsedRemote } from './git-env';
import { applyPlan, planBatch, type WorkTreePlan } from './git-worktree';
import { releaseTurnRecord, takeTurn } from './git-turns';
import { GroupQueue } from './group-queue';
import { safeRelativePath } from './paths';
import {
  StateStoreError,
  type StateStoreWriter,
  type UpdateBatch,
  type UpdateResult,
} from './writer';

export { safeRelativePath } from './paths';

export interface GitStateStoreWriterOptions {
  store: GitStateStore;
  /**
   * Keys read: `username`/`password` (basic auth over HTTPS), `sshPrivateKey` (+ optional
   * `knownHosts`), and for self-signed HTTPS servers `caBundle` (PEM text) or
   * `insecureSkipTLSVerify: "true"`.
   */
  secret?: Secret;
  /** Working clones live under `<cacheDir>/git/`, one per writer (see git-clone.ts). */
  cacheDir: string;
  /** Overrides `spec.gitAuthor`; default name `kratix`, email `kratix@kratix.io`. */
  author?: { name?: string; email?: string };
  /** Path to a PEM CA bundle trusted for HTTPS (same as the secret's `caBundle`). */
  caFile?: string;
  /** Turns off TLS verification (test servers only). */
  insecureSkipTLSVerify?: boolean;
  /** A git command producing no output for this long is killed (default 60 s). */
  timeoutMs?: number;
  /** Fetch-reset-apply-push rounds before giving up on rejected pushes (default 10). */
  maxPushAttempts?: number;
  logger?: Pick<Logger, 'debug' | 'warn'>;
}

const DEFAULT_AUTHOR = { name: 'kratix', email: 'kratix@kratix.io' };

/** Batches written per fetch/push round; bounds the work redone after a rejected push. */
const MAX_GROUP = 50;

interface QueuedUpdate {
  plan: WorkTreePlan;
  message: string;
}

/** Writers of one branch on this host take turns (git-turns.ts); advisory only. */
const TURNS = { maxWaitMs: 10_000, staleMs: 120_000 };

/** Longest a writer pushes on top of its own last push without fetching. */
const TRUST_MS = 30_000;

/** Pushes between looks at whether the clone needs packing. */
const HOUSEKEEPING_EVERY = 50;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Writes a Git repository branch the way Kratix does: reset a private clone to the remote
 * branch, apply the batch, commit once, push; on a rejected push start over.
 */
export class GitStateStoreWriter implements StateStoreWriter {
  private readonly name: string;
  private readonly remote: ParsedRemote;
  private readonly branch: string;
  private readonly maxPushAttempts: number;
  private readonly env: GitEnv;
  private readonly clone: WorkingClone;
  private readonly turnFile: string;
  private readonly queue = new GroupQueue<QueuedUpdate, UpdateResult>(
    MAX_GROUP,
    (take) => this.clone.use((session) => this.writeGroup(session, take)),
    () => this.housekeep(),
  );
  /** The commit the clone's index and work tree hold, when known to be clean. */
  private syncedTip?: string;
  /** Names this writer in the turn file (see git-turns.ts). */
  private readonly owner = `${process.pid}-${randomBytes(6).toString('hex')}`;
  /** When the branch was last fetched (ms). */
  private fetchedAt = 0;
  /** Pushes since the last housekeeping. */
  private rounds = 0;

  constructor(private readonly options: GitStateStoreWriterOptions) {
    const { store, secret } = options;
    this.name = store.metadata.name;
    if (!store.spec?.url) {
      throw new StateStoreError('GitStateStore', this.name, 'spec.url is required', false);
    }
    try {
      this.remote = parseRemote(store.spec.url);
    } catch {
      throw new StateStoreError('GitStateStore', this.name, 'spec.url is not a valid URL', false);
    }
    this.branch = store.spec.branch || 'main';
    const timeoutMs = options.timeoutMs ?? 60_000;
    this.maxPushAttempts = options.maxPushAttempts ?? 10;
    const secrets = credentialsOf(this.remote, secret);
    this.env = new GitEnv({
      remote: this.remote,
      secret,
      author: {
        name: options.author?.name ?? store.spec.gitAuthor?.name ?? DEFAULT_AUTHOR.name,
        email: options.author?.email ?? store.spec.gitAuthor?.email ?? DEFAULT_AUTHOR.email,
      },
      timeoutMs,
      caFile: options.caFile,
      insecureSkipTLSVerify: options.insecureSkipTLSVerify,
      warn: (msg) => options.logger?.warn({ store: this.name }, msg),
    });
    const key = createHash('sha256').update(`${this.remote.url}\n${this.branch}`).digest('hex');
    const label = this.remote.url
      .replace(/^[a-z]+:\/\//i, '')
      .replace(/[^A-Za-z0-9._-]+/g, '_')
      .slice(-40);
    const prefix = `${label}-${key.slice(0, 12)}`;
    this.turnFile = path.join(options.cacheDir, 'git', `${prefix}.turn`);
    this.clone = new WorkingClone({
      parent: path.join(options.cacheDir, 'git'),
      prefix,
      url: this.remote.url,
      env: () => this.env.get(),
      timeoutMs,
      fault: (err, command) =>
        gitFault(err, { store: this.name, url: this.remote.url, command, timeoutMs, secrets }),
      onClaim: (clone, adopted) =>
        options.logger?.debug({ store: this.name, clone, adopted }, 'git working clone claimed'),
    });
  }

  /** This writer's private clone, once claimed (tests look inside it). */
  get repoDir(): string | undefined {
    return this.clone.repoDir;
  }

  /**
   * Updates queued while another is in flight are written together: one fetch and one push
   * for the group, but still one commit per batch with its own message (Kratix's
   * "Update from: <placement>"), so concurrent activities do not pay a round trip each.
   */
  async update(batch: UpdateBatch): Promise<UpdateResult> {
    // Validate every path before touching the clone, so a bad batch fails fast and whole.
    let plan: WorkTreePlan;
    try {
      plan = planBatch(batch);
    } catch (err) {
      throw new StateStoreError('GitStateStore', this.name, (err as Error).message, false);
    }
    return this.queue.push({ plan, message: batch.message || 'Update' });
  }

  /**
   * One commit per queued batch on top of the remote branch, then a single push; a push
   * that lost the race to another writer is redone on top of the winner's commits.
   */
  private async writeGroup(
    session: CloneSession,
    take: () => QueuedUpdate[],
  ): Promise<(UpdateResult | Error)[]> {
    let group: QueuedUpdate[] | undefined;
    for (let attempt = 1; ; attempt++) {
      const turn = await takeTurn(this.turnFile, TURNS, this.owner);
      // Taken once our turn has come: whatever queued meanwhile joins this group.
      group ??= take();
      let round: Awaited<ReturnType<GitStateStoreWriter['writeRound']>>;
      try {
        // After our own push, with nobody else's turn since, the fetch is skipped: the
        // push's compare-and-swap still refuses a branch that moved, and then we fetch.
        round = await this.writeRound(session, group, attempt === 1 && turn.lastWasMine);
      } finally {
        await turn.release();
      }
      if (!round.rejected) return round.results;
      if (attempt >= this.maxPushAttempts) {
        throw new StateStoreError(
          'GitStateStore',
          this.name,
          `push to ${this.remote.url} still rejected after ${attempt} attempts: ${round.rejected.message.replace(`GitStateStore "${this.name}": `, '')}`,
          true,
          'rejected',
        );
      }
      this.options.logger?.debug(
        { store: this.name, attempt, batches: group.length },
        'git push rejected; fetching and re-applying',
      );
      // Full jitter, growing: writers that collided spread out instead of colliding again.
      await sleep(Math.random() * 40 * 2 ** Math.min(attempt, 6));
    }
  }

  /**
   * Fetch, apply every batch of the group, commit once, push; `rejected` when another
   * writer pushed first. One commit per push (its message lists the group's placements)
   * keeps commits far fewer than resources in a fleet upgrade, and a push is the unit a
   * GitOps agent sees anyway.
   */
  private async writeRound(
    session: CloneSession,
    group: QueuedUpdate[],
    trustLastPush: boolean,
  ): Promise<{ results: (UpdateResult | Error)[]; rejected?: StateStoreError }> {
    const { dir, run } = session;
    // A branch reset by hand is seen within TRUST_MS: trust never outlives a recent fetch.
    const fresh = Date.now() - this.fetchedAt < TRUST_MS;
    const pushed = trustLastPush && fresh && !this.clone.dirty ? this.syncedTip : undefined;
    const base = pushed ?? ((await this.syncToRemote(session)) ? this.remoteRef : undefined);
    const results: (UpdateResult | Error | undefined)[] = group.map(() => undefined);
    const applied: number[] = [];
    for (const [i, u] of group.entries()) {
      this.clone.dirty = true;
      this.syncedTip = undefined;
      try {
        await applyPlan(dir, u.plan);
        applied.push(i);
      } catch (err) {
        // e.g. a file where the batch needs a directory: this batch itself is wrong.
        const why = (err as Error).message.replace(dir + path.sep, '');
        results[i] = new StateStoreError(
          'GitStateStore',
          this.name,
          `cannot apply the batch: ${why}`,
          false,
        );
        // Back to the remote branch (or nothing), then the good batches again.
        await run(base ? ['read-tree', '--reset', '-u', base] : ['read-tree', '--empty']);
        await run(['clean', '-ffdx']);
        for (const j of applied) await applyPlan(dir, group[j]!.plan);
      }
    }
    // `add -v` lists exactly what changed against the index, which holds the remote branch
    // ("add '<path>'", "remove '<path>'"); a file rewritten with the same bytes is not
    // listed (git compares bytes: the unchanged check). Only the paths the batches touched
    // are looked at: scanning a tree of 10,000 resources costs more than the write itself.
    const specs = await touchedPathspecs(
      dir,
      applied.map((i) => group[i]!.plan),
    );
    const added = specs.length > 0 ? await run(['add', '-A', '-f', '-v', '--', ...specs]) : '';
    this.clone.dirty = false;
    const changes = parseAddOutput(added);
    for (const i of applied) {
      const counts = countChanges(changes, touchedPaths(group[i]!.plan));
      results[i] = {
        changed: counts.written + counts.deleted > 0,
        filesWritten: counts.written,
        filesDeleted: counts.deleted,
      };
    }
    const changedIdx = applied.filter((i) => (results[i] as UpdateResult).changed);
    if (changedIdx.length === 0) {
      // "Unchanged" against our own last push proves nothing (a file may have been removed
      // by hand since), and no push will check it: look at the remote branch itself.
      if (pushed) return this.writeRound(session, group, false);
      if (base) this.syncedTip = (await run(['rev-parse', base])).trim();
      return { results: results as (UpdateResult | Error)[] };
    }
    // Built with plumbing (write-tree, commit-tree): half the git calls of `git commit`,
    // which keeps the fetch-to-push window short.
    const tree = (await run(['write-tree'])).trim();
    const parent = base ? ['-p', base] : [];
    const tip = (
      await run([
        'commit-tree',
        tree,
        ...parent,
        '-m',
        commitMessage(changedIdx.map((i) => group[i]!.message)),
      ])
    ).trim();
    for (const i of changedIdx) (results[i] as UpdateResult).revision = tip;
    try {
      // --porcelain prints to stdout: simple-git adds ~50 ms to commands that print nothing.
      await run(['push', '--porcelain', 'origin', `${tip}:refs/heads/${this.branch}`]);
      // The index and work tree are this commit: the next round skips the checkout if
      // nobody else pushed meanwhile.
      this.syncedTip = tip;
      this.rounds++;
      return { results: results as (UpdateResult | Error)[] };
    } catch (err) {
      const e = err as StateStoreError;
      // Anything but a lost race (remote down, missing…) goes to Temporal's retry policy.
      if (e.fault !== 'rejected' && e.fault !== 'contention') throw e;
      return { results: results as (UpdateResult | Error)[], rejected: e };
    }
  }

  /**
   * Packs loose objects now and then, between writes rather than inside one: git's own
   * automatic gc (turned off in the clone) would otherwise run in the middle of a fetch.
   */
  private async housekeep(): Promise<void> {
    if (this.rounds < HOUSEKEEPING_EVERY) return;
    this.rounds = 0;
    await this.clone
      .use(({ run }) =>
        run(['-c', 'gc.auto=6700', '-c', 'gc.autoPackLimit=50', 'gc', '--auto', '--quiet']),
      )
      .catch((err: unknown) =>
        this.options.logger?.warn(
          { store: this.name, err: String(err) },
          'git housekeeping failed',
        ),
      );
  }

  async readFile(file: string): Promise<string | undefined> {
    return (await this.readFileBytes(file))?.toString('utf8');
  }

  async readFileBytes(file: string): Promise<Buffer | undefined> {
    const rel = this.checkedPath(file, 'file');
    return this.clone.use(async (session) => {
      if (!(await this.fetch(session)) || rel === '') return undefined;
      const entry = await session.run(['ls-tree', '-z', this.remoteRef, '--', rel]);
      const m = /^\d+ blob ([0-9a-f]+)\t/.exec(entry);
      if (!m?.[1]) return undefined;
      // raw() decodes stdout as UTF-8; the blob's bytes need the binary variant.
      return (await session.git.binaryCatFile(['blob', m[1]])) as Buffer;
    });
  }

  async listFiles(dir: string): Promise<string[]> {
    const rel = this.checkedPath(dir, 'dir');
    return this.clone.use(async (session) => {
      if (!(await this.fetch(session))) return [];
      const args = ['ls-tree', '-r', '-z', '--name-only', this.remoteRef];
      const out = await session.run(rel === '' ? args : [...args, '--', rel]);
      return out.split('\0').filter((p) => p !== '');
    });
  }

  async validatePermissions(): Promise<void> {
    // ls-remote proves the URL, the network path, TLS and the credentials; a push with no
    // commit cannot prove write access without writing, so that is left to the first write.
    await this.clone.use(async ({ run }) => {
      await run(['ls-remote', '--heads', 'origin', `refs/heads/${this.branch}`]);
    });
  }

  async close(): Promise<void> {
    await this.clone.close();
    await releaseTurnRecord(this.turnFile, this.owner);
    await this.env.close();
  }

  private checkedPath(p: string, what: string): string {
    try {
      return safeRelativePath(p, what);
    } catch (err) {
      throw new StateStoreError('GitStateStore', this.name, (err as Error).message, false);
    }
  }

  private get remoteRef(): string {
    return `refs/remotes/origin/${this.branch}`;
  }

  /** Fetches the branch; false when the remote does not have it (yet). */
  private async fetch({ run }: CloneSession): Promise<boolean> {
    try {
      await run([
        'fetch',
        '-v',
        '--no-tags',
        'origin',
        `+refs/heads/${this.branch}:${this.remoteRef}`,
      ]);
      return true;
    } catch (err) {
      if (/couldn't find remote ref/i.test((err as Error).message)) {
        // Branch absent (empty repository, or deleted): forget any stale tracking ref.
        await run(['update-ref', '-d', this.remoteRef]);
        return false;
      }
      throw err;
    }
  }

  /** Makes the work tree exactly the remote branch (or empty on a new branch). */
  private async syncToRemote(session: CloneSession): Promise<boolean> {
    const { run } = session;
    const exists = await this.fetch(session);
    this.fetchedAt = Date.now();
    if (exists) {
      const remoteTip = (await run(['rev-parse', this.remoteRef])).trim();
      // Checking out a large tree is costly; after our own push it is already there.
      if (this.clone.dirty || this.syncedTip !== remoteTip) {
        await run(['checkout', '-f', '--no-track', '-B', this.branch, this.remoteRef]);
      }
      this.syncedTip = remoteTip;
    } else {
      this.syncedTip = undefined;
      await run(['symbolic-ref', 'HEAD', `refs/heads/${this.branch}`]);
      await run(['update-ref', '-d', `refs/heads/${this.branch}`]);
      await run(['read-tree', '--empty']);
    }
    // Untracked leftovers exist only after an update failed before committing (or on a
    // new branch, where everything became untracked).
    if (!exists || this.clone.dirty) {
      await run(['clean', '-ffdx']);
      this.clone.dirty = false;
    }
    return exists;
  }
}

/** Root-relative paths a batch replaces, writes or deletes ('' is the whole tree). */
function touchedPaths(plan: WorkTreePlan): string[] {
  return [
    ...plan.replaceDirs.map((d) => d.dir),
    ...plan.writeFiles.map((f) => f.path),
    ...plan.deletePaths,
  ];
}

/**
 * Pathspecs covering what the batches touched: each path if it is there now, else its
 * nearest existing parent (a removed path must still be seen as removed). Literal, so
 * a `*` in a name is not a glob.
 */
async function touchedPathspecs(root: string, plans: WorkTreePlan[]): Promise<string[]> {
  const specs = new Set<string>();
  for (const plan of plans) {
    for (let p of touchedPaths(plan)) {
      while (p !== '' && !(await exists(path.join(root, p))))
        p = path.posix.dirname(p).replace(/^\.$/, '');
      specs.add(p === '' ? ':(literal).' : `:(literal)${p}`);
    }
  }
  return [...specs];
}

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}

/** `git add -v` lines: "add 'p'" and "remove 'p'". */
function parseAddOutput(out: string): { path: string; removed: boolean }[] {
  const changes: { path: string; removed: boolean }[] = [];
  for (const line of out.split('\n')) {
    const m = /^(add|remove) '(.*)'$/.exec(line);
    if (m) changes.push({ path: m[2]!, removed: m[1] === 'remove' });
  }
  return changes;
}

function countChanges(
  changes: { path: string; removed: boolean }[],
  touched: string[],
): { written: number; deleted: number } {
  const within = (p: string) => touched.some((t) => t === '' || p === t || p.startsWith(`${t}/`));
  let written = 0;
  let deleted = 0;
  for (const c of changes) {
    if (!within(c.path)) continue;
    if (c.removed) deleted++;
    else written++;
  }
  return { written, deleted };
}

import { createHash, randomBytes } from 'node:crypto';
import * as path from 'node:path';
import type { Logger } from 'pino';
import type { GitStateStore, Secret } from '../model/types';
import { commitMessage } from './commit-message';
import { gitFault } from './faults';
import { WorkingClone, type CloneSession } from './git-clone';
import { credentialsOf, GitEnv, parseRemote, type ParsedRemote } from './git-env';
import { planBatch, StagedTree, touchedPaths, type BatchPlan } from './git-changes';
import { CommitBuilder, TreeReader } from './git-objects';
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
  plan: BatchPlan;
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
  /** The remote branch's tip as last seen (fetched, or our own push). */
  private syncedTip?: string;
  private readonly author: { name: string; email: string };
  private readonly timeoutMs: number;
  /** Long-lived git processes in the clone (see git-objects.ts), started on first write. */
  private helpers?: { epoch: string; trees: TreeReader; commits: CommitBuilder };
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
    this.timeoutMs = timeoutMs;
    const secrets = credentialsOf(this.remote, secret);
    this.author = {
      name: options.author?.name ?? store.spec.gitAuthor?.name ?? DEFAULT_AUTHOR.name,
      email: options.author?.email ?? store.spec.gitAuthor?.email ?? DEFAULT_AUTHOR.email,
    };
    this.env = new GitEnv({
      remote: this.remote,
      secret,
      author: this.author,
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
    let plan: BatchPlan;
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
      } catch (err) {
        // Whatever state the helpers were left in, the next round starts them afresh.
        await this.stopHelpers();
        throw err;
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
    const { run } = session;
    // A branch reset by hand is seen within TRUST_MS: trust never outlives a recent fetch.
    const fresh = Date.now() - this.fetchedAt < TRUST_MS;
    const pushed = trustLastPush && fresh && !this.clone.dirty ? this.syncedTip : undefined;
    const base = pushed ?? (await this.syncToRemote(session));
    const { trees, commits } = await this.startHelpers(session);
    const staged = new StagedTree((p) => trees.kindAt(base, p));
    const results: (UpdateResult | Error | undefined)[] = group.map(() => undefined);
    const applied: number[] = [];
    for (const [i, u] of group.entries()) {
      try {
        await staged.take(u.plan);
        applied.push(i);
      } catch (err) {
        // e.g. a file where the batch needs a directory: this batch itself is wrong.
        results[i] = new StateStoreError(
          'GitStateStore',
          this.name,
          `cannot apply the batch: ${(err as Error).message}`,
          false,
        );
      }
    }
    const done = () => ({ results: results as (UpdateResult | Error)[] });
    if (applied.length === 0) return done();
    const message = (idx: number[]) => commitMessage(idx.map((i) => group[i]!.message));
    let tip = await commits.commit({
      parent: base,
      changes: staged.changes,
      message: message(applied),
      author: this.author,
    });
    // What the commit changes, path by path; git compares bytes, so a file rewritten with
    // the same content is not listed (the unchanged check).
    const diff = await run([
      'diff-tree',
      '-r',
      '-z',
      '--no-renames',
      '--name-status',
      base ?? EMPTY_TREE,
      tip,
    ]);
    const changes = parseNameStatus(diff);
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
      return done();
    }
    if (changedIdx.length < applied.length) {
      // The message names only the placements the commit changes.
      const parent = base ? ['-p', base] : [];
      tip = (
        await run(['commit-tree', `${tip}^{tree}`, ...parent, '-m', message(changedIdx)])
      ).trim();
    }
    for (const i of changedIdx) (results[i] as UpdateResult).revision = tip;
    try {
      // --porcelain prints to stdout: simple-git adds ~50 ms to commands that print nothing.
      await run(['push', '--porcelain', 'origin', `${tip}:refs/heads/${this.branch}`]);
      // The next round builds on this commit without fetching if nobody else pushed.
      this.syncedTip = tip;
      this.rounds++;
      return done();
    } catch (err) {
      const e = err as StateStoreError;
      // Anything but a lost race (remote down, missing…) goes to Temporal's retry policy.
      if (e.fault !== 'rejected' && e.fault !== 'contention') throw e;
      return { ...done(), rejected: e };
    }
  }

  private async startHelpers(
    session: CloneSession,
  ): Promise<{ trees: TreeReader; commits: CommitBuilder }> {
    const h = this.helpers;
    const epoch = `${session.dir}#${session.epoch}`;
    if (h?.epoch === epoch && h.trees.running && h.commits.running) return h;
    await this.stopHelpers();
    const env = await this.env.get();
    const fresh = {
      epoch,
      trees: new TreeReader(session.dir, env, this.timeoutMs),
      commits: new CommitBuilder(session.dir, env, this.timeoutMs),
    };
    this.helpers = fresh;
    return fresh;
  }

  private async stopHelpers(): Promise<void> {
    const h = this.helpers;
    this.helpers = undefined;
    if (h) await Promise.all([h.trees.stop(), h.commits.stop()]);
  }

  /**
   * Packs loose objects now and then, between writes rather than inside one: git's own
   * automatic gc (turned off in the clone) would otherwise run in the middle of a fetch.
   */
  private async housekeep(): Promise<void> {
    if (this.rounds < HOUSEKEEPING_EVERY) return;
    this.rounds = 0;
    await this.clone
      .use(async ({ run }) => {
        // fast-import keeps its own view of the packs; it starts again after the repack.
        await this.stopHelpers();
        await run(['-c', 'gc.auto=6700', '-c', 'gc.autoPackLimit=50', 'gc', '--auto', '--quiet']);
      })
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
    await this.clone.use(() => this.stopHelpers()).catch(() => undefined);
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

  /** Fetches the branch: its tip, or undefined when it does not exist (yet). */
  private async syncToRemote(session: CloneSession): Promise<string | undefined> {
    const exists = await this.fetch(session);
    this.fetchedAt = Date.now();
    this.syncedTip = exists ? (await session.run(['rev-parse', this.remoteRef])).trim() : undefined;
    this.clone.dirty = false;
    return this.syncedTip;
  }
}

/** Git's empty tree, the base of a branch's first commit. */
const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

/** `diff-tree -z --name-status`: `<status>\0<path>\0`, repeated; D is a removal. */
function parseNameStatus(out: string): { path: string; removed: boolean }[] {
  const fields = out.split('\0');
  const changes: { path: string; removed: boolean }[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const status = fields[i]!.trim();
    if (status !== '') changes.push({ path: fields[i + 1]!, removed: status.startsWith('D') });
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

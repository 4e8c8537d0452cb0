import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type { Logger } from 'pino';
import type { GitStateStore, Secret } from '../model/types';
import { gitFault } from './faults';
import { WorkingClone, type CloneSession } from './git-clone';
import { credentialsOf, GitEnv, parseRemote, type ParsedRemote } from './git-env';
import { applyPlan, planBatch, type WorkTreePlan } from './git-worktree';
import { takeTurn } from './git-turns';
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
  private readonly queue = new GroupQueue<QueuedUpdate, UpdateResult>(MAX_GROUP, (take) =>
    this.clone.use((session) => this.writeGroup(session, take)),
  );

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
      const release = await takeTurn(this.turnFile, TURNS);
      // Taken once our turn has come: whatever queued meanwhile joins this group.
      group ??= take();
      let round: Awaited<ReturnType<GitStateStoreWriter['writeRound']>>;
      try {
        round = await this.writeRound(session, group);
      } finally {
        await release();
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

  /** Fetch, commit each batch, push. `rejected` when another writer pushed first. */
  private async writeRound(
    session: CloneSession,
    group: QueuedUpdate[],
  ): Promise<{ results: (UpdateResult | Error)[]; rejected?: StateStoreError }> {
    const { dir, run } = session;
    const remoteExists = await this.syncToRemote(session);
    // The chain of this round's commits, built with plumbing (write-tree, commit-tree):
    // half the git calls of `git commit`, which keeps the fetch-to-push window short.
    let tip = remoteExists ? this.remoteRef : undefined;
    const results: (UpdateResult | Error)[] = [];
    for (const u of group) {
      this.clone.dirty = true;
      try {
        await applyPlan(dir, u.plan);
      } catch (err) {
        // e.g. a file where the batch needs a directory: this batch itself is wrong.
        const why = (err as Error).message.replace(dir + path.sep, '');
        results.push(
          new StateStoreError('GitStateStore', this.name, `cannot apply the batch: ${why}`, false),
        );
        // Back to the last commit (or nothing) for the batches after it.
        await run(tip ? ['read-tree', '--reset', '-u', tip] : ['read-tree', '--empty']);
        await run(['clean', '-ffdx']);
        this.clone.dirty = false;
        continue;
      }
      // `add -v` lists exactly what changed against the index, which holds the last commit
      // ("add '<path>'", "remove '<path>'"); a file rewritten with the same bytes is not
      // listed. Git compares bytes, so this is the unchanged check too.
      const added = await run(['add', '-A', '-f', '-v']);
      let filesWritten = 0;
      let filesDeleted = 0;
      for (const line of added.split('\n')) {
        if (line.startsWith('remove ')) filesDeleted++;
        else if (line.startsWith('add ')) filesWritten++;
      }
      this.clone.dirty = false; // the index holds everything in the work tree now
      if (filesWritten + filesDeleted === 0) {
        results.push({ changed: false, filesWritten: 0, filesDeleted: 0 });
        continue;
      }
      const tree = (await run(['write-tree'])).trim();
      const parent = tip ? ['-p', tip] : [];
      tip = (await run(['commit-tree', tree, ...parent, '-m', u.message])).trim();
      results.push({ changed: true, filesWritten, filesDeleted, revision: tip });
    }
    if (!results.some((r) => !(r instanceof Error) && r.changed)) return { results };
    try {
      // --porcelain prints to stdout: simple-git adds ~50 ms to commands that print nothing.
      await run(['push', '--porcelain', 'origin', `${tip}:refs/heads/${this.branch}`]);
      return { results };
    } catch (err) {
      const e = err as StateStoreError;
      // Anything but a lost race (remote down, missing…) goes to Temporal's retry policy.
      if (e.fault !== 'rejected' && e.fault !== 'contention') throw e;
      return { results, rejected: e };
    }
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
    if (exists) {
      await run(['checkout', '-f', '--no-track', '-B', this.branch, this.remoteRef]);
    } else {
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

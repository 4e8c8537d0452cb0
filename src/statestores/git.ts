import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Logger } from 'pino';
import { simpleGit, type SimpleGit } from 'simple-git';
import type { GitStateStore, Secret } from '../model/types';
import { scrub, secretFlag, secretValue } from './secret';
import {
  StateStoreError,
  type FileToWrite,
  type StateStoreWriter,
  type UpdateBatch,
  type UpdateResult,
} from './writer';

export interface GitStateStoreWriterOptions {
  store: GitStateStore;
  /**
   * Keys read: `username`/`password` (basic auth over HTTPS), `sshPrivateKey` (+ optional
   * `knownHosts`), and for self-signed HTTPS servers `caBundle` (PEM text) or
   * `insecureSkipTLSVerify: "true"`.
   */
  secret?: Secret;
  /** Local clones live under `<cacheDir>/git/`; one per (url, branch). */
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
  plan: ReturnType<GitStateStoreWriter['plan']>;
  message: string;
  resolve: (r: UpdateResult) => void;
  reject: (e: unknown) => void;
}

/** Clones whose work tree may hold files not in HEAD (an update failed before committing). */
const dirtyClones = new Set<string>();

/** In-process locks per clone directory: writers sharing a clone take turns. */
const cloneLocks = new Map<string, Promise<unknown>>();

async function withCloneLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = cloneLocks.get(key) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(fn);
  const tail = run.catch(() => undefined);
  cloneLocks.set(key, tail);
  try {
    return await run;
  } finally {
    // Drop the entry once nobody queued behind us, so the map does not grow forever.
    if (cloneLocks.get(key) === tail) cloneLocks.delete(key);
  }
}

/**
 * Normalises a root-relative path; refuses anything that could escape the work tree or
 * touch `.git`. Returns '' for the root itself.
 */
export function safeRelativePath(p: string, what = 'path'): string {
  const norm = path.posix.normalize(p.replace(/\\/g, '/')).replace(/^(\.\/)+/, '');
  const trimmed = norm === '.' || norm === './' ? '' : norm.replace(/\/+$/, '');
  if (trimmed.startsWith('/') || trimmed.split('/').some((s) => s === '..')) {
    throw new Error(`${what} "${p}" must stay inside the state store`);
  }
  if (trimmed.split('/').some((s) => s === '.git')) {
    throw new Error(`${what} "${p}" may not touch .git`);
  }
  return trimmed;
}

interface ParsedRemote {
  /** URL without userinfo: safe to store in .git/config and show. */
  url: string;
  /** `scheme://host[:port]/` for scoping the auth header, for http(s) only. */
  httpOrigin?: string;
  urlUser?: string;
  urlPassword?: string;
}

function parseRemote(raw: string): ParsedRemote {
  if (!/^https?:\/\//i.test(raw)) return { url: raw };
  const u = new URL(raw);
  const urlUser = u.username ? decodeURIComponent(u.username) : undefined;
  const urlPassword = u.password ? decodeURIComponent(u.password) : undefined;
  u.username = '';
  u.password = '';
  return { url: u.toString(), httpOrigin: `${u.protocol}//${u.host}/`, urlUser, urlPassword };
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Error text patterns → a clear, non-retryable cause. Order matters. */
const FATAL_PATTERNS: { re: RegExp; message: (url: string) => string }[] = [
  {
    re: /Authentication failed|could not read (Username|Password)|HTTP (Basic: )?Access denied|returned error: 40[13]|401 Unauthorized|403 Forbidden|Permission denied \(publickey|Permission to .* denied/i,
    message: (url) =>
      `authentication failed for ${url} (check the username/password or sshPrivateKey in the secret)`,
  },
  {
    re: /Host key verification failed/i,
    message: (url) => `SSH host key of ${url} is not in the secret's knownHosts`,
  },
  {
    re: /SSL certificate problem|server certificate verification failed|certificate verify failed|self[- ]signed certificate/i,
    message: (url) =>
      `TLS certificate of ${url} is not trusted (set caBundle or insecureSkipTLSVerify)`,
  },
  {
    re: /repository .* not found|does not appear to be a git repository|returned error: 404|not found|No such file or directory|does not exist/i,
    message: (url) => `repository ${url} does not exist or is not accessible`,
  },
];

const UNREACHABLE =
  /Could not resolve host|Failed to connect|Connection refused|Connection timed out|Connection reset|Network is unreachable|Could not read from remote repository|Empty reply from server|unable to access/i;

/**
 * Writes a Git repository branch the way Kratix does: keep a local clone, reset it to the
 * remote branch, apply the batch, commit once, push; on a rejected push start over.
 */
export class GitStateStoreWriter implements StateStoreWriter {
  private readonly name: string;
  private readonly remote: ParsedRemote;
  private readonly branch: string;
  private readonly repoDir: string;
  private readonly author: { name: string; email: string };
  private readonly timeoutMs: number;
  private readonly maxPushAttempts: number;
  private readonly secrets: string[];
  private authDir?: string;
  private envPromise?: Promise<Record<string, string>>;
  private initialised = false;

  constructor(private readonly options: GitStateStoreWriterOptions) {
    const { store, secret } = options;
    this.name = store.metadata.name;
    if (!store.spec?.url) {
      throw new StateStoreError('GitStateStore', this.name, 'spec.url is required', false);
    }
    this.remote = parseRemote(store.spec.url);
    this.branch = store.spec.branch || 'main';
    this.author = {
      name: options.author?.name ?? store.spec.gitAuthor?.name ?? DEFAULT_AUTHOR.name,
      email: options.author?.email ?? store.spec.gitAuthor?.email ?? DEFAULT_AUTHOR.email,
    };
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.maxPushAttempts = options.maxPushAttempts ?? 10;
    const key = createHash('sha256').update(`${this.remote.url}\n${this.branch}`).digest('hex');
    const label = this.remote.url
      .replace(/^[a-z]+:\/\//i, '')
      .replace(/[^A-Za-z0-9._-]+/g, '_')
      .slice(-40);
    this.repoDir = path.join(options.cacheDir, 'git', `${label}-${key.slice(0, 12)}`);
    const user = secretValue(secret, 'username') ?? this.remote.urlUser;
    const password = secretValue(secret, 'password') ?? this.remote.urlPassword;
    this.secrets = [password, user && password ? `${user}:${password}` : undefined].filter(
      (s): s is string => !!s,
    );
  }

  /**
   * Updates queued while another is in flight are written together: one fetch and one push
   * for the group, but still one commit per batch with its own message (Kratix's
   * "Update from: <placement>"), so concurrent activities do not pay a round trip each.
   */
  async update(batch: UpdateBatch): Promise<UpdateResult> {
    // Validate every path before touching the clone, so a bad batch fails fast and whole.
    const plan = this.plan(batch);
    return new Promise<UpdateResult>((resolve, reject) => {
      this.queue.push({ plan, message: batch.message || 'Update', resolve, reject });
      void this.drainQueue();
    });
  }

  private readonly queue: QueuedUpdate[] = [];
  private draining = false;

  private async drainQueue(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const group = this.queue.splice(0, MAX_GROUP);
        try {
          const results = await this.locked((git) => this.writeGroup(git, group));
          group.forEach((u, i) => {
            const r = results[i]!;
            if (r instanceof Error) u.reject(r);
            else u.resolve(r);
          });
        } catch (err) {
          for (const u of group) u.reject(err);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /** One commit per queued batch on top of the remote branch, then a single push. */
  private async writeGroup(
    git: SimpleGit,
    group: QueuedUpdate[],
  ): Promise<(UpdateResult | Error)[]> {
    for (let attempt = 1; ; attempt++) {
      const remoteExists = await this.syncToRemote(git);
      let hasHead = remoteExists;
      const results: (UpdateResult | Error)[] = [];
      for (const u of group) {
        dirtyClones.add(this.repoDir);
        try {
          await this.apply(u.plan);
        } catch (err) {
          // e.g. a file where the batch needs a directory: this batch itself is wrong.
          results.push(
            new StateStoreError(
              'GitStateStore',
              this.name,
              `cannot apply the batch: ${(err as Error).message.replace(this.repoDir + path.sep, '')}`,
              false,
            ),
          );
          // Back to the last commit (or nothing) for the batches after it.
          if (hasHead) await this.run(git, ['checkout', '-f', 'HEAD', '--', '.']);
          else await this.run(git, ['read-tree', '--empty']);
          await this.run(git, ['clean', '-ffdx']);
          dirtyClones.delete(this.repoDir);
          continue;
        }
        // Note: simple-git adds ~50 ms to any git command that prints nothing, so the common
        // path uses verbose flags and commands that always print (write-tree, rev-parse).
        await this.run(git, ['add', '-A', '-f', '-v']);
        const unchanged = () => {
          // The index now equals HEAD: the work tree holds nothing HEAD does not.
          dirtyClones.delete(this.repoDir);
          results.push({ changed: false, filesWritten: 0, filesDeleted: 0 });
        };
        if (hasHead) {
          const [tree, headTree] = await Promise.all([
            this.run(git, ['write-tree']),
            this.run(git, ['rev-parse', 'HEAD^{tree}']),
          ]);
          if (tree.trim() === headTree.trim()) {
            unchanged();
            continue;
          }
        }
        const diff = await this.run(git, ['diff', '--cached', '--name-status', '--no-renames']);
        let filesWritten = 0;
        let filesDeleted = 0;
        for (const line of diff.split('\n')) {
          if (line.startsWith('D')) filesDeleted++;
          else if (line.trim() !== '') filesWritten++;
        }
        if (filesWritten + filesDeleted === 0) {
          unchanged();
          continue;
        }
        await this.run(git, ['commit', '--no-verify', '-m', u.message]);
        // Everything written is in HEAD now; checking out the remote later removes it cleanly.
        dirtyClones.delete(this.repoDir);
        hasHead = true;
        const revision = (await this.run(git, ['rev-parse', 'HEAD'])).trim();
        results.push({ changed: true, filesWritten, filesDeleted, revision });
      }
      if (!results.some((r) => !(r instanceof Error) && r.changed)) return results;
      try {
        await this.run(git, ['push', 'origin', `HEAD:refs/heads/${this.branch}`]);
        return results;
      } catch (err) {
        const e = this.toStateStoreError(err, 'push');
        // Someone else pushed first (or created the branch): redo the group on top.
        if (!e.retryable || attempt >= this.maxPushAttempts) {
          if (e.retryable) {
            throw new StateStoreError(
              'GitStateStore',
              this.name,
              `push to ${this.remote.url} still rejected after ${attempt} attempts: ${e.message.replace(`GitStateStore "${this.name}": `, '')}`,
            );
          }
          throw e;
        }
        this.options.logger?.debug(
          { store: this.name, attempt, remoteExists, batches: group.length },
          'git push rejected; fetching and re-applying',
        );
        await sleep(20 + Math.random() * 80 * attempt);
      }
    }
  }

  async readFile(file: string): Promise<string | undefined> {
    const rel = this.checkedPath(file, 'file');
    return this.locked(async (git) => {
      if (!(await this.fetch(git)) || rel === '') return undefined;
      const entry = await this.run(git, ['ls-tree', '-z', this.remoteRef, '--', rel]);
      const m = /^\d+ blob ([0-9a-f]+)\t/.exec(entry);
      if (!m?.[1]) return undefined;
      return this.run(git, ['cat-file', 'blob', m[1]]);
    });
  }

  async listFiles(dir: string): Promise<string[]> {
    const rel = this.checkedPath(dir, 'dir');
    return this.locked(async (git) => {
      if (!(await this.fetch(git))) return [];
      const args = ['ls-tree', '-r', '-z', '--name-only', this.remoteRef];
      const out = await this.run(git, rel === '' ? args : [...args, '--', rel]);
      return out.split('\0').filter((p) => p !== '');
    });
  }

  async validatePermissions(): Promise<void> {
    // ls-remote proves the URL, the network path, TLS and the credentials; a push with no
    // commit cannot prove write access without writing, so that is left to the first write.
    await this.locked(async (git) => {
      await this.run(git, ['ls-remote', '--heads', 'origin', `refs/heads/${this.branch}`]);
    });
  }

  async close(): Promise<void> {
    if (this.authDir) await rm(this.authDir, { recursive: true, force: true });
    this.authDir = undefined;
    this.envPromise = undefined;
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

  private plan(batch: UpdateBatch) {
    const toFiles = (base: string, files: FileToWrite[]) =>
      files.map((f) => {
        const rel = safeRelativePath(base === '' ? f.path : `${base}/${f.path}`, 'file');
        if (rel === '') throw new Error(`file path "${f.path}" is empty`);
        return { path: rel, content: f.content };
      });
    try {
      return {
        replaceDirs: (batch.replaceDirs ?? []).map((d) => {
          const dir = safeRelativePath(d.dir, 'dir');
          return { dir, files: toFiles(dir, d.files) };
        }),
        writeFiles: toFiles('', batch.writeFiles ?? []),
        deletePaths: (batch.deletePaths ?? []).map((p) => safeRelativePath(p, 'deletePath')),
      };
    } catch (err) {
      throw new StateStoreError('GitStateStore', this.name, (err as Error).message, false);
    }
  }

  private async apply(plan: ReturnType<GitStateStoreWriter['plan']>): Promise<void> {
    const abs = (rel: string) => path.join(this.repoDir, rel);
    const removeRel = async (rel: string) => {
      if (rel === '') {
        // Replacing the root: empty the work tree but keep the repository itself.
        for (const entry of await readdir(this.repoDir)) {
          if (entry !== '.git') await rm(abs(entry), { recursive: true, force: true });
        }
      } else {
        await unlinkSymlinkParents(rel);
        await rm(abs(rel), { recursive: true, force: true });
      }
    };
    // The repository's content is not ours to trust: a committed symlink on the way to a
    // path would make us write or delete outside the clone. Such links become directories.
    const unlinkSymlinkParents = async (rel: string) => {
      let cur = this.repoDir;
      for (const part of rel.split('/').slice(0, -1)) {
        cur = path.join(cur, part);
        const st = await lstat(cur).catch(() => undefined);
        if (!st) return;
        if (st.isSymbolicLink()) await rm(cur, { force: true });
      }
    };
    const write = async (f: { path: string; content: string }) => {
      await unlinkSymlinkParents(f.path);
      await mkdir(path.dirname(abs(f.path)), { recursive: true });
      // rm first so a symlink at the target itself is replaced, not followed.
      const st = await lstat(abs(f.path)).catch(() => undefined);
      if (st?.isSymbolicLink()) await rm(abs(f.path), { force: true });
      await writeFile(abs(f.path), f.content);
    };
    for (const d of plan.replaceDirs) {
      await removeRel(d.dir);
      for (const f of d.files) await write(f);
    }
    for (const f of plan.writeFiles) await write(f);
    for (const p of plan.deletePaths) await removeRel(p);
  }

  /** Fetches the branch; false when the remote does not have it (yet). */
  private async fetch(git: SimpleGit): Promise<boolean> {
    try {
      await this.run(git, [
        'fetch',
        '-v',
        '--no-tags',
        'origin',
        `+refs/heads/${this.branch}:${this.remoteRef}`,
      ]);
      return true;
    } catch (err) {
      if (/couldn't find remote ref/i.test(errorText(err))) {
        // Branch absent (empty repository, or deleted): forget any stale tracking ref.
        await this.run(git, ['update-ref', '-d', this.remoteRef]);
        return false;
      }
      throw err;
    }
  }

  /** Makes the work tree exactly the remote branch (or empty on a new branch). */
  private async syncToRemote(git: SimpleGit): Promise<boolean> {
    const exists = await this.fetch(git);
    if (exists) {
      await this.run(git, ['checkout', '-f', '--no-track', '-B', this.branch, this.remoteRef]);
    } else {
      await this.run(git, ['symbolic-ref', 'HEAD', `refs/heads/${this.branch}`]);
      await this.run(git, ['update-ref', '-d', `refs/heads/${this.branch}`]);
      await this.run(git, ['read-tree', '--empty']);
    }
    // Untracked leftovers exist only after an update failed before committing (or on a
    // new branch, where everything became untracked).
    if (!exists || dirtyClones.has(this.repoDir)) {
      await this.run(git, ['clean', '-ffdx']);
      dirtyClones.delete(this.repoDir);
    }
    return exists;
  }

  private async locked<T>(fn: (git: SimpleGit) => Promise<T>): Promise<T> {
    return withCloneLock(this.repoDir, async () => {
      const git = simpleGit({
        baseDir: await this.ensureRepoDir(),
        maxConcurrentProcesses: 1,
        timeout: { block: this.timeoutMs },
        // We set these ourselves (auth header, helper reset, SSH command), never from input.
        unsafe: {
          allowUnsafeConfigEnvCount: true,
          allowUnsafeSshCommand: true,
          allowUnsafeCredentialHelper: true,
        },
      }).env(await this.env());
      // A git killed mid-command (timeout, crash) leaves its lock behind; we hold the clone's
      // lock, so any index.lock here is stale.
      await rm(path.join(this.repoDir, '.git', 'index.lock'), { force: true });
      if (!this.initialised) {
        // A clone left by an earlier process may hold anything.
        dirtyClones.add(this.repoDir);
        if (!existsSync(path.join(this.repoDir, '.git', 'HEAD'))) {
          await this.run(git, ['init', '-q']);
        }
        await this.run(git, ['config', 'core.autocrlf', 'false']);
        await this.run(git, ['config', 'commit.gpgsign', 'false']);
        const remotes = await this.run(git, ['remote']);
        const verb = remotes.split('\n').includes('origin') ? 'set-url' : 'add';
        await this.run(git, ['remote', verb, 'origin', this.remote.url]);
        this.initialised = true;
      }
      return fn(git);
    });
  }

  private async ensureRepoDir(): Promise<string> {
    await mkdir(this.repoDir, { recursive: true });
    return this.repoDir;
  }

  private env(): Promise<Record<string, string>> {
    this.envPromise ??= this.buildEnv();
    return this.envPromise;
  }

  private async buildEnv(): Promise<Record<string, string>> {
    const { secret } = this.options;
    const env: Record<string, string> = {};
    // Inherited GIT_* variables (GIT_DIR from a hook, a user's GIT_SSH_COMMAND…) would
    // redirect or change what we run; editors/pagers are never wanted and simple-git
    // refuses to run with them set.
    for (const [k, v] of Object.entries(process.env)) {
      if (v !== undefined && !/^(GIT_.*|SSH_ASKPASS|EDITOR|VISUAL|PAGER|PREFIX)$/i.test(k))
        env[k] = v;
    }
    env.GIT_TERMINAL_PROMPT = '0';
    env.GIT_AUTHOR_NAME = this.author.name;
    env.GIT_AUTHOR_EMAIL = this.author.email;
    env.GIT_COMMITTER_NAME = this.author.name;
    env.GIT_COMMITTER_EMAIL = this.author.email;

    // Config via GIT_CONFIG_* env: never on the command line (ps) nor in .git/config.
    const stallSeconds = String(Math.max(1, Math.ceil(this.timeoutMs / 1000)));
    const config: [string, string][] = [
      ['credential.helper', ''],
      // Let curl itself give up on a stalled transfer, so no git-remote-http outlives us.
      ['http.lowSpeedLimit', '1'],
      ['http.lowSpeedTime', stallSeconds],
    ];
    const user = secretValue(secret, 'username') ?? this.remote.urlUser;
    const password = secretValue(secret, 'password') ?? this.remote.urlPassword;
    if (this.remote.httpOrigin && (user || password)) {
      const token = Buffer.from(`${user ?? ''}:${password ?? ''}`).toString('base64');
      config.push([`http.${this.remote.httpOrigin}.extraHeader`, `Authorization: Basic ${token}`]);
    }
    const caBundle = secretValue(secret, 'caBundle');
    let caFile = this.options.caFile;
    if (caBundle) caFile = await this.writeAuthFile('ca.pem', caBundle);
    if (caFile) config.push(['http.sslCAInfo', caFile]);
    if (this.options.insecureSkipTLSVerify || secretFlag(secret, 'insecureSkipTLSVerify')) {
      config.push(['http.sslVerify', 'false']);
    }
    config.forEach(([k, v], i) => {
      env[`GIT_CONFIG_KEY_${i}`] = k;
      env[`GIT_CONFIG_VALUE_${i}`] = v;
    });
    env.GIT_CONFIG_COUNT = String(config.length);

    const sshKey = secretValue(secret, 'sshPrivateKey');
    if (sshKey) {
      const keyFile = await this.writeAuthFile(
        'id_key',
        sshKey.endsWith('\n') ? sshKey : `${sshKey}\n`,
      );
      const knownHosts = secretValue(secret, 'knownHosts');
      const hostOpts = knownHosts
        ? `-o UserKnownHostsFile=${shellQuote(await this.writeAuthFile('known_hosts', knownHosts))} -o StrictHostKeyChecking=yes`
        : '-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no';
      if (!knownHosts) {
        this.options.logger?.warn(
          { store: this.name },
          'no knownHosts in the secret: SSH host keys are not verified',
        );
      }
      env.GIT_SSH_COMMAND = `ssh -i ${shellQuote(keyFile)} -o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout=20 ${hostOpts}`;
    }
    return env;
  }

  private async writeAuthFile(name: string, content: string): Promise<string> {
    this.authDir ??= await mkdtemp(path.join(tmpdir(), 'promiseflow-git-auth-'));
    const file = path.join(this.authDir, name);
    await writeFile(file, content, { mode: 0o600 });
    await chmod(file, 0o600);
    return file;
  }

  /** Runs git; any failure becomes a StateStoreError with credentials scrubbed. */
  private async run(git: SimpleGit, args: string[]): Promise<string> {
    try {
      return await git.raw(args);
    } catch (err) {
      // fetch needs the raw text to spot a missing branch; everything else is mapped.
      if (args[0] === 'fetch' && /couldn't find remote ref/i.test(errorText(err))) throw err;
      throw this.toStateStoreError(err, args[0] ?? 'git');
    }
  }

  private toStateStoreError(err: unknown, command: string): StateStoreError {
    if (err instanceof StateStoreError) return err;
    const raw = errorText(err);
    // Keep git's own lines (they name the cause) but drop its generic advice.
    const text = scrub(raw, this.secrets)
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !/^(hint:|Please make sure|and the repository exists)/.test(l))
      .join(' / ')
      .slice(0, 600);
    const url = this.remote.url;
    if ((err as { plugin?: string }).plugin === 'timeout') {
      return new StateStoreError(
        'GitStateStore',
        this.name,
        `git ${command} against ${url} timed out after ${Math.round(this.timeoutMs / 1000)}s`,
      );
    }
    for (const p of FATAL_PATTERNS) {
      if (p.re.test(raw)) {
        return new StateStoreError('GitStateStore', this.name, `${p.message(url)}: ${text}`, false);
      }
    }
    if (UNREACHABLE.test(raw)) {
      return new StateStoreError('GitStateStore', this.name, `cannot reach ${url}: ${text}`);
    }
    return new StateStoreError('GitStateStore', this.name, `git ${command} failed: ${text}`);
  }
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

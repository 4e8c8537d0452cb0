import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Secret } from '../model/types';
import { secretFlag, secretValue } from './secret';

/**
 * How git reaches a remote: the URL without credentials, and an environment carrying the
 * credentials, the trusted CA and the SSH settings. Credentials reach git only through its
 * environment (and 0600 files in a private temporary directory), never its command line,
 * `.git/config`, logs or errors.
 */
export interface ParsedRemote {
  /** URL without userinfo: safe to store in .git/config and show. */
  url: string;
  /** `scheme://host[:port]/` for scoping the auth header, for http(s) only. */
  httpOrigin?: string;
  urlUser?: string;
  urlPassword?: string;
}

/** Throws on a malformed http(s) URL (bad input). */
export function parseRemote(raw: string): ParsedRemote {
  if (!/^https?:\/\//i.test(raw)) return { url: raw };
  const u = new URL(raw);
  const urlUser = u.username ? decodeURIComponent(u.username) : undefined;
  const urlPassword = u.password ? decodeURIComponent(u.password) : undefined;
  u.username = '';
  u.password = '';
  return { url: u.toString(), httpOrigin: `${u.protocol}//${u.host}/`, urlUser, urlPassword };
}

export interface GitEnvOptions {
  remote: ParsedRemote;
  secret?: Secret;
  author: { name: string; email: string };
  timeoutMs: number;
  caFile?: string;
  insecureSkipTLSVerify?: boolean;
  warn?: (message: string) => void;
}

/** Secret values that must never show in messages (for scrubbing). */
export function credentialsOf(remote: ParsedRemote, secret: Secret | undefined): string[] {
  const user = secretValue(secret, 'username') ?? remote.urlUser;
  const password = secretValue(secret, 'password') ?? remote.urlPassword;
  return [password, user && password ? `${user}:${password}` : undefined].filter(
    (s): s is string => !!s,
  );
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The environment of every git command of one writer, and the files it needs. */
export class GitEnv {
  private authDir?: string;
  private envPromise?: Promise<Record<string, string>>;

  constructor(private readonly options: GitEnvOptions) {}

  get(): Promise<Record<string, string>> {
    this.envPromise ??= this.build();
    return this.envPromise;
  }

  async close(): Promise<void> {
    if (this.authDir) await rm(this.authDir, { recursive: true, force: true });
    this.authDir = undefined;
    this.envPromise = undefined;
  }

  private async build(): Promise<Record<string, string>> {
    const { secret, remote, author } = this.options;
    const env: Record<string, string> = {};
    // Inherited GIT_* variables (GIT_DIR from a hook, a user's GIT_SSH_COMMAND…) would
    // redirect or change what we run; editors/pagers are never wanted and simple-git
    // refuses to run with them set.
    for (const [k, v] of Object.entries(process.env)) {
      if (v !== undefined && !/^(GIT_.*|SSH_ASKPASS|EDITOR|VISUAL|PAGER|PREFIX)$/i.test(k))
        env[k] = v;
    }
    env.GIT_TERMINAL_PROMPT = '0';
    env.GIT_AUTHOR_NAME = author.name;
    env.GIT_AUTHOR_EMAIL = author.email;
    env.GIT_COMMITTER_NAME = author.name;
    env.GIT_COMMITTER_EMAIL = author.email;

    // Config via GIT_CONFIG_* env: never on the command line (ps) nor in .git/config.
    const stallSeconds = String(Math.max(1, Math.ceil(this.options.timeoutMs / 1000)));
    const config: [string, string][] = [
      ['credential.helper', ''],
      // The clone's own behaviour: bytes as written, no signing prompt, and no gc left
      // running in the background while the next command needs the clone's locks.
      ['core.autocrlf', 'false'],
      ['commit.gpgsign', 'false'],
      ['gc.autoDetach', 'false'],
      // Let curl itself give up on a stalled transfer, so no git-remote-http outlives us.
      ['http.lowSpeedLimit', '1'],
      ['http.lowSpeedTime', stallSeconds],
    ];
    const user = secretValue(secret, 'username') ?? remote.urlUser;
    const password = secretValue(secret, 'password') ?? remote.urlPassword;
    if (remote.httpOrigin && (user || password)) {
      const token = Buffer.from(`${user ?? ''}:${password ?? ''}`).toString('base64');
      config.push([`http.${remote.httpOrigin}.extraHeader`, `Authorization: Basic ${token}`]);
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
      if (!knownHosts)
        this.options.warn?.('no knownHosts in the secret: SSH host keys are not verified');
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
}

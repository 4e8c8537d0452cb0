import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface GitHttpsServer {
  /** `https://127.0.0.1:<port>/<repo>` for a repository path below `root`. */
  url(repo: string): string;
  /** PEM of the self-signed certificate (trust it with `http.sslCAInfo`). */
  caFile: string;
  /** Requests seen so far, for assertions about traffic. */
  requests: number;
  stop(): Promise<void>;
}

export interface StartGitHttpsServerOptions {
  /** Directory holding bare repositories (create them with createBareRepo). */
  root: string;
  username: string;
  password: string;
}

async function ensureOpenssl(): Promise<void> {
  try {
    await exec('openssl', ['version']);
  } catch {
    // Debian images without openssl: install it once.
    execFileSync('apt-get', ['install', '-y', '-q', 'openssl'], { stdio: 'ignore' });
  }
}

/**
 * Smart-HTTP Git over HTTPS with basic auth: a Node https server in front of
 * `git http-backend` (CGI), with a throw-away self-signed certificate for 127.0.0.1.
 */
export async function startGitHttpsServer(
  options: StartGitHttpsServerOptions,
): Promise<GitHttpsServer> {
  await ensureOpenssl();
  const certDir = await mkdtemp(path.join(tmpdir(), 'git-https-cert-'));
  const keyFile = path.join(certDir, 'key.pem');
  const certFile = path.join(certDir, 'cert.pem');
  await exec('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout',
    keyFile,
    '-out',
    certFile,
  ]);
  const execPath = (await exec('git', ['--exec-path'])).stdout.trim();
  const backend = path.join(execPath, 'git-http-backend');
  const expectedAuth =
    'Basic ' + Buffer.from(`${options.username}:${options.password}`).toString('base64');

  const state = { requests: 0 };
  const server: Server = createServer(
    { key: await readFile(keyFile), cert: await readFile(certFile) },
    (req, res) => {
      state.requests++;
      if (req.headers.authorization !== expectedAuth) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' });
        res.end('unauthorized\n');
        return;
      }
      const url = new URL(req.url ?? '/', 'https://127.0.0.1');
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: options.root,
        GIT_HTTP_EXPORT_ALL: '1',
        REMOTE_USER: options.username,
        REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
        REQUEST_METHOD: req.method ?? 'GET',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.replace(/^\?/, ''),
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        SERVER_PROTOCOL: 'HTTP/1.1',
        GATEWAY_INTERFACE: 'CGI/1.1',
      };
      if (req.headers['content-length']) env.CONTENT_LENGTH = req.headers['content-length'];
      if (req.headers['content-encoding'])
        env.HTTP_CONTENT_ENCODING = req.headers['content-encoding'];
      const proto = req.headers['git-protocol'];
      if (typeof proto === 'string') env.GIT_PROTOCOL = proto;

      const cgi = spawn(backend, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      req.pipe(cgi.stdin);
      cgi.stdin.on('error', () => undefined);
      let stderr = '';
      cgi.stderr.on('data', (b: Buffer) => (stderr += b.toString()));

      // CGI output: headers, a blank line, then the body (streamed through).
      let head = Buffer.alloc(0);
      let headersDone = false;
      cgi.stdout.on('data', (chunk: Buffer) => {
        if (headersDone) {
          res.write(chunk);
          return;
        }
        head = Buffer.concat([head, chunk]);
        const text = head.toString('latin1');
        const m = /\r?\n\r?\n/.exec(text);
        if (!m) return;
        headersDone = true;
        let status = 200;
        const headers: Record<string, string> = {};
        for (const line of text.slice(0, m.index).split(/\r?\n/)) {
          const i = line.indexOf(':');
          if (i < 0) continue;
          const name = line.slice(0, i).trim();
          const value = line.slice(i + 1).trim();
          if (name.toLowerCase() === 'status') status = parseInt(value, 10) || 200;
          else headers[name] = value;
        }
        res.writeHead(status, headers);
        res.write(head.subarray(m.index + m[0].length));
      });
      cgi.on('close', (code) => {
        if (!headersDone) {
          res.writeHead(500, { 'Content-Type': 'text/plain' });
          res.end(`git http-backend failed (${code}): ${stderr}`);
          return;
        }
        res.end();
      });
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: (repo: string) => `https://127.0.0.1:${port}/${repo.replace(/^\/+/, '')}`,
    caFile: certFile,
    get requests() {
      return state.requests;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(certDir, { recursive: true, force: true });
    },
  };
}

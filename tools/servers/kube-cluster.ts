/**
 * A real Kubernetes control plane on loopback for `npm run dev -- --kubernetes`, the demo
 * and the tests: etcd and kube-apiserver built from Go modules by scripts/install-kube.sh.
 * No controller-manager, scheduler or kubelet: objects, CRDs, watches, finalizers and
 * admission policies work; Pods never run (pipelines run in Promiseflow's own runner).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import { cacheDir } from '../../src/config';
import { freePort } from './ports';

export interface KubeCluster {
  /** Absolute path of the kubeconfig written for this cluster (admin token). */
  kubeconfig: string;
  server: string;
  /** The `kubectl` built beside the servers, else the one on PATH. */
  kubectl: string;
  /** Environment for child processes (`KUBECONFIG` set). */
  env: NodeJS.ProcessEnv;
  /** Kills kube-apiserver (SIGKILL) and starts it again on the same etcd and port. */
  restartApiServer(): Promise<void>;
  stop(): Promise<void>;
}

export interface StartKubeClusterOptions {
  /** etcd data, certificates, keys and the kubeconfig go here. */
  dir: string;
  binDir?: string;
  /** kube-apiserver's port (default: a free one). */
  apiPort?: number;
  readyTimeoutMs?: number;
}

export function kubeBinDir(): string {
  return path.join(cacheDir(), 'bin');
}

export function kubectlBinary(binDir = kubeBinDir()): string {
  const built = path.join(binDir, 'kubectl');
  return fs.existsSync(built) ? built : 'kubectl';
}

interface Proc {
  child: ChildProcess;
  exited: Promise<number | null>;
  done: boolean;
  output: () => string;
}

function run(bin: string, args: string[], logFile: string): Proc {
  const out = fs.openSync(logFile, 'a');
  const child = spawn(bin, args, { stdio: ['ignore', out, out], detached: true });
  fs.closeSync(out);
  const proc: Proc = {
    child,
    done: false,
    exited: new Promise((resolve) =>
      child.once('exit', (code) => {
        proc.done = true;
        resolve(code);
      }),
    ),
    output: () => {
      try {
        return fs.readFileSync(logFile, 'utf8').slice(-3000);
      } catch {
        return '';
      }
    },
  };
  return proc;
}

function kill(proc: Proc | undefined, signal: NodeJS.Signals): void {
  if (!proc || proc.done) return;
  try {
    process.kill(-proc.child.pid!, signal);
  } catch {
    // already gone
  }
}

async function stopProc(proc: Proc | undefined): Promise<void> {
  if (!proc || proc.done) return;
  kill(proc, 'SIGTERM');
  const timer = setTimeout(() => kill(proc, 'SIGKILL'), 5000);
  await proc.exited;
  clearTimeout(timer);
}

async function waitFor(
  what: string,
  proc: Proc,
  timeoutMs: number,
  probe: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.done) throw new Error(`${what} exited during start-up:\n${proc.output()}`);
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) {
      throw new Error(`${what} not ready within ${timeoutMs} ms:\n${proc.output()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

function httpsGet(url: string, ca: Buffer, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      url,
      { ca, headers: { Authorization: `Bearer ${token}` }, timeout: 2000 },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

export async function startKubeCluster(options: StartKubeClusterOptions): Promise<KubeCluster> {
  const binDir = options.binDir ?? kubeBinDir();
  for (const bin of ['etcd', 'kube-apiserver']) {
    if (!fs.existsSync(path.join(binDir, bin))) {
      throw new Error(
        `${bin} not found in ${binDir}: run scripts/setup.sh (scripts/install-kube.sh)`,
      );
    }
  }
  const dir = path.resolve(options.dir);
  const certDir = path.join(dir, 'certs');
  fs.mkdirSync(certDir, { recursive: true });
  const timeout = options.readyTimeoutMs ?? 60_000;
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const apiPort = options.apiPort ?? (await freePort());

  const etcd = run(
    path.join(binDir, 'etcd'),
    [
      '--name=promiseflow',
      `--data-dir=${path.join(dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${clientPort}`,
      `--advertise-client-urls=http://127.0.0.1:${clientPort}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=promiseflow=http://127.0.0.1:${peerPort}`,
      // Throw-away clusters: durability across power loss is not wanted, speed is.
      '--unsafe-no-fsync=true',
      '--log-level=warn',
    ],
    path.join(dir, 'etcd.log'),
  );
  await waitFor('etcd', etcd, timeout, async () => {
    const res = await fetch(`http://127.0.0.1:${clientPort}/health`, {
      signal: AbortSignal.timeout(1000),
    });
    return res.ok;
  });

  // Service-account signing key and the admin token: made here, never reused.
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const saKey = path.join(dir, 'sa.key');
  const saPub = path.join(dir, 'sa.pub');
  fs.writeFileSync(saKey, privateKey.export({ type: 'pkcs1', format: 'pem' }), { mode: 0o600 });
  fs.writeFileSync(saPub, publicKey.export({ type: 'spki', format: 'pem' }));
  const token = randomBytes(24).toString('hex');
  const tokens = path.join(dir, 'tokens.csv');
  fs.writeFileSync(tokens, `${token},admin,admin-uid,system:masters\n`, { mode: 0o600 });

  const apiArgs = [
    `--etcd-servers=http://127.0.0.1:${clientPort}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${apiPort}`,
    `--cert-dir=${certDir}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    '--service-account-issuer=https://kubernetes.default.svc',
    `--service-account-key-file=${saPub}`,
    `--service-account-signing-key-file=${saKey}`,
    `--token-auth-file=${tokens}`,
    '--authorization-mode=RBAC',
    // No controller-manager creates service accounts' tokens here.
    '--disable-admission-plugins=ServiceAccount',
    // Loopback only: no endpoint for the `kubernetes` Service to reconcile.
    '--endpoint-reconciler-type=none',
  ];
  const apiLog = path.join(dir, 'kube-apiserver.log');
  const server = `https://127.0.0.1:${apiPort}`;
  let apiserver = run(path.join(binDir, 'kube-apiserver'), apiArgs, apiLog);
  // It self-signs: apiserver.crt holds the serving certificate followed by its CA.
  const caOf = () => {
    const pem = fs.readFileSync(path.join(certDir, 'apiserver.crt'), 'utf8');
    const certs = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g);
    return Buffer.from(certs?.[1] ?? certs?.[0] ?? '');
  };
  const waitReady = (proc: Proc) =>
    waitFor('kube-apiserver', proc, timeout, async () => {
      if (!fs.existsSync(path.join(certDir, 'apiserver.crt'))) return false;
      return (await httpsGet(`${server}/readyz`, caOf(), token)) === 200;
    });
  try {
    await waitReady(apiserver);
  } catch (err) {
    await stopProc(apiserver);
    await stopProc(etcd);
    throw err;
  }

  const kubeconfig = path.join(dir, 'kubeconfig');
  fs.writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '  - name: promiseflow',
      '    cluster:',
      `      server: ${server}`,
      `      certificate-authority-data: ${caOf().toString('base64')}`,
      'users:',
      '  - name: admin',
      '    user:',
      `      token: ${token}`,
      'contexts:',
      '  - name: promiseflow',
      '    context: {cluster: promiseflow, user: admin}',
      'current-context: promiseflow',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );

  const killAll = () => {
    kill(apiserver, 'SIGKILL');
    kill(etcd, 'SIGKILL');
  };
  process.once('exit', killAll);
  return {
    kubeconfig,
    server,
    kubectl: kubectlBinary(binDir),
    env: { ...process.env, KUBECONFIG: kubeconfig },
    async restartApiServer() {
      kill(apiserver, 'SIGKILL');
      await apiserver.exited;
      apiserver = run(path.join(binDir, 'kube-apiserver'), apiArgs, apiLog);
      await waitReady(apiserver);
    },
    async stop() {
      process.removeListener('exit', killAll);
      await stopProc(apiserver);
      await stopProc(etcd);
    },
  };
}

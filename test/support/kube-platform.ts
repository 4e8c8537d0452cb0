import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import { expect, inject } from 'vitest';
import { PROJECT_ROOT, resolveConfig } from '../../src/config';
import type { PromiseflowConfig } from '../../src/config';
import { createLogger } from '../../src/logging';
import { startKubeCluster } from '../../tools/servers/kube-cluster';
import type { KubeCluster } from '../../tools/servers/kube-cluster';
import { connectClient } from '../../src/temporal/client';
import { installTemporalRuntime } from '../../src/worker/runtime';
import { createPromiseflowWorker } from '../../src/worker/worker';
import type { WorkerHandle } from '../../src/worker/worker';

const exec = promisify(execFile);

export interface KubectlResult {
  stdout: string;
  stderr: string;
  code: number;
}

/**
 * A platform on a real cluster, per test file: its own etcd + kube-apiserver, its own task
 * queue on the run's Temporal dev server, a real worker (in this process, on the
 * Kubernetes platform store) and the bridge as a separate `promiseflow bridge` process that
 * tests may kill. Users' commands go through the real `kubectl`.
 */
export interface KubePlatform {
  dir: string;
  cluster: KubeCluster;
  config: PromiseflowConfig;
  temporal: Client;
  workerLog: string;
  /** `kubectl ARGS` as a user types it (stdin optional). */
  kubectl(args: string[], input?: string): Promise<KubectlResult>;
  /** Like kubectl, failing the test when it exits non-zero; returns stdout. */
  kubectlOk(args: string[], input?: string): Promise<string>;
  /** Starts a bridge process (several may run: they elect one leader). */
  startBridge(name?: string): ChildProcess;
  /** SIGKILLs every bridge process started so far. */
  killBridges(): Promise<void>;
  /** Polls `check` until it returns true (or a value), failing after `timeoutMs`. */
  eventually<T>(
    what: string,
    check: () => Promise<T | false | undefined>,
    timeoutMs?: number,
  ): Promise<T>;
  stop(): Promise<void>;
}

export async function startKubePlatform(
  name: string,
  options: { bridge?: boolean } = {},
): Promise<KubePlatform> {
  installTemporalRuntime('WARN');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `promiseflow-kube-${name}-`));
  const cluster = await startKubeCluster({ dir: path.join(dir, 'cluster') });
  const config = resolveConfig({
    dataDir: path.join(dir, 'data'),
    temporalAddress: inject('temporalAddress'),
    taskQueue: `kube-${name}-${path.basename(dir)}`,
    platform: 'kubernetes',
    kubeconfig: cluster.kubeconfig,
  });
  const workerLog = path.join(dir, 'worker.log');
  const worker: WorkerHandle = await createPromiseflowWorker(
    config,
    createLogger({ file: workerLog, level: 'debug' }),
  );
  const running = worker.run();
  const temporal = await connectClient(config);
  const bridges: ChildProcess[] = [];
  const env = {
    ...cluster.env,
    PROMISEFLOW_DATA_DIR: config.dataDir,
    PROMISEFLOW_TEMPORAL_ADDRESS: config.temporal.address,
    PROMISEFLOW_TASK_QUEUE: config.temporal.taskQueue,
    PROMISEFLOW_LOG_LEVEL: 'debug',
  };

  const kubectl = async (args: string[], input?: string): Promise<KubectlResult> => {
    const child = exec(cluster.kubectl, args, { env: cluster.env, cwd: PROJECT_ROOT });
    if (input !== undefined) child.child.stdin?.end(input);
    try {
      const { stdout, stderr } = await child;
      return { stdout, stderr, code: 0 };
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; code?: number };
      return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: e.code ?? 1 };
    }
  };

  const platform: KubePlatform = {
    dir,
    cluster,
    config,
    temporal: temporal.client,
    workerLog,
    kubectl,
    async kubectlOk(args, input) {
      const r = await kubectl(args, input);
      expect(r.code, `kubectl ${args.join(' ')}\n${r.stdout}${r.stderr}`).toBe(0);
      return r.stdout;
    },
    startBridge(label = `bridge-${bridges.length + 1}`) {
      const out = fs.openSync(path.join(dir, `${label}.log`), 'a');
      const child = spawn(
        process.execPath,
        [path.join(PROJECT_ROOT, 'bin', 'promiseflow'), 'bridge', '--resync', '5'],
        { env, cwd: dir, stdio: ['ignore', out, out] },
      );
      fs.closeSync(out);
      bridges.push(child);
      return child;
    },
    async killBridges() {
      await Promise.all(
        bridges.splice(0).map(
          (b) =>
            new Promise<void>((resolve) => {
              if (b.exitCode !== null || b.signalCode !== null) return resolve();
              b.once('exit', () => resolve());
              b.kill('SIGKILL');
            }),
        ),
      );
    },
    async eventually(what, check, timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      let last: unknown;
      for (;;) {
        try {
          const v = await check();
          if (v !== false && v !== undefined) return v as never;
        } catch (err) {
          last = err;
        }
        if (Date.now() > deadline) {
          throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
        }
        await new Promise((r) => setTimeout(r, 300));
      }
    },
    async stop() {
      await platform.killBridges();
      await worker.shutdown();
      await running;
      await temporal.close();
      await cluster.stop();
    },
  };
  if (options.bridge !== false) platform.startBridge();
  return platform;
}

/** Fills `${VAR}` placeholders of an example file. */
export function renderExample(file: string, vars: Record<string, string>): string {
  const text = fs.readFileSync(path.join(PROJECT_ROOT, file), 'utf8');
  return text.replace(/\$\{(\w+)\}/g, (m, k: string) => vars[k] ?? m);
}

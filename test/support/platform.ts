import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { inject } from 'vitest';
import { PromiseflowClient } from '../../src/client/platform-client';
import { PROJECT_ROOT, resolveConfig } from '../../src/config';
import type { PromiseflowConfig } from '../../src/config';
import { createLogger } from '../../src/logging';
import { openSqlitePlatformStore } from '../../src/platform/sqlite';
import { connectClient } from '../../src/temporal/client';
import { installTemporalRuntime } from '../../src/worker/runtime';
import { createPromiseflowWorker } from '../../src/worker/worker';
import type { WorkerHandle } from '../../src/worker/worker';

const exec = promisify(execFile);

export interface TestPlatform {
  config: PromiseflowConfig;
  dir: string;
  logFile: string;
  client: PromiseflowClient;
  /** Runs the real CLI (`bin/promiseflow`, compiled by `npm test`) as a user would. */
  cli(args: string[], input?: string): Promise<{ stdout: string; stderr: string; code: number }>;
  /** Runs the real `temporal` CLI against this platform's server and namespace; its stdout. */
  temporal(args: string[]): Promise<string>;
  /** A worker as a separate process (`promiseflow worker`), e.g. to kill it mid-update. */
  spawnWorker(): ChildProcess;
  stop(): Promise<void>;
}

/**
 * A fresh platform per test file: its own data directory and task queue on the shared
 * dev server, and a real worker running in this process.
 */
export async function startTestPlatform(
  name: string,
  options: { inProcessWorker?: boolean; temporalAddress?: string } = {},
): Promise<TestPlatform> {
  installTemporalRuntime('WARN');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `promiseflow-${name}-`));
  const config = resolveConfig({
    dataDir: path.join(dir, 'data'),
    temporalAddress: options.temporalAddress ?? inject('temporalAddress'),
    taskQueue: `test-${name}-${path.basename(dir)}`,
  });
  const logFile = path.join(dir, 'worker.log');
  const logger = createLogger({ file: logFile, level: 'debug' });
  const worker: WorkerHandle | undefined =
    options.inProcessWorker === false ? undefined : await createPromiseflowWorker(config, logger);
  const running = worker?.run();
  const store = openSqlitePlatformStore(config.dataDir);
  const temporal = await connectClient(config);
  const client = new PromiseflowClient(config, store, temporal.client);
  const env = {
    ...process.env,
    PROMISEFLOW_DATA_DIR: config.dataDir,
    PROMISEFLOW_TEMPORAL_ADDRESS: config.temporal.address,
    PROMISEFLOW_TASK_QUEUE: config.temporal.taskQueue,
  };
  return {
    config,
    dir,
    logFile,
    client,
    async temporal(args) {
      const { address, namespace } = config.temporal;
      return (
        await exec(config.temporalBin, [...args, '--address', address, '--namespace', namespace])
      ).stdout;
    },
    spawnWorker() {
      const out = fs.openSync(path.join(dir, 'worker-process.log'), 'a');
      return spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'promiseflow'), 'worker'], {
        env,
        cwd: dir,
        stdio: ['ignore', out, out],
      });
    },
    async cli(args, input) {
      const child = exec(
        process.execPath,
        [path.join(PROJECT_ROOT, 'bin', 'promiseflow'), ...args],
        { env, cwd: dir },
      );
      if (input !== undefined) {
        child.child.stdin?.end(input);
      }
      try {
        const { stdout, stderr } = await child;
        return { stdout, stderr, code: 0 };
      } catch (err) {
        const e = err as { stdout?: string; stderr?: string; code?: number };
        return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: e.code ?? 1 };
      }
    },
    async stop() {
      await worker?.shutdown();
      await running;
      await temporal.close();
      await store.close();
    },
  };
}

/** Fills `${VAR}` placeholders of an example file (e.g. the state store URL). */
export function renderExample(file: string, vars: Record<string, string>): string {
  const text = fs.readFileSync(path.join(PROJECT_ROOT, file), 'utf8');
  return text.replace(/\$\{(\w+)\}/g, (m, k: string) => vars[k] ?? m);
}

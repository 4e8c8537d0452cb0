import * as fs from 'node:fs';
import * as path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities } from '../activities';
import type { PromiseflowConfig } from '../config';
import { configuredPipelineRunner } from '../pipelines/configured';
import type { PipelineRunner } from '../pipelines/runner';
import { openPlatformStore } from '../platform/open';
import type { PlatformStore } from '../platform/store';
import { StateStoreWriters } from '../statestores/registry';

/** The workflows' entry: compiled JS under dist/, or the TypeScript source under tests. */
function workflowsEntry(): string {
  const dir = path.join(__dirname, '..', 'workflows');
  return fs.existsSync(path.join(dir, 'index.js'))
    ? path.join(dir, 'index.js')
    : path.join(dir, 'index.ts');
}

export interface WorkerHandle {
  worker: Worker;
  /** Resolves when the worker has shut down. */
  run(): Promise<void>;
  shutdown(): Promise<void>;
}

export interface WorkerPorts {
  store?: PlatformStore;
  pipelineRunner?: PipelineRunner;
}

/** Adapters chosen here, at the edge: the configured platform store (SQLite by default) and pipeline runner (local by default). */
export async function createPromiseflowWorker(
  config: PromiseflowConfig,
  logger: Logger,
  ports: WorkerPorts = {},
): Promise<WorkerHandle> {
  const store = ports.store ?? openPlatformStore(config);
  const pipelineRunner = ports.pipelineRunner ?? (await configuredPipelineRunner(config, logger));
  const stateStores = new StateStoreWriters(path.join(config.dataDir, 'statestores'));
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowsPath: workflowsEntry(),
    activities: createActivities({
      store,
      pipelineRunner,
      stateStores,
      workDir: path.join(config.dataDir, 'runs'),
      logger,
    }),
    // Every resource an update runs at once may be in a pipeline or a write, plus a few
    // for the update itself and other work: fewer slots would queue the fan-out here.
    maxConcurrentActivityTaskExecutions: Math.max(8, config.updateConcurrency + 4),
    maxCachedWorkflows: 200,
  });
  let running: Promise<void> | undefined;
  return {
    worker,
    run() {
      running ??= worker.run().finally(async () => {
        await stateStores.close();
        if (!ports.store) await store.close();
        await connection.close();
      });
      return running;
    },
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
  };
}

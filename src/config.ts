import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Configuration is read once, at the edge (CLI flags, environment), into this typed
 * object and passed down; nothing deeper reads process.env.
 */
export interface PromiseflowConfig {
  /** Platform store, pipeline scratch space, state-store clones, logs. */
  dataDir: string;
  temporal: { address: string; namespace: string; taskQueue: string };
  /** The `temporal` CLI binary (dev server). */
  temporalBin: string;
  /** Image → local pipeline program table for the local pipeline runner. */
  imageTable: string;
  logLevel: string;
  /** Resource re-runs in flight at once during a Promise update. */
  updateConcurrency: number;
}

export interface ConfigOverrides {
  dataDir?: string;
  temporalAddress?: string;
  namespace?: string;
  taskQueue?: string;
  imageTable?: string;
  logLevel?: string;
  concurrency?: number;
}

/** Repository root (this file is src/config.ts or dist/config.js). */
export const PROJECT_ROOT = path.resolve(__dirname, '..');

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.PROMISEFLOW_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'promiseflow');
}

export function resolveConfig(
  overrides: ConfigOverrides = {},
  env: NodeJS.ProcessEnv = process.env,
): PromiseflowConfig {
  const concurrency =
    overrides.concurrency ??
    (env.PROMISEFLOW_UPDATE_CONCURRENCY ? Number(env.PROMISEFLOW_UPDATE_CONCURRENCY) : 10);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new Error(
      `PROMISEFLOW_UPDATE_CONCURRENCY / --concurrency: expected a positive integer, got ${concurrency}`,
    );
  }
  return {
    dataDir: path.resolve(
      overrides.dataDir ?? env.PROMISEFLOW_DATA_DIR ?? path.join(process.cwd(), '.promiseflow'),
    ),
    temporal: {
      address:
        overrides.temporalAddress ??
        env.PROMISEFLOW_TEMPORAL_ADDRESS ??
        env.TEMPORAL_ADDRESS ??
        '127.0.0.1:7233',
      namespace:
        overrides.namespace ?? env.PROMISEFLOW_NAMESPACE ?? env.TEMPORAL_NAMESPACE ?? 'default',
      taskQueue: overrides.taskQueue ?? env.PROMISEFLOW_TASK_QUEUE ?? 'promiseflow',
    },
    temporalBin: env.PROMISEFLOW_TEMPORAL_BIN ?? path.join(cacheDir(env), 'bin', 'temporal'),
    imageTable: path.resolve(
      overrides.imageTable ??
        env.PROMISEFLOW_IMAGE_TABLE ??
        path.join(PROJECT_ROOT, 'examples', 'images.yaml'),
    ),
    logLevel: overrides.logLevel ?? env.PROMISEFLOW_LOG_LEVEL ?? 'info',
    updateConcurrency: concurrency,
  };
}

export function logFile(config: PromiseflowConfig): string {
  return path.join(config.dataDir, 'logs', 'promiseflow.log');
}

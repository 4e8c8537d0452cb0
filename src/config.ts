import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultConfigFile, defaultDataDir, expandHome, readConfigFile } from './config-file';
import type { ConfigFileValues } from './config-file';

/**
 * Resources an update re-runs at once when nothing says otherwise: five per core. On two
 * cores (`npm run bench -- fleet`) 10 already keeps the Temporal server, the worker and the
 * pipelines busy; 20 was about 10% faster and doubled every resource's time in flight
 * (README, "Fleet speed").
 */
export function defaultUpdateConcurrency(cores = os.availableParallelism()): number {
  return Math.max(4, 5 * cores);
}

/**
 * Configuration is read once, at the edge (CLI flags, environment, the user's config file),
 * into this typed object and passed down; nothing deeper reads process.env.
 */
export interface PromiseflowConfig {
  /** Platform store, pipeline scratch space, state-store clones, logs. */
  dataDir: string;
  /** The config file these settings were read from, if one exists. */
  configFile?: string;
  temporal: { address: string; namespace: string; taskQueue: string };
  /** The `temporal` CLI binary (dev server). */
  temporalBin: string;
  /** Image table: local programs (local runner) and local images (container runner). */
  imageTable: string;
  /**
   * How pipeline containers run: `local` (default; processes in a bubblewrap sandbox, no
   * container engine needed) or `container` (real OCI containers through podman).
   */
  pipelineRunner: PipelineRunnerKind;
  logLevel: string;
  /** Resource re-runs in flight at once during a Promise update. */
  updateConcurrency: number;
  /**
   * Where the platform's objects live: the embedded SQLite file in `dataDir`, or a
   * Kubernetes API server (Kratix's CRDs) reached through a kubeconfig.
   */
  platform: PlatformConfig;
}

/** Local sandboxed processes, podman containers, or Kubernetes Jobs on a cluster with nodes. */
export type PipelineRunnerKind = 'local' | 'container' | 'job';

export type PlatformConfig =
  | { store: 'sqlite' }
  /** `kubeconfig` omitted: KUBECONFIG, ~/.kube/config or in-cluster, as kubectl finds it. */
  | { store: 'kubernetes'; kubeconfig?: string };

/** Flags (or a program's own choices): they win over the environment and the config file. */
export interface ConfigOverrides {
  /** `--config`: a config file that must exist (else PROMISEFLOW_CONFIG, else the XDG one). */
  configFile?: string;
  dataDir?: string;
  temporalAddress?: string;
  /** Temporal's namespace (`--temporal-namespace`), not a Kubernetes one. */
  temporalNamespace?: string;
  taskQueue?: string;
  imageTable?: string;
  logLevel?: string;
  concurrency?: number;
  /** `sqlite` (default) or `kubernetes`. */
  platform?: string;
  kubeconfig?: string;
  /** `local` (default) or `container`. */
  pipelineRunner?: string;
}

/** Repository root: the nearest folder above this file with the package.json (src/ or dist/src/). */
export const PROJECT_ROOT = findProjectRoot(__dirname);

function findProjectRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(from, '..');
  }
}

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.PROMISEFLOW_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'promiseflow');
}

export function resolveConfig(
  overrides: ConfigOverrides = {},
  env: NodeJS.ProcessEnv = process.env,
): PromiseflowConfig {
  // Precedence, per setting: flag, environment, config file, default.
  const explicitFile = overrides.configFile ?? env.PROMISEFLOW_CONFIG;
  const configFile = path.resolve(expandHome(explicitFile ?? defaultConfigFile(env)));
  const file: ConfigFileValues = readConfigFile(configFile, explicitFile !== undefined);
  const concurrency =
    overrides.concurrency ??
    (env.PROMISEFLOW_UPDATE_CONCURRENCY
      ? Number(env.PROMISEFLOW_UPDATE_CONCURRENCY)
      : (file.updateConcurrency ?? defaultUpdateConcurrency()));
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new Error(
      `PROMISEFLOW_UPDATE_CONCURRENCY / --concurrency: expected a positive integer, got ${concurrency}`,
    );
  }
  return {
    dataDir: path.resolve(
      expandHome(
        overrides.dataDir ?? env.PROMISEFLOW_DATA_DIR ?? file.dataDir ?? defaultDataDir(env),
      ),
    ),
    ...(fs.existsSync(configFile) ? { configFile } : {}),
    temporal: {
      address:
        overrides.temporalAddress ??
        env.PROMISEFLOW_TEMPORAL_ADDRESS ??
        env.TEMPORAL_ADDRESS ??
        file.temporalAddress ??
        '127.0.0.1:7233',
      namespace:
        overrides.temporalNamespace ??
        env.PROMISEFLOW_TEMPORAL_NAMESPACE ??
        // The variable's name before `--namespace` became the Kubernetes namespace.
        env.PROMISEFLOW_NAMESPACE ??
        env.TEMPORAL_NAMESPACE ??
        file.temporalNamespace ??
        'default',
      taskQueue:
        overrides.taskQueue ?? env.PROMISEFLOW_TASK_QUEUE ?? file.taskQueue ?? 'promiseflow',
    },
    temporalBin: env.PROMISEFLOW_TEMPORAL_BIN ?? path.join(cacheDir(env), 'bin', 'temporal'),
    imageTable: path.resolve(
      overrides.imageTable ??
        env.PROMISEFLOW_IMAGE_TABLE ??
        file.imageTable ??
        path.join(PROJECT_ROOT, 'examples', 'images.yaml'),
    ),
    logLevel: overrides.logLevel ?? env.PROMISEFLOW_LOG_LEVEL ?? file.logLevel ?? 'info',
    updateConcurrency: concurrency,
    platform: platformConfig(overrides, env, file),
    pipelineRunner: pipelineRunnerKind(
      overrides.pipelineRunner ?? env.PROMISEFLOW_PIPELINE_RUNNER ?? file.pipelineRunner,
    ),
  };
}

function pipelineRunnerKind(value: string | undefined): PipelineRunnerKind {
  if (value === undefined || value === '' || value === 'local') return 'local';
  if (value === 'container' || value === 'job') return value;
  throw new Error(
    `PROMISEFLOW_PIPELINE_RUNNER / --pipelines: expected local, container or job, got ${value}`,
  );
}

function platformConfig(
  overrides: ConfigOverrides,
  env: NodeJS.ProcessEnv,
  file: ConfigFileValues,
): PlatformConfig {
  const kubeconfig = overrides.kubeconfig ?? env.PROMISEFLOW_KUBECONFIG ?? file.kubeconfig;
  const store =
    overrides.platform ??
    env.PROMISEFLOW_PLATFORM ??
    file.platform ??
    (kubeconfig ? 'kubernetes' : 'sqlite');
  if (store === 'sqlite') return { store };
  if (store === 'kubernetes') {
    return { store, ...(kubeconfig ? { kubeconfig: path.resolve(kubeconfig) } : {}) };
  }
  throw new Error(`PROMISEFLOW_PLATFORM / --platform: expected sqlite or kubernetes, got ${store}`);
}

export function logFile(config: PromiseflowConfig): string {
  return path.join(config.dataDir, 'logs', 'promiseflow.log');
}

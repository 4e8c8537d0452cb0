import type { Command } from 'commander';
import { resolveConfig } from '../config';
import type { ConfigFileValues } from '../config-file';
import type { ConfigOverrides, PromiseflowConfig } from '../config';
import { PromiseflowClient } from '../client/platform-client';
import { openPlatformStore } from '../platform/open';
import { connectClient } from '../temporal/client';

/** The global flags (every one also an environment variable or a config-file setting). */
export type GlobalFlags = { config?: string } & Pick<
  ConfigFileValues,
  'dataDir' | 'temporalAddress' | 'temporalNamespace' | 'taskQueue' | 'platform' | 'kubeconfig'
>;

export function overridesFrom(program: Command): ConfigOverrides {
  const f = program.opts<GlobalFlags>();
  return {
    configFile: f.config,
    dataDir: f.dataDir,
    temporalAddress: f.temporalAddress,
    temporalNamespace: f.temporalNamespace,
    taskQueue: f.taskQueue,
    platform: f.platform,
    kubeconfig: f.kubeconfig,
  };
}

export function configFrom(program: Command): PromiseflowConfig {
  return resolveConfig(overridesFrom(program));
}

/**
 * Opens the platform store and a Temporal client for one command and closes both, on
 * every way out (success, error, Ctrl-C of a watch): Temporal first — its close stops
 * retries and ends calls still in flight, so nothing can fire after — then the store.
 * `temporal: 'lazy'` connects only if the command calls Temporal (get, describe).
 */
export async function withClient<T>(
  program: Command,
  fn: (client: PromiseflowClient) => Promise<T>,
  options: { temporal?: 'eager' | 'lazy' } = {},
): Promise<T> {
  const config = configFrom(program);
  const store = openPlatformStore(config);
  try {
    const temporal = await connectClient(config, { lazy: options.temporal === 'lazy' });
    try {
      return await fn(new PromiseflowClient(config, store, temporal.client));
    } finally {
      await temporal.close();
    }
  } finally {
    await store.close();
  }
}

export function warn(message: string): void {
  process.stderr.write(`warning: ${message}\n`);
}

export function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

import type { TestProject } from 'vitest/node';
import { resolveConfig } from '../../src/config';
import { startDevServer } from '../../tools/servers/temporal-dev-server';
import type { DevServer } from '../../tools/servers/temporal-dev-server';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
  }
}

let server: DevServer | undefined;

/** One real Temporal dev server (the `temporal` CLI built by scripts/setup.sh) for the whole run. */
export async function setup(project: TestProject): Promise<void> {
  const config = resolveConfig();
  server = await startDevServer({ temporalBin: config.temporalBin, headless: true });
  project.provide('temporalAddress', server.address);
}

export async function teardown(): Promise<void> {
  await server?.stop();
}

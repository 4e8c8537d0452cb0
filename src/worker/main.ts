import { logFile, resolveConfig } from '../config';
import type { ConfigOverrides } from '../config';
import { createLogger } from '../logging';
import { installTemporalRuntime } from './runtime';
import { createPromiseflowWorker } from './worker';

/** Runs a worker in the foreground until SIGINT/SIGTERM (used by `promiseflow worker`). */
export async function runWorker(overrides: ConfigOverrides = {}): Promise<void> {
  const config = resolveConfig(overrides);
  const logger = createLogger({
    file: logFile(config),
    level: config.logLevel,
    console: true,
    name: 'worker',
  });
  installTemporalRuntime('WARN');
  const handle = await createPromiseflowWorker(config, logger);
  logger.info(
    {
      address: config.temporal.address,
      taskQueue: config.temporal.taskQueue,
      dataDir: config.dataDir,
    },
    'worker started',
  );
  await handle.run();
}

if (require.main === module) {
  runWorker().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

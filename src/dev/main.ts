import * as path from 'node:path';
import { PROJECT_ROOT, logFile, resolveConfig } from '../config';
import { createLogger } from '../logging';
import { startDevServer } from '../temporal/dev-server';
import { installTemporalRuntime } from '../worker/runtime';
import { createPromiseflowWorker } from '../worker/worker';

/**
 * `npm run dev`: a Temporal dev server (with Web UI) and a worker in the foreground, for
 * hands-on use with `./bin/promiseflow` in another terminal. History persists in the data
 * directory, so restarting keeps earlier workflows visible.
 */
async function main(): Promise<void> {
  const base = resolveConfig();
  const [host, portText] = base.temporal.address.split(':');
  const port = Number(portText ?? 7233);
  const uiPort = Number(process.env.PROMISEFLOW_UI_PORT ?? 8233);
  const server = await startDevServer({
    temporalBin: base.temporalBin,
    port,
    uiPort,
    dbFile: path.join(base.dataDir, 'temporal.db'),
    logFile: path.join(base.dataDir, 'temporal-server.log'),
  });
  const config = resolveConfig({ temporalAddress: `${host ?? '127.0.0.1'}:${port}` });
  installTemporalRuntime('WARN');
  const logger = createLogger({
    file: logFile(config),
    level: config.logLevel,
    console: true,
    name: 'worker',
  });
  const worker = await createPromiseflowWorker(config, logger);
  logger.info(
    {
      temporal: server.address,
      webUi: server.uiUrl,
      dataDir: config.dataDir,
      projectRoot: PROJECT_ROOT,
    },
    `ready: Temporal Web at ${server.uiUrl}; try ./bin/promiseflow apply -f examples/mongodb/promise.yaml --wait`,
  );
  const stop = () => worker.shutdown();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await worker.run();
  await server.stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

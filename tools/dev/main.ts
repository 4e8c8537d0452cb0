import * as path from 'node:path';
import { PROJECT_ROOT, logFile, resolveConfig } from '../../src/config';
import type { PromiseflowConfig } from '../../src/config';
import { Bridge } from '../../src/bridge/bridge';
import { createLogger } from '../../src/logging';
import { loadKubeConfig } from '../../src/platform/kubernetes/store';
import { startKubeCluster } from '../servers/kube-cluster';
import type { KubeCluster } from '../servers/kube-cluster';
import { connectClient } from '../../src/temporal/client';
import { startDevServer } from '../servers/temporal-dev-server';
import { installTemporalRuntime } from '../../src/worker/runtime';
import { createPromiseflowWorker } from '../../src/worker/worker';

/**
 * `npm run dev`: a Temporal dev server (with Web UI) and a worker in the foreground, for
 * hands-on use with `./bin/promiseflow` in another terminal. History persists in the data
 * directory, so restarting keeps earlier workflows visible.
 *
 * `npm run dev -- --kubernetes`: also etcd and kube-apiserver on loopback (their data in
 * the data directory), the bridge, and the worker on the cluster's platform store; prints
 * `KUBECONFIG=<path>` once everything is ready, so `kubectl` drives Promiseflow.
 */
async function main(argv: string[]): Promise<void> {
  const kubernetes = argv.includes('--kubernetes');
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
  let cluster: KubeCluster | undefined;
  if (kubernetes) {
    cluster = await startKubeCluster({
      dir: path.join(base.dataDir, 'cluster'),
      apiPort: Number(process.env.PROMISEFLOW_KUBE_PORT ?? 16443),
    });
  }
  const config: PromiseflowConfig = resolveConfig({
    temporalAddress: `${host ?? '127.0.0.1'}:${port}`,
    ...(cluster ? { platform: 'kubernetes', kubeconfig: cluster.kubeconfig } : {}),
  });
  installTemporalRuntime('WARN');
  const logger = createLogger({
    file: logFile(config),
    level: config.logLevel,
    console: true,
    name: 'worker',
  });
  const worker = await createPromiseflowWorker(config, logger);
  let bridge: Bridge | undefined;
  let closeTemporal: (() => Promise<void>) | undefined;
  if (cluster) {
    const temporal = await connectClient(config);
    closeTemporal = temporal.close;
    bridge = new Bridge({
      kubeConfig: loadKubeConfig(cluster.kubeconfig),
      temporal: temporal.client,
      config,
      logger: createLogger({
        file: logFile(config),
        level: config.logLevel,
        console: true,
        name: 'bridge',
      }),
    });
    await bridge.start();
  }
  logger.info(
    {
      temporal: server.address,
      webUi: server.uiUrl,
      dataDir: config.dataDir,
      projectRoot: PROJECT_ROOT,
    },
    cluster
      ? `ready: Temporal Web at ${server.uiUrl}; export the KUBECONFIG below and use kubectl`
      : `ready: Temporal Web at ${server.uiUrl}; try ./bin/promiseflow apply -f examples/mongodb/promise.yaml --wait`,
  );
  if (cluster) process.stdout.write(`KUBECONFIG=${cluster.kubeconfig}\n`);
  const stop = () => worker.shutdown();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await worker.run();
  await bridge?.stop();
  await closeTemporal?.();
  await cluster?.stop();
  await server.stop();
}

main(process.argv.slice(2)).catch((err) => {
  console.error(err);
  process.exit(1);
});

import { logFile, resolveConfig } from '../config';
import type { ConfigOverrides } from '../config';
import { createLogger } from '../logging';
import { loadKubeConfig } from '../platform/kubernetes/store';
import { connectClient } from '../temporal/client';
import { Bridge } from './bridge';

/**
 * `promiseflow bridge`: runs until SIGINT/SIGTERM. Losing leadership exits with code 1 so
 * a supervisor (or Kubernetes) starts it again as a candidate.
 */
export async function runBridge(
  overrides: ConfigOverrides,
  options: { resyncMs?: number } = {},
): Promise<void> {
  const config = resolveConfig({ ...overrides, platform: 'kubernetes' });
  const kubeconfig =
    config.platform.store === 'kubernetes' ? config.platform.kubeconfig : undefined;
  const logger = createLogger({
    file: logFile(config).replace(/promiseflow\.log$/, 'bridge.log'),
    level: config.logLevel,
    console: true,
    name: 'bridge',
  });
  const temporal = await connectClient(config);
  const bridge = new Bridge({
    kubeConfig: loadKubeConfig(kubeconfig),
    temporal: temporal.client,
    config,
    logger,
    resyncMs: options.resyncMs,
    onLeadershipLost: () => {
      process.exitCode = 1;
      void temporal.close();
    },
  });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    logger.info('bridge stopping');
    void bridge
      .stop()
      .then(() => temporal.close())
      .finally(() => process.exit(process.exitCode ?? 0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await bridge.start();
  logger.info({ temporal: config.temporal.address }, 'bridge started');
  // Runs on its timers and watches until a signal stops it.
  await new Promise<void>(() => undefined);
}

import { DefaultLogger, Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import type { LogLevel } from '@temporalio/worker';

let installed = false;

/** Temporal's SDK logs (bundler, worker state) at `level`; Promiseflow's own logs go through pino. */
export function installTemporalRuntime(level: LogLevel = 'WARN'): void {
  if (installed) return;
  Runtime.install({
    logger: new DefaultLogger(level),
    telemetryOptions: {
      logging: {
        filter: makeTelemetryFilterString({ core: level === 'ERROR' ? 'ERROR' : 'WARN' }),
      },
    },
  });
  installed = true;
}

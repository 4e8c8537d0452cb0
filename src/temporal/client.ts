import { InterceptingCall, status as GrpcStatus } from '@grpc/grpc-js';
import type { Interceptor } from '@grpc/grpc-js';
import {
  Client,
  Connection,
  defaultGrpcRetryOptions,
  makeGrpcRetryInterceptor,
} from '@temporalio/client';
import type { ConnectionOptions } from '@temporalio/client';
import type { PromiseflowConfig } from '../config';

export interface TemporalConnection {
  client: Client;
  /** Stops retries, cancels calls still in flight, lets them end, then closes the channel. */
  close(): Promise<void>;
}

/** How long `close()` lets cancelled calls report back before the channel goes anyway. */
const CLOSE_GRACE_MS = 3_000;

/**
 * `lazy`: connect on the first call, for commands that may not need Temporal at all
 * (`get`, `describe`), so they work while it is down.
 */
export async function connectClient(
  config: PromiseflowConfig,
  options: { lazy?: boolean } = {},
): Promise<TemporalConnection> {
  const calls = new CallTracker();
  const connectionOptions: ConnectionOptions = {
    address: config.temporal.address,
    connectTimeout: '5s',
    interceptors: calls.interceptors(),
  };
  let connection: Connection;
  try {
    connection = options.lazy
      ? Connection.lazy(connectionOptions)
      : await Connection.connect(connectionOptions);
  } catch (err) {
    throw new Error(
      `cannot reach Temporal at ${config.temporal.address} (set --temporal-address, PROMISEFLOW_TEMPORAL_ADDRESS ` +
        `or temporalAddress in the config file; 'npm run dev' starts a dev server): ${(err as Error).message}`,
    );
  }
  return {
    client: new Client({ connection, namespace: config.temporal.namespace }),
    async close() {
      await calls.drain(CLOSE_GRACE_MS);
      await connection.close();
    },
  };
}

/**
 * Temporal's gRPC retry interceptor retries a failed call from a timer. When the connection
 * was closed in between, grpc-js throws "Channel has been shut down" from that timer: an
 * uncaught exception that ended `promiseflow apply --wait` with exit 1 after the update had
 * succeeded (a progress query answered UNAVAILABLE or RESOURCE_EXHAUSTED just before the CLI
 * closed the connection). So calls are tracked from start to final status; once closing,
 * nothing is retried, calls still in flight are cancelled, and the channel closes only when
 * they have ended (or after a grace period).
 */
class CallTracker {
  private closing = false;
  private readonly inFlight = new Set<InterceptingCall>();
  private onIdle?: () => void;

  interceptors(): Interceptor[] {
    const retry = defaultGrpcRetryOptions();
    return [
      // Outermost, so one logical call stays counted through all of its retries.
      this.track,
      makeGrpcRetryInterceptor({
        delayFunction: retry.delayFunction,
        retryableDecider: (attempt, status) =>
          !this.closing && retry.retryableDecider(attempt, status),
      }),
    ];
  }

  private readonly track: Interceptor = (options, nextCall) => {
    const call: InterceptingCall = new InterceptingCall(nextCall(options), {
      start: (metadata, _listener, next) => {
        this.inFlight.add(call);
        next(metadata, {
          onReceiveStatus: (status, nextStatus) => {
            this.inFlight.delete(call);
            if (this.inFlight.size === 0) this.onIdle?.();
            nextStatus(status);
          },
        });
      },
    });
    return call;
  };

  async drain(graceMs: number): Promise<void> {
    this.closing = true;
    for (const call of [...this.inFlight]) {
      call.cancelWithStatus(GrpcStatus.CANCELLED, 'connection closing');
    }
    if (this.inFlight.size === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, graceMs);
      timer.unref();
      this.onIdle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

import { Client, Connection } from '@temporalio/client';
import type { PromiseflowConfig } from '../config';

export async function connectClient(
  config: PromiseflowConfig,
): Promise<{ client: Client; close: () => Promise<void> }> {
  let connection: Connection;
  try {
    connection = await Connection.connect({
      address: config.temporal.address,
      connectTimeout: '5s',
    });
  } catch (err) {
    throw new Error(
      `cannot reach Temporal at ${config.temporal.address} (set --temporal-address or PROMISEFLOW_TEMPORAL_ADDRESS; ` +
        `'npm run dev' starts a dev server): ${(err as Error).message}`,
    );
  }
  return {
    client: new Client({ connection, namespace: config.temporal.namespace }),
    close: () => connection.close(),
  };
}

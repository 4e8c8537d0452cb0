import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { freePort } from './ports';
import { SEARCH_ATTRIBUTE_DEFINITIONS } from '../../src/workflows/search-attributes';

export { freePort };

export interface DevServer {
  address: string;
  uiUrl?: string;
  pid: number;
  stop(): Promise<void>;
}

export interface DevServerOptions {
  temporalBin: string;
  /** SQLite file for durable history; omit for in-memory. */
  dbFile?: string;
  port?: number;
  uiPort?: number;
  headless?: boolean;
  logFile?: string;
}

async function waitForPort(port: number, timeoutMs: number, isAlive: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error('Temporal dev server exited during start-up');
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`Temporal dev server did not listen on ${port} within ${timeoutMs} ms`);
}

/** Starts the real Temporal dev server (`temporal server start-dev`) with Promiseflow's search attributes. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  if (!fs.existsSync(options.temporalBin)) {
    throw new Error(
      `Temporal CLI not found at ${options.temporalBin}: run 'npm run setup' (scripts/setup.sh) first`,
    );
  }
  const port = options.port ?? (await freePort());
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--log-level',
    'warn',
  ];
  for (const sa of SEARCH_ATTRIBUTE_DEFINITIONS) args.push('--search-attribute', sa);
  if (options.dbFile) {
    fs.mkdirSync(path.dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
  }
  let uiUrl: string | undefined;
  if (options.headless) {
    args.push('--headless');
  } else {
    const uiPort = options.uiPort ?? (await freePort());
    args.push('--ui-port', String(uiPort));
    uiUrl = `http://127.0.0.1:${uiPort}`;
  }
  const out = options.logFile ? fs.openSync(options.logFile, 'a') : 'ignore';
  const child = spawn(options.temporalBin, args, { stdio: ['ignore', out, out], detached: true });
  let exited = false;
  // The server runs in its own process group; never leave it behind when we exit.
  const killOnExit = () => {
    if (!exited) {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
  };
  process.once('exit', killOnExit);
  child.once('exit', () => {
    exited = true;
    process.removeListener('exit', killOnExit);
  });
  await waitForPort(port, 60_000, () => !exited);
  // The frontend accepts connections a moment before the namespace is ready.
  await new Promise((r) => setTimeout(r, 500));
  return {
    address: `127.0.0.1:${port}`,
    uiUrl,
    pid: child.pid!,
    async stop() {
      if (exited) return;
      const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        /* already gone */
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }, 5000);
      await done;
      clearTimeout(timer);
    },
  };
}

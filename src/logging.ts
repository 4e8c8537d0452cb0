import * as fs from 'node:fs';
import * as path from 'node:path';
import pino from 'pino';
import type { Logger } from 'pino';

/**
 * Structured logs: one JSON object per line in the log file (grep-able, e.g. for
 * "no Destinations can be selected for scheduling"), and readable lines on a TTY.
 */
export function createLogger(options: {
  file?: string;
  level?: string;
  console?: boolean;
  name?: string;
}): Logger {
  const streams: pino.StreamEntry[] = [];
  if (options.file) {
    fs.mkdirSync(path.dirname(options.file), { recursive: true });
    streams.push({
      level: 'trace',
      stream: pino.destination({ dest: options.file, sync: true, mkdir: true }),
    });
  }
  if (options.console) {
    if (process.stderr.isTTY) {
      // pino-pretty is loaded only for people watching a terminal.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const pretty = require('pino-pretty') as (o: object) => NodeJS.WritableStream;
      streams.push({
        level: 'trace',
        stream: pretty({ destination: 2, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' }),
      });
    } else {
      streams.push({ level: 'trace', stream: process.stderr });
    }
  }
  return pino(
    {
      level: options.level ?? 'info',
      base: options.name ? { component: options.name } : undefined,
    },
    streams.length ? pino.multistream(streams) : pino.destination('/dev/null'),
  );
}

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InvalidInputError } from './model/errors';
import { parseYamlDocument } from './model/load';

/**
 * The user's config file (`$XDG_CONFIG_HOME/promiseflow/config.yaml`): the same settings as
 * the global flags, so every shell, directory and script reaches the same platform.
 *
 * ```yaml
 * dataDir: ~/.local/share/promiseflow
 * temporalAddress: 127.0.0.1:7233
 * ```
 */
export interface ConfigFileValues {
  dataDir?: string;
  temporalAddress?: string;
  temporalNamespace?: string;
  taskQueue?: string;
  platform?: string;
  kubeconfig?: string;
  pipelineRunner?: string;
  imageTable?: string;
  logLevel?: string;
  updateConcurrency?: number;
}

const STRING_KEYS = [
  'dataDir',
  'temporalAddress',
  'temporalNamespace',
  'taskQueue',
  'platform',
  'kubeconfig',
  'pipelineRunner',
  'imageTable',
  'logLevel',
] as const;
/** Paths are taken relative to the file's own directory, and `~/` is the home directory. */
const PATH_KEYS = new Set<string>(['dataDir', 'kubeconfig', 'imageTable']);
export const CONFIG_FILE_KEYS: string[] = [...STRING_KEYS, 'updateConcurrency'];

/** An XDG base directory variable counts only when absolute (the spec says to ignore others). */
function xdgBase(value: string | undefined, fallback: string): string {
  return value && path.isAbsolute(value) ? value : fallback;
}

export function defaultConfigFile(env: NodeJS.ProcessEnv): string {
  const base = xdgBase(env.XDG_CONFIG_HOME, path.join(os.homedir(), '.config'));
  return path.join(base, 'promiseflow', 'config.yaml');
}

/** Not the current directory: the CLI must reach one platform from wherever it runs. */
export function defaultDataDir(env: NodeJS.ProcessEnv): string {
  const base = xdgBase(env.XDG_DATA_HOME, path.join(os.homedir(), '.local', 'share'));
  return path.join(base, 'promiseflow');
}

export function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}

/**
 * Reads and checks the config file. A file named explicitly (`--config`,
 * PROMISEFLOW_CONFIG) must exist; the default one is optional.
 */
export function readConfigFile(file: string, required: boolean): ConfigFileValues {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (!required && (err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new InvalidInputError({
      file,
      expected: 'a readable config file',
      got: (err as Error).message,
    });
  }
  const doc = parseYamlDocument(text, file);
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new InvalidInputError({ file, expected: 'a mapping of settings', got: typeof doc });
  }
  const values: ConfigFileValues = {};
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    if (value === null || value === undefined) continue;
    if (key === 'updateConcurrency') {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
        throw new InvalidInputError({
          file,
          field: key,
          expected: 'a positive integer',
          got: JSON.stringify(value),
        });
      }
      values.updateConcurrency = value;
      continue;
    }
    if (!(STRING_KEYS as readonly string[]).includes(key)) {
      throw new InvalidInputError({
        file,
        field: key,
        expected: `one of ${CONFIG_FILE_KEYS.join(', ')}`,
        got: 'an unknown setting',
      });
    }
    if (typeof value !== 'string' || value === '') {
      throw new InvalidInputError({
        file,
        field: key,
        expected: 'a non-empty string',
        got: JSON.stringify(value),
      });
    }
    values[key as (typeof STRING_KEYS)[number]] = PATH_KEYS.has(key)
      ? path.resolve(path.dirname(file), expandHome(value))
      : value;
  }
  return values;
}

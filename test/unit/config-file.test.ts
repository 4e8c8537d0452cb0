import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config';
import { InvalidInputError } from '../../src/model/errors';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promiseflow-config-'));
const xdg = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  HOME: path.join(dir, 'home'),
  XDG_CONFIG_HOME: path.join(dir, 'config'),
  XDG_DATA_HOME: path.join(dir, 'data'),
  ...extra,
});
function writeConfig(text: string, file = path.join(dir, 'config', 'promiseflow', 'config.yaml')) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('where the CLI finds its platform', () => {
  it('defaults the data directory to $XDG_DATA_HOME/promiseflow, never the current directory', () => {
    const config = resolveConfig({}, xdg());
    expect(config.dataDir).toBe(path.join(dir, 'data', 'promiseflow'));
    expect(config.dataDir.startsWith(process.cwd())).toBe(false);
    expect(config.temporal.address).toBe('127.0.0.1:7233');
  });

  it('falls back to ~/.local/share/promiseflow when XDG_DATA_HOME is unset or relative', () => {
    expect(resolveConfig({}, { HOME: os.homedir(), XDG_DATA_HOME: 'relative' }).dataDir).toBe(
      path.join(os.homedir(), '.local', 'share', 'promiseflow'),
    );
  });

  it('reads $XDG_CONFIG_HOME/promiseflow/config.yaml, paths relative to the file', () => {
    const file = writeConfig(
      'dataDir: platform\ntemporalAddress: 127.0.0.1:7300\ntemporalNamespace: ops\ntaskQueue: q\nupdateConcurrency: 3\n',
    );
    const config = resolveConfig({}, xdg());
    expect(config.configFile).toBe(file);
    expect(config.dataDir).toBe(path.join(path.dirname(file), 'platform'));
    expect(config.temporal).toEqual({
      address: '127.0.0.1:7300',
      namespace: 'ops',
      taskQueue: 'q',
    });
    expect(config.updateConcurrency).toBe(3);
  });

  it('lets the environment win over the file, and flags over both', () => {
    writeConfig('temporalAddress: 127.0.0.1:7300\ndataDir: /from/file\n');
    const env = xdg({ PROMISEFLOW_TEMPORAL_ADDRESS: '127.0.0.1:7400' });
    expect(resolveConfig({}, env).temporal.address).toBe('127.0.0.1:7400');
    expect(resolveConfig({ temporalAddress: '127.0.0.1:7500' }, env).temporal.address).toBe(
      '127.0.0.1:7500',
    );
    expect(resolveConfig({}, xdg({ PROMISEFLOW_DATA_DIR: '/from/env' })).dataDir).toBe('/from/env');
    expect(resolveConfig({ dataDir: '/from/flag' }, env).dataDir).toBe('/from/flag');
  });

  it('takes --config (or PROMISEFLOW_CONFIG) instead, and requires that file to exist', () => {
    const other = writeConfig('taskQueue: elsewhere\n', path.join(dir, 'other.yaml'));
    expect(resolveConfig({ configFile: other }, xdg()).temporal.taskQueue).toBe('elsewhere');
    expect(resolveConfig({}, xdg({ PROMISEFLOW_CONFIG: other })).temporal.taskQueue).toBe(
      'elsewhere',
    );
    expect(() => resolveConfig({ configFile: path.join(dir, 'missing.yaml') }, xdg())).toThrow(
      /missing\.yaml: expected a readable config file/,
    );
  });

  it('refuses an unknown setting or a wrong type, naming the file and the setting', () => {
    const file = writeConfig('temporalAdress: 127.0.0.1:7300\n', path.join(dir, 'typo.yaml'));
    expect(() => resolveConfig({ configFile: file }, xdg())).toThrow(InvalidInputError);
    expect(() => resolveConfig({ configFile: file }, xdg())).toThrow(
      `${file}: temporalAdress: expected one of dataDir,`,
    );
    const bad = writeConfig('updateConcurrency: many\n', path.join(dir, 'bad.yaml'));
    expect(() => resolveConfig({ configFile: bad }, xdg())).toThrow(
      'updateConcurrency: expected a positive integer, got "many"',
    );
  });
});

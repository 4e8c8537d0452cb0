import type { Command } from 'commander';
import { stringify } from 'yaml';
import { CONFIG_FILE_KEYS, defaultConfigFile } from '../../config-file';
import { configFrom, out } from '../context';

/** `config view`: where this shell's CLI finds its platform, and from which file. */
export function registerConfig(program: Command): void {
  const config = program
    .command('config')
    .description('show the settings in effect (flags, environment, config file, defaults)');
  config
    .command('view')
    .description(
      `print the settings in effect; the config file (--config, PROMISEFLOW_CONFIG, else ${defaultConfigFile(process.env)}) takes: ${CONFIG_FILE_KEYS.join(', ')}`,
    )
    .action(() => {
      const c = configFrom(program);
      const view = {
        configFile: c.configFile ?? `${defaultConfigFile(process.env)} (absent)`,
        dataDir: c.dataDir,
        temporalAddress: c.temporal.address,
        temporalNamespace: c.temporal.namespace,
        taskQueue: c.temporal.taskQueue,
        platform: c.platform.store,
        ...(c.platform.store === 'kubernetes' && c.platform.kubeconfig
          ? { kubeconfig: c.platform.kubeconfig }
          : {}),
        pipelineRunner: c.pipelineRunner,
        imageTable: c.imageTable,
        updateConcurrency: c.updateConcurrency,
      };
      out(stringify(view));
    });
}

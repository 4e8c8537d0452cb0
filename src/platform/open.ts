import type { PromiseflowConfig } from '../config';
import { KubernetesPlatformStore, loadKubeConfig } from './kubernetes/store';
import { openSqlitePlatformStore } from './sqlite';
import type { PlatformStore } from './store';

/** The platform store the configuration names: chosen here, at the edge, once. */
export function openPlatformStore(config: PromiseflowConfig): PlatformStore {
  switch (config.platform.store) {
    case 'sqlite':
      return openSqlitePlatformStore(config.dataDir);
    case 'kubernetes':
      return new KubernetesPlatformStore({
        kubeConfig: loadKubeConfig(config.platform.kubeconfig),
      });
  }
}

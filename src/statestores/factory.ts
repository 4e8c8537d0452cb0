import type { BucketStateStore, GitStateStore, Secret, StateStore } from '../model/types';
import { GitStateStoreWriter } from './git';
import { BucketStateStoreWriter } from './s3';
import { StateStoreError, type StateStoreWriter } from './writer';

export interface StateStoreWriterFactoryOptions {
  /** Where Git writers keep their local clones. */
  cacheDir: string;
}

/** Builds the writer for a `GitStateStore` or `BucketStateStore` object. */
export function createStateStoreWriter(
  store: StateStore,
  secret: Secret | undefined,
  options: StateStoreWriterFactoryOptions,
): StateStoreWriter {
  switch (store.kind) {
    case 'GitStateStore':
      return new GitStateStoreWriter({
        store: store as GitStateStore,
        secret,
        cacheDir: options.cacheDir,
      });
    case 'BucketStateStore':
      return new BucketStateStoreWriter({ store: store as BucketStateStore, secret });
    default:
      throw new StateStoreError(
        'GitStateStore',
        store.metadata?.name ?? '<unnamed>',
        `unknown state store kind "${String(store.kind)}" (expected GitStateStore or BucketStateStore)`,
        false,
      );
  }
}

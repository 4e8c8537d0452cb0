import { canonicalJson, sha256 } from '../model/hashing';
import type { Secret, StateStore } from '../model/types';
import { createStateStoreWriter } from './factory';
import type { StateStoreWriter } from './writer';

/**
 * One writer per state store (and version of its spec and secret), reused across
 * activities so Git clones and S3 clients are not rebuilt for every write. Keyed by
 * content, not resourceVersion: a status update (Ready/NotReady) bumps the version but
 * must not start a new writer, with a new Git clone, for the same store.
 */
export class StateStoreWriters {
  private readonly writers = new Map<string, StateStoreWriter>();

  constructor(private readonly cacheDir: string) {}

  forStore(store: StateStore, secret: Secret | undefined): StateStoreWriter {
    const key = [
      store.kind,
      store.metadata.name,
      sha256(
        canonicalJson({
          spec: store.spec,
          secret: secret && { data: secret.data, stringData: secret.stringData },
        }),
      ),
    ].join('/');
    let writer = this.writers.get(key);
    if (!writer) {
      writer = createStateStoreWriter(store, secret, { cacheDir: this.cacheDir });
      this.writers.set(key, writer);
    }
    return writer;
  }

  async close(): Promise<void> {
    await Promise.all([...this.writers.values()].map((w) => w.close()));
    this.writers.clear();
  }
}

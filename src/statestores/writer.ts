/**
 * StateStoreWriter: puts files somewhere a GitOps agent reads. Writers know nothing of
 * Promises or scheduling; every path is relative to the store's root (the caller has
 * already joined the state store's `spec.path`, the Destination's `spec.path` and the
 * layout from model/paths.ts).
 */
export interface FileToWrite {
  path: string;
  content: string;
}

export interface UpdateBatch {
  /** Commit message (Git) / log line (S3), e.g. "Update from: mongodb-mongo-v4.worker-1". */
  message: string;
  /** After the update each `dir` holds exactly `files` (paths relative to `dir`). */
  replaceDirs?: { dir: string; files: FileToWrite[] }[];
  /** Individual files to create or overwrite (root-relative). */
  writeFiles?: FileToWrite[];
  /** Root-relative files or directories to remove; missing ones are ignored. */
  deletePaths?: string[];
}

export interface UpdateResult {
  /** False when the store already held exactly this content (no commit, no upload). */
  changed: boolean;
  filesWritten: number;
  filesDeleted: number;
  /** Commit sha (Git) when something was committed. */
  revision?: string;
}

export interface StateStoreWriter {
  /** Applies the whole batch at once (one commit per Git repository). Safe to retry. */
  update(batch: UpdateBatch): Promise<UpdateResult>;
  /** Root-relative read; undefined when absent. */
  readFile(path: string): Promise<string | undefined>;
  /** Lists root-relative file paths under a directory (recursively). */
  listFiles(dir: string): Promise<string[]>;
  /** Throws a StateStoreError when the store cannot be reached or written. */
  validatePermissions(): Promise<void>;
  close(): Promise<void>;
}

/** A state-store failure with a message safe to show (credentials never included). */
export class StateStoreError extends Error {
  override readonly name = 'StateStoreError';
  constructor(
    readonly storeKind: 'GitStateStore' | 'BucketStateStore',
    readonly storeName: string,
    message: string,
    readonly retryable = true,
  ) {
    super(`${storeKind} "${storeName}": ${message}`);
  }
}

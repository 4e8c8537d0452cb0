import type { FaultKind } from './faults';

/**
 * StateStoreWriter: puts files somewhere a GitOps agent reads. Writers know nothing of
 * Promises or scheduling; every path is relative to the store's root (the caller has
 * already joined the state store's `spec.path`, the Destination's `spec.path` and the
 * layout from model/paths.ts).
 */
export interface FileToWrite {
  path: string;
  /**
   * Text is written as UTF-8; bytes as they are (binary pipeline output). A function is
   * called when the batch is applied, and again whenever the writer applies it again (a
   * rejected push): for a file derived from shared state, such as an aggregatedYAML file
   * built from every placement of its Destination, which must not be computed early.
   */
  content: string | Uint8Array | (() => Promise<string | Uint8Array>);
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

/** The batch with every derived file's content computed now (writers without retries). */
export async function resolveBatch(batch: UpdateBatch): Promise<UpdateBatch> {
  const files = (list: FileToWrite[]) =>
    Promise.all(
      list.map(async (f) => ({ path: f.path, content: await resolveContent(f.content) })),
    );
  return {
    ...batch,
    ...(batch.replaceDirs
      ? {
          replaceDirs: await Promise.all(
            batch.replaceDirs.map(async (d) => ({ dir: d.dir, files: await files(d.files) })),
          ),
        }
      : {}),
    ...(batch.writeFiles ? { writeFiles: await files(batch.writeFiles) } : {}),
  };
}

/** The bytes or text of a file, calling a derived file's function. */
export async function resolveContent(
  content: FileToWrite['content'],
): Promise<string | Uint8Array> {
  return typeof content === 'function' ? content() : content;
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
  /** Root-relative read as UTF-8 text; undefined when absent. */
  readFile(path: string): Promise<string | undefined>;
  /** Root-relative read of the stored bytes, unchanged; undefined when absent. */
  readFileBytes(path: string): Promise<Buffer | undefined>;
  /** Lists root-relative file paths under a directory (recursively). */
  listFiles(dir: string): Promise<string[]>;
  /** Throws a StateStoreError when the store cannot be reached or written. */
  validatePermissions(): Promise<void>;
  close(): Promise<void>;
}

/** The bytes a FileToWrite stands for. */
export function contentBytes(content: string | Uint8Array): Buffer {
  if (typeof content === 'string') return Buffer.from(content, 'utf8');
  return Buffer.isBuffer(content)
    ? content
    : Buffer.from(content.buffer, content.byteOffset, content.byteLength);
}

/**
 * A state-store failure with a message safe to show (credentials never included).
 * `retryable` and `fault` come from faults.ts, the one place failures are classified.
 */
export class StateStoreError extends Error {
  override readonly name = 'StateStoreError';
  constructor(
    readonly storeKind: 'GitStateStore' | 'BucketStateStore',
    readonly storeName: string,
    message: string,
    readonly retryable = true,
    readonly fault: FaultKind = retryable ? 'unknown' : 'badInput',
  ) {
    super(`${storeKind} "${storeName}": ${message}`);
  }
}

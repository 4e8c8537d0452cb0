/**
 * `promiseflow validate -f FILE…`: every object of every file checked offline, as `apply`
 * would check it, with no server. Resource requests are checked against the Promises in the
 * same files. Plain Kubernetes objects are skipped with a warning, as `apply` skips them.
 */
import { InvalidInputError } from '../model/errors';
import { loadKratixFile } from './load-file';
import type { KratixObject, KratixPromise } from '../model/types';
import { crdOf, validateObject } from '../model/validate';

export interface FileReport {
  file: string;
  /** `Promise "mongodb"`, one per valid object. */
  valid: string[];
  warnings: string[];
  /** The first refusal in the file (a file is refused as a whole, as `apply` refuses it). */
  error?: string;
}

export async function validateFiles(files: string[]): Promise<FileReport[]> {
  const loaded: { file: string; objects?: KratixObject[]; warnings: string[]; error?: string }[] =
    [];
  for (const file of files) {
    const warnings: string[] = [];
    try {
      loaded.push({
        file,
        warnings,
        objects: await loadKratixFile(file, { onSkipped: (m) => warnings.push(m) }),
      });
    } catch (err) {
      if (!(err instanceof InvalidInputError)) throw err;
      loaded.push({ file, warnings, error: err.message });
    }
  }
  const promises = loaded
    .flatMap((l) => l.objects ?? [])
    .filter(
      (o): o is KratixPromise =>
        o.kind === 'Promise' && o.apiVersion.startsWith('platform.kratix.io/'),
    );
  const findPromiseForKind = (apiVersion: string, kind: string) =>
    promises.find((p) => {
      const crd = crdOf(p);
      return crd !== undefined && crd.kind === kind && apiVersion.startsWith(`${crd.group}/`);
    });
  return loaded.map(({ file, objects, warnings, error }) => {
    const report: FileReport = { file, valid: [], warnings, ...(error ? { error } : {}) };
    if (!objects) return report;
    try {
      for (const o of objects) {
        validateObject(o, { file, findPromiseForKind, onWarning: (m) => warnings.push(m) });
        report.valid.push(`${o.kind} "${o.metadata.name}"`);
      }
    } catch (err) {
      if (!(err instanceof InvalidInputError)) throw err;
      report.error = err.message;
    }
    return report;
  });
}

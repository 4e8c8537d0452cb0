import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { workloadFromBytes, workloadGroupId, workloadsDigest } from '../model/hashing';
import type { DestinationSelector, Workload, WorkloadGroup } from '../model/types';
import { validatePipelineSelectors } from '../model/validate';

/** Every regular file under `dir`, as paths relative to it (sorted, `/`-separated). */
export async function listFilesRecursive(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(rel: string): Promise<void> {
    const entries = await fs.readdir(path.join(dir, rel), { withFileTypes: true });
    for (const e of entries) {
      const childRel = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(childRel);
      else if (e.isFile()) out.push(childRel);
    }
  }
  await walk('');
  return out.sort();
}

/**
 * Splits a pipeline's /kratix/output into workload groups (Kratix's rule): a selector entry
 * with `directory` sends that sub-directory by its own selectors; everything else is the
 * root group (`.`), scheduled by the entries without a directory.
 */
export async function buildWorkloadGroups(
  outputDir: string,
  promiseSelectors: DestinationSelector[],
  workflowSelectors: unknown,
  selectorsFile: string,
): Promise<WorkloadGroup[]> {
  const selectors =
    workflowSelectors === undefined
      ? []
      : validatePipelineSelectors(workflowSelectors, selectorsFile);
  const files = await listFilesRecursive(outputDir);
  const byDirectory = new Map<string, DestinationSelector[]>();
  const rootSelectors: DestinationSelector[] = [];
  for (const s of selectors) {
    const dir = s.directory?.replace(/^\.\/+/, '').replace(/\/+$/, '');
    if (dir && dir !== '.') {
      const list = byDirectory.get(dir) ?? [];
      list.push({ matchLabels: s.matchLabels ?? {} });
      byDirectory.set(dir, list);
    } else {
      rootSelectors.push({ matchLabels: s.matchLabels ?? {} });
    }
  }
  const groups: { directory: string; selectors: DestinationSelector[]; files: string[] }[] = [];
  const claimed = new Set<string>();
  for (const [dir, sel] of [...byDirectory.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const inDir = files.filter((f) => f.startsWith(`${dir}/`) && !claimed.has(f));
    inDir.forEach((f) => claimed.add(f));
    groups.push({
      directory: dir,
      selectors: sel,
      files: inDir.map((f) => f.slice(dir.length + 1)),
    });
  }
  const rootFiles = files.filter((f) => !claimed.has(f));
  groups.unshift({ directory: '.', selectors: rootSelectors, files: rootFiles });

  const result: WorkloadGroup[] = [];
  for (const g of groups) {
    // An empty root group still matters when it is the only one: it carries "no output".
    if (g.files.length === 0 && g.directory !== '.') continue;
    const base = g.directory === '.' ? outputDir : path.join(outputDir, g.directory);
    const workloads: Workload[] = [];
    for (const f of g.files) {
      // Bytes first: reading as UTF-8 would turn invalid sequences into U+FFFD for good.
      workloads.push(workloadFromBytes(f, await fs.readFile(path.join(base, f))));
    }
    result.push({
      id: workloadGroupId(g.directory),
      directory: g.directory,
      destinationSelectors: { promise: promiseSelectors, resource: g.selectors },
      workloads,
      digest: workloadsDigest(workloads),
    });
  }
  return result;
}

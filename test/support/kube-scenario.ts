import * as fs from 'node:fs';
import * as path from 'node:path';
import { createStateRepo } from './state-repo';
import type { StateRepo } from './state-repo';
import { renderExample, startKubePlatform } from './kube-platform';
import type { KubePlatform } from './kube-platform';

/**
 * A cluster platform with its own Git state store and an example's platform YAML applied
 * with kubectl, its Destinations Ready.
 */
export async function startKubeScenario(
  name: string,
  platformYaml: string,
): Promise<{ platform: KubePlatform; repo: StateRepo; render(file: string): string }> {
  const platform = await startKubePlatform(name);
  const repo = await createStateRepo(path.join(platform.dir, 'state.git'));
  const render = (file: string) => {
    const out = path.join(platform.dir, file.replace(/\//g, '_'));
    fs.writeFileSync(out, renderExample(file, { STATE_STORE_URL: repo.url }));
    return out;
  };
  await platform.eventually('the bridge to install the Kratix CRDs', async () => {
    const r = await platform.kubectl(['get', 'crd', 'destinations.platform.kratix.io']);
    return r.code === 0;
  });
  await platform.kubectlOk(['apply', '-f', render(platformYaml)]);
  await platform.kubectlOk([
    'wait',
    '--for=condition=Ready',
    'destinations',
    '--all',
    '--timeout=120s',
  ]);
  return { platform, repo, render };
}

/**
 * Waits until the update of the Promise's current spec is complete: `status.observedGeneration`
 * is its generation and its configure condition says the update to `version` completed.
 */
export async function promiseAvailableAt(
  platform: KubePlatform,
  name: string,
  version: string,
): Promise<void> {
  await platform.eventually(`Promise ${name} updated to ${version}`, async () => {
    const r = await platform.kubectl(['get', 'promise', name, '-o', 'json']);
    if (r.code !== 0) return false;
    const p = JSON.parse(r.stdout) as {
      metadata: { generation: number };
      status?: {
        observedGeneration?: number;
        conditions?: { type: string; status: string; message?: string }[];
      };
    };
    const done = p.status?.conditions?.find((c) => c.type === 'ConfigureWorkflowCompleted');
    return (
      p.status?.observedGeneration === p.metadata.generation &&
      done?.status === 'True' &&
      (done.message ?? '').startsWith(`Update to ${version} complete`)
    );
  });
}

/**
 * Pipeline volumes on this host: the Kratix-provided ones (shared-input, shared-output,
 * shared-metadata: the run's directories), `emptyDir` (a directory shared by the pipeline's
 * containers for one run), and `secret` / `configMap` (their keys as read-only files, from the
 * references the activity resolved). Anything else (hostPath, PVCs, …) fails the pipeline by
 * name rather than running without it.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Container, Pipeline } from '../model/types';
import type { RunDirs } from './contract';
import { PipelineFailedError, type PipelineRunRequest } from './runner';

export interface Mount {
  hostPath: string;
  containerPath: string;
  readOnly: boolean;
}

export interface PipelineVolumes {
  /** The mounts of one container (beyond the three /kratix directories). */
  mountsFor(container: Container): Mount[];
  /** Removes what the volumes left on the host. */
  dispose(): Promise<void>;
}

/** Prepares the Pipeline's volumes for one run. */
export async function preparePipelineVolumes(
  pipeline: Pipeline,
  dirs: RunDirs,
  request: PipelineRunRequest,
  runnerName: string,
): Promise<PipelineVolumes> {
  const pipelineName = pipeline.metadata.name;
  const hostDirs: Record<string, string> = {
    'shared-input': dirs.input,
    'shared-output': dirs.output,
    'shared-metadata': dirs.metadata,
  };
  const readOnly = new Set<string>();
  const volumes = pipeline.spec?.volumes ?? [];
  let scratch: string | undefined;
  const dirFor = async (name: string): Promise<string> => {
    scratch ??= await mkdtemp(path.join(tmpdir(), 'promiseflow-volumes-'));
    const dir = path.join(scratch, name);
    await mkdir(dir, { recursive: true });
    return dir;
  };
  try {
    for (const volume of volumes) {
      if (volume.emptyDir !== undefined) {
        hostDirs[volume.name] = await dirFor(volume.name);
      } else if (volume.secret !== undefined || volume.configMap !== undefined) {
        const dir = await dirFor(volume.name);
        const files = request.resolved?.volumeFiles[volume.name];
        if (!files) {
          throw new PipelineFailedError(
            pipelineName,
            '<volume>',
            `volume "${volume.name}": its ${volume.secret ? 'Secret' : 'ConfigMap'} was not resolved for this run`,
          );
        }
        for (const [file, base64] of Object.entries(files)) {
          const target = path.resolve(dir, file);
          if (!target.startsWith(dir + path.sep)) {
            throw new PipelineFailedError(
              pipelineName,
              '<volume>',
              `volume "${volume.name}": item path "${file}" leaves the volume`,
            );
          }
          await mkdir(path.dirname(target), { recursive: true });
          await writeFile(target, Buffer.from(base64, 'base64'), { mode: 0o444 });
        }
        hostDirs[volume.name] = dir;
        readOnly.add(volume.name);
      } else {
        const kind = Object.keys(volume).find((k) => k !== 'name') ?? 'unknown';
        throw new PipelineFailedError(
          pipelineName,
          '<volume>',
          `volume "${volume.name}": ${kind} volumes are not supported by the ${runnerName} runner (emptyDir, secret and configMap are; the Kubernetes Job runner takes any)`,
        );
      }
    }
  } catch (err) {
    if (scratch) await rm(scratch, { recursive: true, force: true });
    throw err;
  }

  return {
    mountsFor(container: Container): Mount[] {
      return (container.volumeMounts ?? []).map((m) => {
        const base = hostDirs[m.name];
        if (base === undefined) {
          throw new PipelineFailedError(
            pipelineName,
            container.name,
            `volumeMount "${m.name}": ${m.name === 'promise-scheduling' ? 'the promise-scheduling volume is provided by the Kubernetes Job runner only' : 'no such volume in the Pipeline'}`,
          );
        }
        const hostPath = m.subPath ? path.resolve(base, m.subPath) : base;
        if (hostPath !== base && !hostPath.startsWith(base + path.sep)) {
          throw new PipelineFailedError(
            pipelineName,
            container.name,
            `volumeMount "${m.name}": subPath leaves the volume`,
          );
        }
        return {
          hostPath,
          containerPath: m.mountPath,
          readOnly: m.readOnly === true || readOnly.has(m.name),
        };
      });
    },
    async dispose() {
      if (scratch) await rm(scratch, { recursive: true, force: true });
    },
  };
}

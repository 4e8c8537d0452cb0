/**
 * The filesystem view each local pipeline container gets, built with bubblewrap (`bwrap`,
 * Debian's `bubblewrap` package): the host's root read-only, a private `/tmp` (and
 * `/var/tmp`) discarded when the container ends, its own `/proc` and `/dev`, and the run's
 * work directory as `/kratix`, the only place it can write that outlives it. All
 * capabilities are dropped, so the container cannot remount anything writable even as root,
 * and it gets its own PID, IPC and UTS namespaces, so it sees and signals only its own
 * processes. The network is shared, as a Pod's would reach the cluster network.
 *
 * bwrap rather than hand-written mount code: it is small, audited, packaged by every
 * distribution, and works both as root and unprivileged (through a user namespace).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runQuiet } from './run-quiet';

export const KRATIX_MOUNT_POINT = '/kratix';
export const BWRAP = 'bwrap';
/** Directories every container gets empty, private and writable. */
const PRIVATE_DIRS = ['/tmp', '/var/tmp'];
/** Where a container starts when its Pipeline gives no `workingDir`: empty and private. */
export const DEFAULT_WORKING_DIR = '/tmp';

export interface SandboxSpec {
  /** Host directory mounted read-write on /kratix (holds input/, output/, metadata/). */
  workDir: string;
  /** Working directory inside the container. */
  cwd: string;
  /**
   * Host directories that must stay visible although they lie under a private directory
   * (e.g. an image table kept in a temporary directory); mounted read-only.
   */
  keepVisible?: string[];
  /** The Pipeline's volume mounts (volumes.ts), after /kratix. */
  mounts?: { hostPath: string; containerPath: string; readOnly: boolean }[];
  argv: string[];
}

/** The `bwrap` arguments that run `spec.argv` in the sandbox. */
export function sandboxArgs(spec: SandboxSpec): string[] {
  const args = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc'];
  for (const dir of PRIVATE_DIRS) if (existsSync(dir)) args.push('--tmpfs', dir);
  for (const dir of spec.keepVisible ?? []) {
    if (PRIVATE_DIRS.some((p) => isInside(dir, p))) args.push('--ro-bind', dir, dir);
  }
  args.push('--bind', spec.workDir, KRATIX_MOUNT_POINT);
  for (const m of spec.mounts ?? []) {
    args.push(m.readOnly ? '--ro-bind' : '--bind', m.hostPath, m.containerPath);
  }
  args.push(
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
    // A worker that dies takes its containers with it, as a deleted Pod would.
    '--die-with-parent',
    '--cap-drop',
    'ALL',
    '--chdir',
    spec.cwd,
    '--',
    ...spec.argv,
  );
  return args;
}

function isInside(dir: string, parent: string): boolean {
  const rel = path.relative(parent, path.resolve(dir));
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/**
 * Fails with what to do when containers cannot be sandboxed here: bwrap missing, no
 * /kratix mount point, or namespaces not allowed. Runs one empty container.
 */
export async function probeSandbox(): Promise<void> {
  await ensureMountPoint();
  const probeDir = await mkdtemp(path.join(tmpdir(), 'promiseflow-probe-'));
  try {
    const { code, output } = await runQuiet(
      BWRAP,
      sandboxArgs({ workDir: probeDir, cwd: DEFAULT_WORKING_DIR, argv: ['/bin/sh', '-c', ':'] }),
    );
    if (code === 0) return;
    const missing = code === -1 && /ENOENT/.test(output);
    throw new Error(
      missing
        ? `cannot sandbox pipeline containers: ${BWRAP} (bubblewrap) is not installed; ` +
            'install the bubblewrap package (scripts/setup.sh does)'
        : `cannot sandbox pipeline containers with ${BWRAP} (needs root or unprivileged ` +
            `user namespaces): ${output.trim() || `exit ${code}`}`,
    );
  } finally {
    await rm(probeDir, { recursive: true, force: true });
  }
}

async function ensureMountPoint(): Promise<void> {
  try {
    await mkdir(KRATIX_MOUNT_POINT, { recursive: true });
  } catch {
    // Reported below if it really is missing.
  }
  const st = await stat(KRATIX_MOUNT_POINT).catch(() => undefined);
  if (!st?.isDirectory()) {
    throw new Error(
      `mount point ${KRATIX_MOUNT_POINT} does not exist; create it once as root ` +
        '(scripts/setup.sh does)',
    );
  }
}

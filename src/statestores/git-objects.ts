import { PipedGit, lineParser, type ResponseParser } from './git-piped';

/** What a tree entry is, as far as writing files goes. */
export type EntryKind = 'none' | 'dir' | 'file' | 'exec' | 'link' | 'gitlink';

interface TreeEntry {
  kind: EntryKind;
  oid: string;
}

const KINDS: Record<string, EntryKind> = {
  '40000': 'dir',
  '100644': 'file',
  '100755': 'exec',
  '120000': 'link',
  '160000': 'gitlink',
};

/** A raw tree object: `<octal mode> <name>\0<20-byte id>`, repeated. */
export function parseTree(buf: Buffer): Map<string, TreeEntry> {
  const entries = new Map<string, TreeEntry>();
  let at = 0;
  while (at < buf.length) {
    const sp = buf.indexOf(32, at);
    const nul = buf.indexOf(0, sp + 1);
    if (sp < 0 || nul < 0 || nul + 21 > buf.length) throw new Error('malformed tree object');
    const mode = buf.toString('latin1', at, sp);
    const name = buf.toString('utf8', sp + 1, nul);
    entries.set(name, { kind: KINDS[mode] ?? 'file', oid: buf.toString('hex', nul + 1, nul + 21) });
    at = nul + 21;
  }
  return entries;
}

/** `git cat-file --batch` answers: `<oid> <type> <size>\n<bytes>\n` or `<oid> missing\n`. */
const objectParser: ResponseParser<{ type: string; data: Buffer } | undefined> = (buf) => {
  const nl = buf.indexOf(10);
  if (nl < 0) return undefined;
  const header = buf.toString('utf8', 0, nl).split(' ');
  if (header.length !== 3) return { used: nl + 1, value: undefined };
  const size = Number(header[2]);
  if (buf.length < nl + 1 + size + 1) return undefined;
  return {
    used: nl + 1 + size + 1,
    value: { type: header[1]!, data: buf.subarray(nl + 1, nl + 1 + size) },
  };
};

/** Trees kept parsed; a fleet's directory of 10,000 resources is one of them. */
const TREE_CACHE = 32;

/**
 * Reads trees of a clone through one long-lived `git cat-file --batch`: what is at a path
 * in a commit, without a checkout.
 */
export class TreeReader {
  private readonly git: PipedGit;
  /** Parsed trees by id, least recently used first (ids are content: never stale). */
  private readonly trees = new Map<string, Map<string, TreeEntry>>();

  constructor(dir: string, env: Record<string, string>, timeoutMs: number) {
    this.git = new PipedGit(dir, ['cat-file', '--batch'], env, timeoutMs);
  }

  get running(): boolean {
    return this.git.running;
  }

  /** The kind of entry at root-relative `p` in `commit` ('' is the root itself). */
  async kindAt(commit: string | undefined, p: string): Promise<EntryKind> {
    if (!commit) return 'none';
    let tree = await this.tree(`${commit}^{tree}`);
    if (p === '') return 'dir';
    const parts = p.split('/');
    for (const [i, part] of parts.entries()) {
      const e = tree.get(part);
      if (!e) return 'none';
      if (i === parts.length - 1) return e.kind;
      if (e.kind !== 'dir') return 'none';
      tree = await this.tree(e.oid);
    }
    return 'none';
  }

  stop(): Promise<void> {
    return this.git.stop();
  }

  private async tree(ref: string): Promise<Map<string, TreeEntry>> {
    const hit = this.trees.get(ref);
    if (hit) {
      this.trees.delete(ref);
      this.trees.set(ref, hit);
      return hit;
    }
    const obj = await this.git.request(`${ref}\n`, objectParser);
    if (obj?.type !== 'tree') throw new Error(`${ref} is not a tree in the clone`);
    const parsed = parseTree(obj.data);
    // `<commit>^{tree}` names the same tree for good too: commits are immutable.
    this.trees.set(ref, parsed);
    if (this.trees.size > TREE_CACHE) this.trees.delete(this.trees.keys().next().value!);
    return parsed;
  }
}

/** A path as fast-import reads it: C-style quoted, so any byte but NUL is safe. */
export function quotePath(p: string): string {
  let out = '"';
  for (const ch of p) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (c < 0x20 || c === 0x7f) out += `\\${c.toString(8).padStart(3, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** One change of a commit, in order: a path removed, or a file written. */
export type TreeChange =
  { op: 'remove'; path: string } | { op: 'write'; path: string; exec: boolean; content: Buffer };

export interface CommitSpec {
  parent?: string;
  changes: readonly TreeChange[];
  message: string;
  author: { name: string; email: string };
}

/** Names fast-import's private branch; never pushed, only a handle for its commits. */
const IMPORT_REF = 'refs/promiseflow/import';

/** Angle brackets and newlines would break the ident line (git drops them too). */
const ident = (s: string) => s.replace(/[<>\n]/g, '').trim();

/**
 * Builds commits through one long-lived `git fast-import`: the changed files go straight
 * into new tree objects, with no index (megabytes for a fleet, read and rewritten by
 * every `git add`) and no work tree, and without starting a git process per step.
 */
export class CommitBuilder {
  private readonly git: PipedGit;

  constructor(dir: string, env: Record<string, string>, timeoutMs: number) {
    // --force: the private branch is reset to whatever base each commit starts from.
    this.git = new PipedGit(dir, ['fast-import', '--quiet', '--done', '--force'], env, timeoutMs);
  }

  get running(): boolean {
    return this.git.running;
  }

  /** Writes the commit and returns its id once its objects are in the repository. */
  async commit(spec: CommitSpec): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const who = `${ident(spec.author.name)} <${ident(spec.author.email)}> ${now} +0000`;
    const msg = Buffer.from(spec.message, 'utf8');
    const parts: (string | Buffer)[] = [
      spec.parent ? '' : `reset ${IMPORT_REF}\n\n`,
      `commit ${IMPORT_REF}\nmark :1\nauthor ${who}\ncommitter ${who}\ndata ${msg.length}\n`,
      msg,
      '\n',
      spec.parent ? `from ${spec.parent}\n` : '',
    ];
    for (const c of spec.changes) {
      if (c.op === 'remove') {
        parts.push(c.path === '' ? 'deleteall\n' : `D ${quotePath(c.path)}\n`);
      } else {
        const mode = c.exec ? '100755' : '100644';
        parts.push(
          `M ${mode} inline ${quotePath(c.path)}\ndata ${c.content.length}\n`,
          c.content,
          '\n',
        );
      }
    }
    // checkpoint: the pack is finished and its objects visible to other git commands.
    parts.push('\ncheckpoint\n\nget-mark :1\n');
    const oid = await this.git.request(parts, lineParser);
    if (!/^[0-9a-f]{40,64}$/.test(oid)) throw new Error(`git fast-import answered "${oid}"`);
    return oid;
  }

  stop(): Promise<void> {
    return this.git.stop('done\n');
  }
}

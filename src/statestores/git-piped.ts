import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

/**
 * Reads one response off the front of a process's output: how many bytes it took and
 * what it means, or undefined while the response is still incomplete.
 */
export type ResponseParser<T> = (buf: Buffer) => { used: number; value: T } | undefined;

interface Waiter {
  parse: ResponseParser<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

/**
 * A long-lived `git <args>` spoken to over stdin/stdout, requests answered in order.
 * Starting git costs a fork of this (large) process; a write round used to start four.
 */
export class PipedGit {
  private proc?: ChildProcessWithoutNullStreams;
  private out: Buffer = Buffer.alloc(0);
  private err = '';
  private readonly waiting: Waiter[] = [];
  private timer?: NodeJS.Timeout;
  private failure?: Error;

  constructor(
    private readonly dir: string,
    private readonly args: string[],
    private readonly env: Record<string, string>,
    /** No answer for this long: the process is killed and every request fails. */
    private readonly timeoutMs: number,
  ) {}

  get running(): boolean {
    return this.proc !== undefined && this.failure === undefined;
  }

  /** Writes `input`; resolves with the response `parse` reads (in request order). */
  request<T>(input: string | Buffer | (string | Buffer)[], parse: ResponseParser<T>): Promise<T> {
    const proc = this.start();
    const p = new Promise<T>((resolve, reject) => {
      this.waiting.push({ parse, resolve: resolve as (v: unknown) => void, reject });
    });
    this.write(proc, input);
    this.arm();
    this.drain();
    return p;
  }

  /** Writes commands that have no response. */
  send(input: string | Buffer | (string | Buffer)[]): void {
    this.write(this.start(), input);
  }

  /** Ends the process (stdin closed, `closing` written first) and waits for it to exit. */
  async stop(closing?: string): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    const exited = new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) resolve();
      else proc.once('close', () => resolve());
    });
    if (!this.failure && proc.stdin.writable) {
      if (closing) proc.stdin.write(closing);
      proc.stdin.end();
    }
    const kill = setTimeout(() => proc.kill('SIGKILL'), this.timeoutMs);
    await exited;
    clearTimeout(kill);
    this.fail(new Error(`git ${this.args[0]} stopped`));
    this.proc = undefined;
  }

  private start(): ChildProcessWithoutNullStreams {
    if (this.failure) throw this.failure;
    if (this.proc) return this.proc;
    const proc = spawn('git', this.args, { cwd: this.dir, env: this.env, stdio: 'pipe' });
    this.proc = proc;
    proc.stdout.on('data', (chunk: Buffer) => {
      this.out = this.out.length === 0 ? chunk : Buffer.concat([this.out, chunk]);
      this.drain();
    });
    proc.stderr.on('data', (chunk: Buffer) => {
      // The last lines say why it died; keep a bounded tail.
      this.err = (this.err + chunk.toString('utf8')).slice(-4000);
    });
    // EPIPE after an early exit: the 'close' handler reports the reason.
    proc.stdin.on('error', () => undefined);
    proc.on('error', (e) => this.fail(e));
    proc.on('close', (code, signal) => {
      const why = this.err.trim() || `exited with ${signal ?? `code ${String(code)}`}`;
      this.fail(new Error(`git ${this.args[0]}: ${why}`));
    });
    return proc;
  }

  private write(
    proc: ChildProcessWithoutNullStreams,
    input: string | Buffer | (string | Buffer)[],
  ) {
    for (const part of Array.isArray(input) ? input : [input]) proc.stdin.write(part);
  }

  private drain(): void {
    while (this.waiting.length > 0) {
      const w = this.waiting[0]!;
      let got: { used: number; value: unknown } | undefined;
      try {
        got = w.parse(this.out);
      } catch (e) {
        this.fail(e as Error);
        this.proc?.kill('SIGKILL');
        return;
      }
      if (!got) break;
      this.out = this.out.subarray(got.used);
      this.waiting.shift();
      w.resolve(got.value);
    }
    this.arm();
  }

  /** One timer for the oldest unanswered request, restarted whenever one is answered. */
  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.waiting.length === 0) return;
    this.timer = setTimeout(() => {
      this.fail(new Error(`git ${this.args[0]}: no answer for ${this.timeoutMs} ms`));
      this.proc?.kill('SIGKILL');
    }, this.timeoutMs);
  }

  private fail(e: Error): void {
    this.failure ??= e;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.waiting.splice(0)) w.reject(this.failure);
  }
}

/** One LF-terminated line (without the LF). */
export const lineParser: ResponseParser<string> = (buf) => {
  const nl = buf.indexOf(10);
  return nl < 0 ? undefined : { used: nl + 1, value: buf.subarray(0, nl).toString('utf8') };
};

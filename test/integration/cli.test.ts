import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { simpleGit } from 'simple-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config';
import { cliOk } from '../support/cli';
import { renderExample, startTestPlatform } from '../support/platform';
import type { TestPlatform } from '../support/platform';

const exec = promisify(execFile);
const BIN = path.join(PROJECT_ROOT, 'bin', 'promiseflow');
const example = (f: string) => path.join(PROJECT_ROOT, 'examples', 'mongodb', f);
const mongodb = (name: string, major: string) =>
  `apiVersion: promise.kratix.io/v1alpha1\nkind: MongoDB\nmetadata:\n  name: ${name}\nspec:\n  majorVersion: "${major}"\n`;
const UNSUPPORTED = 'execute-pipeline: unsupported majorVersion "3" for MongoDB "mongo-v3"';

/** The CLI as a kubectl user drives it (issue 13): namespaces, describe, watch, formats. */
describe('the promiseflow CLI', () => {
  let platform: TestPlatform;

  /** The environment of a shell that only has the platform's settings, nothing else of ours. */
  function cleanEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (!k.startsWith('PROMISEFLOW_') && !k.startsWith('XDG_') && !k.startsWith('TEMPORAL_')) {
        env[k] = v;
      }
    }
    return { ...env, ...extra };
  }

  async function run(
    args: string[],
    options: { cwd: string; env: NodeJS.ProcessEnv },
  ): Promise<{ stdout: string; stderr: string; code: number }> {
    return exec(process.execPath, [BIN, ...args], options).then(
      (r) => ({ ...r, code: 0 }),
      (err: { stdout: string; stderr: string; code: number }) => err,
    );
  }

  const platformEnv = () =>
    cleanEnv({
      PROMISEFLOW_DATA_DIR: platform.config.dataDir,
      PROMISEFLOW_TEMPORAL_ADDRESS: platform.config.temporal.address,
      PROMISEFLOW_TASK_QUEUE: platform.config.temporal.taskQueue,
    });

  beforeAll(async () => {
    platform = await startTestPlatform('cli');
    const repo = path.join(platform.dir, 'state.git');
    await simpleGit().init(true, [repo, '--initial-branch=main']);
    const platformYaml = path.join(platform.dir, 'platform.yaml');
    fs.writeFileSync(
      platformYaml,
      renderExample('examples/mongodb/platform.yaml', { STATE_STORE_URL: `file://${repo}` }),
    );
    await cliOk(platform, ['apply', '-f', platformYaml, '--wait']);
    await cliOk(platform, ['apply', '-f', example('promise.yaml'), '--wait']);
    await cliOk(platform, ['apply', '-f', example('mongo-v4.yaml'), '--wait']);
    const teamA = await platform.cli(
      ['apply', '-n', 'team-a', '-f', '-', '--wait'],
      `${mongodb('mongo-v4', '4')}---\n${mongodb('mongo-v5', '5')}`,
    );
    expect(teamA.code, teamA.stdout + teamA.stderr).toBe(0);
    expect(teamA.stdout).toContain('mongodb/team-a/mongo-v5 created');
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('takes -n for one namespace and -A for all, with a NAMESPACE column first', async () => {
    const teamA = await cliOk(platform, ['get', 'mongodbs', '-n', 'team-a']);
    expect(teamA.split('\n')[0]).toMatch(/^NAME\s+STATUS\s+AGE$/);
    expect(teamA).toMatch(/^mongo-v5\s+mongodb version: 5\.0\.14\s+\d+s$/m);
    expect(teamA).toMatch(/^mongo-v4\s/m);
    const all = (await cliOk(platform, ['get', 'mongodbs', '-A'])).trim().split('\n');
    expect(all[0]).toMatch(/^NAMESPACE\s+NAME\s+STATUS\s+AGE$/);
    expect(all.slice(1).map((l) => l.split(/\s+/).slice(0, 2).join('/'))).toEqual([
      'default/mongo-v4',
      'team-a/mongo-v4',
      'team-a/mongo-v5',
    ]);
    // The same name in two namespaces: a by-name verb needs -n rather than picking one.
    const ambiguous = await platform.cli(['describe', 'mongodbs', 'mongo-v4']);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain('namespaces default, team-a');
    const described = await cliOk(platform, ['describe', 'mongodb', 'mongo-v4', '-n', 'team-a']);
    expect(described).toMatch(/^Namespace:\s+team-a$/m);
    await cliOk(platform, ['label', 'mongodbs', 'mongo-v4', 'tier=gold', '-n', 'team-a']);
    expect(await cliOk(platform, ['get', 'mongodbs', '-A', '-l', 'tier=gold', '-o', 'name'])).toBe(
      'mongodb.promise.kratix.io/mongo-v4\n',
    );
  });

  it('prints -o name, -o wide and -o jsonpath as kubectl does', async () => {
    expect(await cliOk(platform, ['get', 'promises', '-o', 'name'])).toBe(
      'promise.platform.kratix.io/mongodb\n',
    );
    const wide = await cliOk(platform, ['get', 'mongodbs', '-n', 'default', '-o', 'wide']);
    expect(wide.split('\n')[0]).toMatch(/^NAME\s+STATUS\s+AGE\s+VERSION\s+MESSAGE$/);
    expect(wide).toMatch(/^mongo-v4\s+mongodb version: 4\.4\.23\s+\S+\s+v0\.1\.0\s+Reconciled$/m);
    const jsonpath = await cliOk(platform, [
      'get',
      'mongodbs',
      '-A',
      '-o',
      'jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}={.status.version}{"\\n"}{end}',
    ]);
    expect(jsonpath).toBe(
      'default/mongo-v4=4.4.23\nteam-a/mongo-v4=4.4.23\nteam-a/mongo-v5=5.0.14\n',
    );
  });

  it("shows a failed request's own pipeline error in get, describe and the failed apply", async () => {
    const r = await platform.cli(['apply', '-f', '-', '--wait'], mongodb('mongo-v3', '3'));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(UNSUPPORTED);
    expect(await cliOk(platform, ['get', 'mongodbs', 'mongo-v3'])).toMatch(
      /^mongo-v3\s+Failed\s+\d+s$/m,
    );
    const described = await cliOk(platform, ['describe', 'mongodbs', 'mongo-v3']);
    const conditions = described.slice(
      described.indexOf('Conditions:'),
      described.indexOf('Events:'),
    );
    expect(conditions).toMatch(
      /Reconciled\s+False\s+ReconcileFailed\s+\S+\s+pipeline "instance-configure"/,
    );
    expect(conditions).toContain(UNSUPPORTED);
    const events = described.slice(described.indexOf('Events:'));
    expect(events).toMatch(
      /Warning\s+ReconcileFailed\s+\S+\s+pipeline .*unsupported majorVersion "3"/,
    );
  });

  it('ends a fleet update with failures visibly: its phase, status, the Promise and describe', async () => {
    const r = await platform.cli(['apply', '-f', example('promise-v0.2.0.yaml'), '--wait']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('promise/mongodb (v0.2.0): FAILED (1 resource(s) failed)');
    expect(r.stdout).toContain(`✗ default/mongo-v3: pipeline "instance-configure"`);

    const status = await cliOk(platform, ['status']);
    expect(status).toMatch(
      /^promise-update\/mongodb\s+mongodb v0\.2\.0\s+completed-with-failures\s+3\/4 done, 1 failed, 0 running/m,
    );
    expect(status).toContain(
      `✗ default/mongo-v3: pipeline "instance-configure" container "create-instance" failed: exited with code 1: ${UNSUPPORTED}`,
    );
    expect(await cliOk(platform, ['get', 'promises'])).toMatch(
      /^mongodb\s+Available, 1 resource\(s\) failed\s+v0\.2\.0\s/m,
    );
    const described = await cliOk(platform, ['describe', 'promise', 'mongodb']);
    expect(described).toMatch(
      /ResourcesReconciled\s+False\s+ResourcesFailed\s+\S+\s+Update to v0\.2\.0 completed with failures: 1 of 4/,
    );
    expect(described).toMatch(/Warning\s+ResourcesFailed/);
    expect(described).toMatch(
      /^Last update:\s+promise-update\/mongodb \(completed\): v0\.2\.0 completed-with-failures, 3\/4 done, 1 failed/m,
    );
    // The healthy part of the fleet was still upgraded.
    expect(await cliOk(platform, ['get', 'mongodbs', '-n', 'team-a'])).toMatch(
      /^mongo-v5\s+mongodb version: 5\.0\.15\s/m,
    );
  });

  it('watches with get -w: prints what changes, and Ctrl-C exits 0 with the clients closed', async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'get', 'mongodbs', '-n', 'default', '-w', '--watch-interval', '0.2'],
      { env: platformEnv(), cwd: platform.dir },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    const until = async (what: string, check: () => boolean) => {
      for (let i = 0; i < 300 && !check(); i++) await new Promise((r) => setTimeout(r, 100));
      expect(check(), `${what}\n${stdout}${stderr}`).toBe(true);
    };
    await until('the first listing', () => /^mongo-v4\s/m.test(stdout));
    const header = stdout.split('\n')[0];
    await cliOk(platform, ['label', 'mongodbs', 'mongo-v4', 'watched=yes', '-n', 'default']);
    await until(
      'the changed row',
      () => stdout.split('\n').filter((l) => l.startsWith('mongo-v4 ')).length === 2,
    );
    expect(stdout.split('\n').filter((l) => l === header)).toHaveLength(1);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stderr).toBe('');
  });

  it('answers --version, suggests the command for a typo without the whole help, and completes', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(await cliOk(platform, ['--version'])).toBe(`${pkg.version}\n`);
    const typo = await platform.cli(['gte', 'promises']);
    expect(typo.code).not.toBe(0);
    expect(typo.stderr).toContain("unknown command 'gte'");
    expect(typo.stderr).toContain('Did you mean get?');
    expect(typo.stderr).not.toContain('Commands:');
    const kind = await platform.cli(['get', 'mongdbs']);
    expect(kind.code).toBe(2);
    expect(kind.stderr).toContain('got mongdbs (did you mean mongodbs?)');

    // The real bash completion function, as a shell that sourced it runs it on <TAB>.
    const script = await cliOk(platform, ['completion', 'bash']);
    const complete = async (...words: string[]) => {
      const shell = `source /dev/stdin <<'EOF'\n${script}\nEOF\nCOMP_WORDS=(${[BIN, ...words].map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length}; _promiseflow_complete; printf '%s\\n' "\${COMPREPLY[@]}"`;
      const { stdout } = await exec('bash', ['-c', shell], { env: platformEnv() });
      return stdout.split('\n').filter((l) => l !== '');
    };
    expect(await complete('des')).toEqual(['describe']);
    expect(await complete('get', 'mongo')).toEqual(['mongodbs']);
    expect(await complete('describe', 'mongodbs', 'mongo-v')).toEqual([
      'mongo-v3',
      'mongo-v4',
      'mongo-v5',
    ]);
    expect(await complete('get', 'promises', '-o', 'w')).toEqual(['wide']);
    expect(await complete('pause', '')).toEqual(['mongodb']);
  });

  it('reaches the same platform from any directory, through the XDG config and data dirs', async () => {
    const home = path.join(platform.dir, 'home');
    // A user's data dir holding this platform, and a config file naming only Temporal.
    fs.mkdirSync(path.join(home, '.local', 'share'), { recursive: true });
    fs.symlinkSync(platform.config.dataDir, path.join(home, '.local', 'share', 'promiseflow'));
    const configDir = path.join(home, '.config', 'promiseflow');
    fs.mkdirSync(configDir, { recursive: true });
    fs.writeFileSync(
      path.join(configDir, 'config.yaml'),
      `temporalAddress: ${platform.config.temporal.address}\ntaskQueue: ${platform.config.temporal.taskQueue}\n`,
    );
    const env = cleanEnv({ HOME: home });
    // The platform's own Promise (its uid), not merely one of the same name.
    const uid = (await platform.client.get('promises', { name: 'mongodb' })).items[0]!.metadata.uid;
    expect(uid).toBeTruthy();
    const uidFrom = async (cwd: string) => {
      const r = await run(['get', 'promises', '-o', 'jsonpath={.items[*].metadata.uid}'], {
        cwd,
        env,
      });
      expect(r.code, r.stderr).toBe(0);
      return r.stdout;
    };
    expect(await uidFrom('/tmp')).toBe(uid);
    expect(await uidFrom(PROJECT_ROOT)).toBe(uid);
    // Nothing is made in the current directory any more.
    const elsewhere = fs.mkdtempSync(path.join(platform.dir, 'cwd-'));
    expect(await uidFrom(elsewhere)).toBe(uid);
    expect(fs.readdirSync(elsewhere)).toEqual([]);
    const view = await run(['config', 'view'], { cwd: '/tmp', env });
    expect(view.stdout).toContain(`configFile: ${path.join(configDir, 'config.yaml')}\n`);
    expect(view.stdout).toContain(
      `dataDir: ${path.join(home, '.local', 'share', 'promiseflow')}\n`,
    );
    // A status query goes to the Temporal of the config file.
    expect((await run(['status', 'mongodb'], { cwd: '/tmp', env })).stdout).toMatch(
      /^promise-update\/mongodb\s+mongodb v0\.2\.0/m,
    );
  });
});

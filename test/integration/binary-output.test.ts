import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Work } from '../../src/model/types';
import { startTestPlatform, type TestPlatform } from '../support/platform';
import { shPromise } from '../support/sh-promise';
import { destinationYaml, storeUnderTest, type StoreUnderTest } from '../support/stores-under-test';

/** Every byte value once, as the pipeline below writes it: \xFF\xFE, NUL, CR, LF… */
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const SCRIPT = [
  'i=0',
  'while [ $i -lt 256 ]; do printf "\\\\$(printf %03o $i)"; i=$((i+1)); done > /kratix/output/all-bytes.bin',
  "printf 'kind: ConfigMap\\nname: caf\\303\\251\\n' > /kratix/output/text.yaml",
].join('\n');

/** behaviour §11: output bytes reach the state store unchanged, on Git and on S3. */
describe('binary pipeline output', () => {
  let platform: TestPlatform;
  let git: StoreUnderTest;
  let s3: StoreUnderTest;

  beforeAll(async () => {
    platform = await startTestPlatform('binary');
    git = await storeUnderTest('git', path.join(platform.dir, 'git'));
    s3 = await storeUnderTest('s3', path.join(platform.dir, 's3'));
    const file = path.join(platform.dir, 'platform.yaml');
    fs.writeFileSync(
      file,
      [
        git.storeYaml,
        destinationYaml(git, 'git-1'),
        s3.storeYaml,
        destinationYaml(s3, 's3-1'),
      ].join('---\n'),
    );
    const r = await platform.cli(['apply', '-f', file, '--wait']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  afterAll(async () => {
    await platform?.stop();
    await git?.stop();
    await s3?.stop();
  });

  it('reaches Git and S3 byte for byte, while text output stays readable text in the Work', async () => {
    const r = await platform.cli(
      ['apply', '-f', '-', '--wait'],
      shPromise({ name: 'bytes', version: 'v1', promiseScript: SCRIPT }),
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);

    for (const [store, destination] of [
      [git, 'git-1'],
      [s3, 's3-1'],
    ] as const) {
      const dir = `${destination}/dependencies/bytes/promise-render/5058f`;
      expect(await store.files(dir)).toEqual([`${dir}/all-bytes.bin`, `${dir}/text.yaml`]);
      const bytes = await store.readBytes(`${dir}/all-bytes.bin`);
      expect(bytes?.toString('hex'), store.kind).toBe(ALL_BYTES.toString('hex'));
      expect((await store.readBytes(`${dir}/text.yaml`))?.toString('utf8')).toBe(
        'kind: ConfigMap\nname: café\n',
      );
    }

    // The Work keeps text as text (readable, and hashed as before) and only binary as base64.
    const works = (await platform.client.get('works')).items as unknown as Work[];
    const workloads = works.flatMap(
      (w) => w.spec?.workloadGroups.flatMap((g) => g.workloads) ?? [],
    );
    expect(workloads.find((w) => w.filepath === 'text.yaml')).toEqual({
      filepath: 'text.yaml',
      content: 'kind: ConfigMap\nname: café\n',
    });
    expect(workloads.find((w) => w.filepath === 'all-bytes.bin')).toEqual({
      filepath: 'all-bytes.bin',
      content: ALL_BYTES.toString('base64'),
      encoding: 'base64',
    });
  });
});

// Child process for the multi-process Git writer test: one more worker process writing
// the same remote through the same cache directory as its siblings.
// Arguments: <compiled statestores/git.js> <cacheDir> <remote url> <writer id> <count>.
const [modulePath, cacheDir, url, id, countText] = process.argv.slice(2);
const { GitStateStoreWriter } = require(modulePath);

async function main() {
  const writer = new GitStateStoreWriter({
    store: {
      apiVersion: 'platform.kratix.io/v1alpha1',
      kind: 'GitStateStore',
      metadata: { name: 'shared' },
      spec: { url, branch: 'main' },
    },
    cacheDir,
    maxPushAttempts: 50,
  });
  // Waves of updates at once: within the process each wave is grouped (one fetch, one
  // push), across processes the waves race for the branch.
  const count = Number(countText);
  for (let start = 0; start < count; start += 4) {
    const wave = Array.from({ length: Math.min(4, count - start) }, (_, k) => start + k);
    await Promise.all(
      wave.map((i) =>
        writer.update({
          message: `Update from: p${id}-${i}`,
          replaceDirs: [
            { dir: `p${id}/${i}`, files: [{ path: 'f.yaml', content: `writer: p${id}-${i}\n` }] },
          ],
        }),
      ),
    );
  }
  await writer.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

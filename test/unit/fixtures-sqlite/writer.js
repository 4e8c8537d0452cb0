// Child process for the SQLite concurrency tests: a separate OS process writing to the same
// platform.db as its siblings.
// Arguments: <compiled sqlite.js> <dataDir> <writer id> <count> <'shared' to also patch Counter/shared>.
const [modulePath, dataDir, id, countText, mode] = process.argv.slice(2);
const { openSqlitePlatformStore } = require(modulePath);

async function main() {
  const count = Number(countText);
  const store = openSqlitePlatformStore(dataDir);
  for (let i = 0; i < count; i++) {
    await store.apply({
      apiVersion: 'example.com/v1',
      kind: 'Thing',
      metadata: { name: `w${id}-${i}`, namespace: 'ns', labels: { writer: id } },
      spec: { i },
    });
    if (mode !== 'shared') continue;
    // Read-modify-write of one shared row: a lost update would drop a label.
    const shared = await store.patchLabels(
      { kind: 'Counter', name: 'shared' },
      { [`w${id}-${i}`]: 'x' },
    );
    if (shared === undefined) throw new Error('shared Counter is missing');
  }
  await store.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

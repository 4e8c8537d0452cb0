import { benchFleetUpgrade } from './fleet';
import { benchStateStores } from './statestores';

/**
 * `npm run bench`: throughput measured in one run, printed as ratios against the raw
 * tools doing the same work. Timings live here, never in pass/fail tests.
 */
async function main(): Promise<void> {
  await benchStateStores();
  await benchFleetUpgrade();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

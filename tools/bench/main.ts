import { benchFleet } from './fleet';
import { benchStateStores } from './statestores';

/**
 * `npm run bench`: figures measured in one run, printed as ratios against the raw tools
 * (state stores) and the Temporal floor (fleet). Timings live here, never in pass/fail
 * tests. `npm run bench -- fleet` (or `statestores`) runs one part.
 */
async function main(): Promise<void> {
  const parts = process.argv.slice(2);
  const want = (p: string) => parts.length === 0 || parts.includes(p);
  if (want('statestores')) await benchStateStores();
  if (want('fleet')) await benchFleet();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

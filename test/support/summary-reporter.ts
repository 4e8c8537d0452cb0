import type { File, Task } from '@vitest/runner';
import type { Reporter } from 'vitest/reporters';

/** Ends the run with one plain line, `N passed, N failed[, N skipped]`, for CI readers. */
export default class SummaryReporter implements Reporter {
  onFinished(files: File[] = []): void {
    const counts = { pass: 0, fail: 0, skip: 0 };
    const visit = (task: Task): void => {
      if (task.type === 'suite') {
        task.tasks.forEach(visit);
        return;
      }
      const state = task.result?.state;
      if (state === 'pass') counts.pass++;
      else if (state === 'fail') counts.fail++;
      else counts.skip++;
    };
    files.forEach(visit);
    const skipped = counts.skip > 0 ? `, ${counts.skip} skipped` : '';
    process.stdout.write(`\n${counts.pass} passed, ${counts.fail} failed${skipped}\n`);
  }
}

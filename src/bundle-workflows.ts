// Entry point of the short-lived child process that `buildWorkflowBundle` starts: bundles the workflow code with
// the SDK's webpack set-up and writes it to the file named by the first argument.
import fs from 'node:fs';

import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';

async function main(): Promise<void> {
  const outFile = process.argv[2];
  if (!outFile) throw new Error('Usage: bundle-workflows <output file>');
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('./workflows'),
    logger: new DefaultLogger('WARN'),
  });
  fs.writeFileSync(outFile, code);
}

// Exits at once when done, so that a handle left open by a preloaded module cannot keep the process alive.
main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);

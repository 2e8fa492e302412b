// The worker's workflow code, bundled in a child process at every start, so the bundle always matches the code.
// Bundling runs webpack, whose memory the worker would keep: an idle worker had 330 MB of RSS when it bundled the
// code itself and 173 MB with a prebuilt bundle (bench/RESULTS.md).
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** Node options that load TypeScript support, such as tsx's `--import tsx`, which the child needs as well. */
const LOADER_OPTIONS = new Set(['--import', '--require', '-r', '--loader', '--experimental-loader']);

/** Time limit of the bundling child, which a preloaded module could hold up. Bundling takes about 2 s here. */
const BUNDLE_TIMEOUT_MS = 120_000;

/** Bundles the workflow code in a child process with the parent's TypeScript loader, and returns the code. */
export async function buildWorkflowBundle(): Promise<{ code: string }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'per-user-db-bundle-'));
  const outFile = path.join(dir, 'workflows.js');
  // The entry point has the extension of this file: .ts under tsx, .js once compiled to dist/.
  const entry = path.join(__dirname, `bundle-workflows${path.extname(__filename)}`);
  try {
    await new Promise<void>((resolve, reject) => {
      const args = [...loaderArguments(process.execArgv), entry, outFile];
      execFile(process.execPath, args, { timeout: BUNDLE_TIMEOUT_MS }, (error, _stdout, stderr) => {
        if (!error) {
          resolve();
          return;
        }

        const reason = error.killed
          ? `timed out after ${BUNDLE_TIMEOUT_MS / 1000} s. Check NODE_OPTIONS for preloaded modules`
          : `failed: ${stderr.trim() || error.message}`;
        reject(new Error(`Bundling the workflow code ${reason}`));
      });
    });
    return { code: await fs.readFile(outFile, 'utf8') };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Keeps only the loader options of `execArgv`, in both the `--import x` and the `--import=x` forms. */
export function loaderArguments(execArgv: readonly string[]): string[] {
  const options: string[] = [];
  for (let index = 0; index < execArgv.length; index += 1) {
    const argument = execArgv[index] as string;
    const name = argument.split('=', 1)[0] as string;
    if (!LOADER_OPTIONS.has(name)) continue;
    options.push(argument);
    const value = execArgv[index + 1];
    if (!argument.includes('=') && value !== undefined) {
      options.push(value);
      index += 1;
    }
  }
  return options;
}

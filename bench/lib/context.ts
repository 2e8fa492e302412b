// The input of every scenario: its command-line options, the report and scratch folders.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { Report } from './report';

export interface ScenarioOptions {
  /** Seconds of load per measurement; each scenario has its own default. */
  durationS?: number;
  /** Deliveries per second; each scenario has its own default. */
  rate?: number;
  /** Rates of the floor and ack scenarios, in deliveries per second. */
  rates?: number[];
  /** Number of users (signups) for throughput, duplicates, crash and outage. */
  users?: number;
  /** Numbers of existing tenants for the scaling scenario. */
  tenants?: number[];
  /** Dev server state storage; `file` is what `npm start` runs. */
  store: 'file' | 'memory';
  /** Keeps the scratch folders, with the process logs, instead of deleting them. */
  keep: boolean;
}

export interface ScenarioContext {
  options: ScenarioOptions;
  report: Report;
  /** Creates a new scratch folder, which is deleted after the scenario unless `--keep` is set. */
  scratchDir(name: string): string;
}

export type Scenario = (context: ScenarioContext) => Promise<void>;

export function createScratchDirs(keep: boolean) {
  const created: string[] = [];
  return {
    scratchDir(name: string): string {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `per-user-db-bench-${name}-`));
      created.push(dir);
      return dir;
    },
    cleanUp(): void {
      if (keep) {
        for (const dir of created) process.stdout.write(`Kept ${dir}\n`);
      } else {
        for (const dir of created) fs.rmSync(dir, { recursive: true, force: true });
      }
      created.length = 0;
    },
  };
}

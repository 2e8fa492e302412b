// The results table: one header per run with the command, machine and date, then one markdown row per
// measurement, appended to the output file as soon as it is taken so that a failed run keeps its rows.
import fs from 'node:fs';
import os from 'node:os';

import { countStatuses, isSuccess, type LatencySummary, type Sample, summarize } from './load';

export const TABLE_HEADER = [
  '| scenario | load | requests | 2xx | non-2xx | errors | p50 ms | p90 ms | p99 ms | max ms | result |',
  '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
];

export interface Row {
  scenario: string;
  load: string;
  samples: Sample[];
  result: string;
}

export class Report {
  /**
   * @param scenarioSuffix appended to every scenario name, such as ` [memory]` for a run whose dev server kept its
   * state in memory, so that rows from different runs stay apart once pasted together.
   */
  constructor(
    private readonly file: string,
    private readonly scenarioSuffix = '',
  ) {}

  /** Writes the run's header: the exact command, cores, memory, Node version and date. */
  begin(command: string): void {
    const cpus = os.cpus();
    const lines = [
      `Command: \`${command}\``,
      '',
      `Machine: ${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown model'}), ` +
        `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB memory, ${os.type()} ${os.release()} ${os.arch()}; ` +
        `Node ${process.version}; ${new Date().toISOString()}`,
      '',
      ...TABLE_HEADER,
      '',
    ];
    fs.writeFileSync(this.file, lines.join('\n'));
    process.stdout.write(`${lines.join('\n')}`);
  }

  /** Formats a row, appends it to the file and prints it. */
  add(row: Row): void {
    const latency = summarize(row.samples.map((sample) => sample.latencyMs));
    const statuses = countStatuses(row.samples);
    const successes = row.samples.filter(isSuccess).length;
    const errors = statuses.get('error') ?? 0;
    const cells = [
      `${row.scenario}${row.scenario === 'outage' ? '' : this.scenarioSuffix}`,
      row.load,
      String(row.samples.length),
      String(successes),
      String(row.samples.length - successes - errors),
      String(errors),
      ...latencyCells(latency),
      row.result,
    ];
    const line = `| ${cells.join(' | ')} |\n`;
    fs.appendFileSync(this.file, line);
    process.stdout.write(line);
  }

  /** Appends a line below the table, such as a scenario that failed before it produced a row. */
  note(text: string): void {
    fs.appendFileSync(this.file, `\n${text}\n`);
    process.stdout.write(`\n${text}\n`);
  }
}

function latencyCells(latency: LatencySummary): string[] {
  return [latency.p50, latency.p90, latency.p99, latency.max].map(formatMs);
}

export function formatMs(ms: number): string {
  if (Number.isNaN(ms)) return '–';
  if (ms < 10) return ms.toFixed(2);
  if (ms < 100) return ms.toFixed(1);
  return ms.toFixed(0);
}

export function formatMb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MB`;
}

/** Describes statuses other than 2xx, such as `503×12, error×1`, or `none`. */
export function describeFailures(samples: Sample[]): string {
  const parts = [...countStatuses(samples)]
    .filter(([status]) => !status.startsWith('2'))
    .map(([status, count]) => `${status}×${count}`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}

/** States whether `value` meets `limit` (lower is better) and, if not, by how much. */
export function verdict(value: number, limit: number, unit: string): string {
  const measured = `${formatMs(value)} ${unit}`;
  if (value <= limit) return `${measured} ≤ ${limit} ${unit}: met`;
  return `${measured} > ${limit} ${unit}: missed by ${formatMs(value - limit)} ${unit} (${(value / limit).toFixed(2)}×)`;
}

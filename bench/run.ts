// Runs benchmark scenarios: `npm run bench -- <scenario|all> [options]`. See bench/README.md.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { createScratchDirs, type Scenario, type ScenarioOptions } from './lib/context';
import { Report } from './lib/report';
import { ack, baseline, floor, scaling, startOnly } from './scenarios/latency';
import { crash, duplicates, outage } from './scenarios/reliability';
import { throughput } from './scenarios/throughput';

const SCENARIOS: Record<string, Scenario> = {
  floor,
  'start-only': startOnly,
  ack,
  baseline,
  scaling,
  throughput,
  duplicates,
  crash,
  outage,
};

const USAGE = `Usage: npm run bench -- <scenario|all> [options]

Scenarios: ${Object.keys(SCENARIOS).join(', ')}, or all of them in that order.

Options:
  --duration S    seconds of load per measurement (default per scenario: 20 for floor, start-only, ack and baseline)
  --rate N        deliveries per second for scaling, throughput, crash and outage
  --rates A,B,C   deliveries per second for floor, start-only, ack and baseline (default 100,300,500)
  --users N       signups for throughput (1000), duplicates (100), crash (500)
  --tenants A,B   existing tenants for scaling (default 0,10000,100000)
  --store S       dev server state: file (default, as npm start runs it) or memory
  --out FILE      results file (default bench/results/<date>.md)
  --keep          keep the scratch folders with the process logs
`;

function parseNumber(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0)
    throw new Error(`Invalid --${name} ${value}: expected a positive number`);
  return number;
}

function parseList(name: string, value: string | undefined, allowZero = false): number[] | undefined {
  if (value === undefined) return undefined;
  return value.split(',').map((item) => {
    const number = Number(item);
    if (!Number.isInteger(number) || number < (allowZero ? 0 : 1)) {
      throw new Error(`Invalid --${name} ${value}: expected comma-separated whole numbers`);
    }
    return number;
  });
}

function parseStore(value: string | undefined): 'file' | 'memory' {
  if (value === 'file' || value === 'memory') return value;
  throw new Error(`Invalid --store ${value}: expected file or memory`);
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      duration: { type: 'string' },
      rate: { type: 'string' },
      rates: { type: 'string' },
      users: { type: 'string' },
      tenants: { type: 'string' },
      out: { type: 'string' },
      store: { type: 'string', default: 'file' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });

  const requested = positionals[0];
  if (values.help || requested === undefined) {
    process.stdout.write(USAGE);
    return;
  }
  const names = requested === 'all' ? Object.keys(SCENARIOS) : requested.split(',');
  const unknown = names.filter((name) => !(name in SCENARIOS));
  if (unknown.length > 0) throw new Error(`Unknown scenario ${unknown.join(', ')}\n\n${USAGE}`);

  const options: ScenarioOptions = {
    durationS: parseNumber('duration', values.duration),
    rate: parseNumber('rate', values.rate),
    rates: parseList('rates', values.rates),
    users: parseNumber('users', values.users),
    tenants: parseList('tenants', values.tenants, true),
    store: parseStore(values.store),
    keep: values.keep ?? false,
  };

  const out = values.out ?? path.join(__dirname, 'results', `${new Date().toISOString().replace(/[:.]/g, '-')}.md`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const report = new Report(out, options.store === 'memory' ? ' [memory]' : '');
  report.begin(`npm run bench -- ${process.argv.slice(2).join(' ')}`);

  const scratch = createScratchDirs(options.keep);
  let failures = 0;
  for (const name of names) {
    try {
      await (SCENARIOS[name] as Scenario)({ options, report, scratchDir: scratch.scratchDir });
    } catch (error) {
      failures++;
      report.note(
        `Scenario ${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
    } finally {
      scratch.cleanUp();
    }
  }
  process.stdout.write(`\nRows written to ${path.relative(process.cwd(), out)}\n`);
  process.exitCode = failures > 0 ? 1 : 0;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

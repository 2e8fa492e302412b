// Acknowledgement latency: the floor (signature check only), our API with Temporal behind it, the tutorial's
// synchronous baseline, and how each behaves as the number of existing tenants grows.
import fs from 'node:fs';
import path from 'node:path';

import { freePort } from '../../test/helpers/dev-server';
import type { Scenario, ScenarioContext } from '../lib/context';
import {
  buildDeliveries,
  createAgent,
  type LoadResult,
  randomUserId,
  runOpenLoop,
  SIGNING_SECRET,
  summarize,
} from '../lib/load';
import { childEnv, MemorySampler, NodeChild, waitForHealthy } from '../lib/processes';
import { describeFailures, formatMb, formatMs, verdict } from '../lib/report';
import { type BenchSystem, startBenchSystem, waitForReady } from '../lib/system';

const DEFAULT_RATES = [100, 300, 500];
const ACK_DURATION_S = 20;
const SCALING_DURATION_S = 10;
const SCALING_RATE = 50;
const DEFAULT_TENANTS = [0, 10_000, 100_000];
const ACK_P99_LIMIT_MS = 15;
const SCALING_RATIO_LIMIT = 1.1;
/** Maximum wait for the worker to finish the previous measurement's workflows before the next one starts. */
const DRAIN_TIMEOUT_MS = 15 * 60_000;
const TENANT_REGIONS = ['eu-west-1', 'us-east-1', 'ap-southeast-2'];

/** Starts one of the bench's own servers in `bench/servers/` and returns it with its URL. */
async function startBenchServer(name: 'floor' | 'baseline', dataDir: string) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = new NodeChild(
    name,
    path.resolve(__dirname, '../servers', `${name}.ts`),
    childEnv({ PORT: String(port), HOOKDECK_WEBHOOK_SECRET: SIGNING_SECRET, DATA_DIR: dataDir }),
    path.join(dataDir, `${name}.log`),
  );
  await server.start(() => waitForHealthy(url));
  return { server, url };
}

interface Measurement extends LoadResult {
  /** Largest sampled VmRSS of the server process during the load, in bytes. */
  serverRss: number;
  /** Deliveries that got 202, including the warm-up's. */
  started: number;
}

/** Seconds of load sent before each measurement and left out of it, so that JIT compilation and connection set-up
 * do not count. */
const WARM_UP_S = 1;

/** Sends `rate` deliveries per second for `durationS` seconds to `url` while sampling the server's memory. */
async function measure(url: string, rate: number, durationS: number, server: NodeChild): Promise<Measurement> {
  const agent = createAgent();
  const warmUp = await runOpenLoop({ baseUrl: url, agent, rate, deliveries: buildDeliveries(rate * WARM_UP_S) });
  const deliveries = buildDeliveries(rate * durationS);
  const sampler = new MemorySampler(server).start();
  try {
    const result = await runOpenLoop({ baseUrl: url, agent, rate, deliveries });
    const started = [...warmUp.samples, ...result.samples].filter((sample) => sample.status === 202).length;
    return { ...result, serverRss: sampler.stop().maxRss, started };
  } finally {
    sampler.stop();
    agent.destroy();
  }
}

function loadLabel(rate: number, durationS: number): string {
  return `${rate}/s × ${durationS} s`;
}

function rateNote(result: LoadResult, requested: number): string {
  const achieved = result.samples.length / result.elapsedS;
  return `achieved ${achieved.toFixed(0)}/s of ${requested}/s; generator lag max ${formatMs(result.maxSendLagMs)} ms`;
}

export const floor: Scenario = async ({ options, report, scratchDir }) => {
  const durationS = options.durationS ?? ACK_DURATION_S;
  const { server, url } = await startBenchServer('floor', scratchDir('floor'));
  try {
    for (const rate of options.rates ?? DEFAULT_RATES) {
      const result = await measure(url, rate, durationS, server);
      report.add({
        scenario: 'floor',
        load: loadLabel(rate, durationS),
        samples: result.samples,
        result: `${rateNote(result, rate)}; server RSS max ${formatMb(result.serverRss)}`,
      });
    }
  } finally {
    await server.stop();
  }
};

/** Waits until the worker has closed every workflow started so far, so that one measurement's backlog does not
 * load the next one. */
async function drain(system: BenchSystem, expected: number): Promise<string> {
  const counts = await waitForReady(system.client, expected, DRAIN_TIMEOUT_MS);
  return counts.timedOut ? `; backlog not drained: ${counts.inFlight} still provisioning` : '';
}

export const ack: Scenario = (context) => measureAck(context, 'ack');

/**
 * The ack measurement with no worker running: the dev server only records workflow starts. The gap between this
 * and `ack` is what provisioning costs the acknowledgement on a shared machine.
 */
export const startOnly: Scenario = (context) => measureAck(context, 'start-only');

async function measureAck({ options, report, scratchDir }: ScenarioContext, scenario: 'ack' | 'start-only') {
  const durationS = options.durationS ?? ACK_DURATION_S;
  const withWorker = scenario === 'ack';
  const system = await startBenchSystem({
    dataDir: scratchDir(scenario),
    store: options.store,
    startWorker: withWorker,
  });
  let accepted = 0;
  try {
    for (const rate of options.rates ?? DEFAULT_RATES) {
      const result = await measure(system.apiUrl, rate, durationS, system.api);
      accepted += result.started;
      const p99 = summarize(result.samples.map((sample) => sample.latencyMs)).p99;
      const target = rate === 300 ? `; target p99 ${verdict(p99, ACK_P99_LIMIT_MS, 'ms')}` : '';
      const drained = withWorker ? await drain(system, accepted) : '';
      report.add({
        scenario,
        load: loadLabel(rate, durationS),
        samples: result.samples,
        result: `${rateNote(result, rate)}; non-2xx: ${describeFailures(result.samples)}; API RSS max ${formatMb(result.serverRss)}${target}${drained}`,
      });
    }
  } finally {
    await system.stop();
  }
}

export const baseline: Scenario = async ({ options, report, scratchDir }) => {
  const durationS = options.durationS ?? ACK_DURATION_S;
  const { server, url } = await startBenchServer('baseline', scratchDir('baseline'));
  try {
    for (const rate of options.rates ?? DEFAULT_RATES) {
      const result = await measure(url, rate, durationS, server);
      report.add({
        scenario: 'baseline',
        load: loadLabel(rate, durationS),
        samples: result.samples,
        result: `${rateNote(result, rate)}; non-2xx: ${describeFailures(result.samples)}`,
      });
    }
  } finally {
    await server.stop();
  }
};

/** Adds empty `.sqlite` files, spread over three regions, until `databases/` contains `count` tenants from this
 * function. They are only listed, never opened. Returns how many exist now. */
function addTenants(databasesDir: string, existing: number, count: number): number {
  for (const region of TENANT_REGIONS) fs.mkdirSync(path.join(databasesDir, region), { recursive: true });
  for (let index = existing; index < count; index++) {
    const region = TENANT_REGIONS[index % TENANT_REGIONS.length] as string;
    fs.closeSync(fs.openSync(path.join(databasesDir, region, `${randomUserId()}.sqlite`), 'wx'));
  }
  return Math.max(existing, count);
}

export const scaling: Scenario = async ({ options, report, scratchDir }) => {
  const durationS = options.durationS ?? SCALING_DURATION_S;
  const rate = options.rate ?? SCALING_RATE;
  const dataDir = scratchDir('scaling');
  const databasesDir = path.join(dataDir, 'databases');
  const system = await startBenchSystem({ dataDir, store: options.store });
  const baselineServer = await startBenchServer('baseline', dataDir);
  const firstP50 = new Map<string, number>();
  let tenants = 0;
  let accepted = 0;

  try {
    for (const count of [...(options.tenants ?? DEFAULT_TENANTS)].sort((a, b) => a - b)) {
      tenants = addTenants(databasesDir, tenants, count);

      for (const design of ['ours', 'baseline'] as const) {
        const url = design === 'ours' ? system.apiUrl : baselineServer.url;
        const server = design === 'ours' ? system.api : baselineServer.server;
        const result = await measure(url, rate, durationS, server);
        const p50 = summarize(result.samples.map((sample) => sample.latencyMs)).p50;
        if (!firstP50.has(design)) firstP50.set(design, p50);
        const ratio = p50 / (firstP50.get(design) as number);

        let drained = '';
        if (design === 'ours') {
          accepted += result.started;
          drained = await drain(system, accepted);
        }
        const target =
          design === 'ours' && ratio > SCALING_RATIO_LIMIT ? `; target ≤ ${SCALING_RATIO_LIMIT}× missed` : '';
        report.add({
          scenario: `scaling (${design})`,
          load: `${count.toLocaleString('en-US')} tenants, ${loadLabel(rate, durationS)}`,
          samples: result.samples,
          result: `p50 ${ratio.toFixed(2)}× the first tenant count's; non-2xx: ${describeFailures(result.samples)}${target}${drained}`,
        });
      }
    }
  } finally {
    await baselineServer.server.stop();
    await system.stop();
  }
};

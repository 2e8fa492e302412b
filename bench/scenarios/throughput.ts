// End-to-end provisioning: how long a signup takes to become a ready database at low load, and how many users per
// second the worker provisions when 1,000 sign up at once, with the memory of the worker and the API.
import type { Scenario } from '../lib/context';
import { buildDeliveries, createAgent, type Delivery, isSuccess, runOpenLoop, summarize } from '../lib/load';
import { MemorySampler, sleep } from '../lib/processes';
import { describeFailures, formatMb, formatMs, verdict } from '../lib/report';
import { type BenchSystem, countWorkflows, describeAll, startBenchSystem, waitForReady } from '../lib/system';

const DEFAULT_USERS = 1000;
const DEFAULT_BURST_RATE = 500;
const LOW_RATE = 10;
const LOW_DURATION_S = 10;
const READY_P50_LIMIT_MS = 150;
const THROUGHPUT_TARGET = 100;
const WORKER_RSS_LIMIT = 300 * 2 ** 20;
const CLOSE_TIMEOUT_MS = 15 * 60_000;

interface Provisioning {
  samples: Awaited<ReturnType<typeof runOpenLoop>>['samples'];
  /** Milliseconds from each accepted delivery's due time to the history event that marked its workflow ready. */
  readyMs: number[];
  /** Ready users divided by the time from the first send to the last one ready. */
  usersPerSecond: number;
  totalS: number;
  notCompleted: number;
  maxRunning: number;
  workerRss: { maxRss: number; highWaterMark: number };
  apiRss: number;
}

/** Delivers signups at `rate` per second and waits until every accepted one is ready or failed. */
async function provision(system: BenchSystem, deliveries: Delivery[], rate: number): Promise<Provisioning> {
  const before = await countWorkflows(system.client);
  const workerSampler = new MemorySampler(system.worker).start();
  const apiSampler = new MemorySampler(system.api).start();
  let maxRunning = 0;
  let polling = true;
  const poller = (async () => {
    while (polling) {
      maxRunning = Math.max(maxRunning, (await countWorkflows(system.client)).inFlight);
      await sleep(250);
    }
  })();

  const agent = createAgent();
  let load;
  try {
    load = await runOpenLoop({ baseUrl: system.apiUrl, agent, rate, deliveries });
  } finally {
    agent.destroy();
  }
  const accepted = load.samples.filter(isSuccess);
  const expected = before.ready + before.failed + accepted.length;
  await waitForReady(system.client, expected, CLOSE_TIMEOUT_MS, (counts) => {
    maxRunning = Math.max(maxRunning, counts.inFlight);
  });
  polling = false;
  await poller;
  const workerRss = workerSampler.stop();
  const apiRss = apiSampler.stop().maxRss;

  const outcomes = await describeAll(
    system.client,
    accepted.map((sample) => sample.delivery.userId),
  );
  const readyMs: number[] = [];
  let lastClose = 0;
  outcomes.forEach((outcome, index) => {
    if (!outcome.readyAt) return;
    const closedAt = outcome.readyAt.getTime();
    readyMs.push(closedAt - (accepted[index]?.scheduledEpochMs ?? closedAt));
    lastClose = Math.max(lastClose, closedAt);
  });
  const firstSend = Math.min(...load.samples.map((sample) => sample.scheduledEpochMs));
  const totalS = (lastClose - firstSend) / 1000;

  return {
    samples: load.samples,
    readyMs,
    usersPerSecond: readyMs.length / totalS,
    totalS,
    notCompleted: deliveries.length - readyMs.length,
    maxRunning,
    workerRss,
    apiRss,
  };
}

function describeReady(run: Provisioning): string {
  const ready = summarize(run.readyMs);
  return (
    `${run.readyMs.length} ready in ${run.totalS.toFixed(1)} s = ${run.usersPerSecond.toFixed(0)} users/s, ` +
    `${run.notCompleted} not ready; signup-to-ready p50 ${formatMs(ready.p50)} ms, p99 ${formatMs(ready.p99)} ms, ` +
    `max ${formatMs(ready.max)} ms; ${run.maxRunning} in flight max; ` +
    `worker VmRSS max ${formatMb(run.workerRss.maxRss)} (VmHWM ${formatMb(run.workerRss.highWaterMark)}), ` +
    `API VmRSS max ${formatMb(run.apiRss)}; non-2xx: ${describeFailures(run.samples)}`
  );
}

export const throughput: Scenario = async ({ options, report, scratchDir }) => {
  const users = options.users ?? DEFAULT_USERS;
  const rate = options.rate ?? DEFAULT_BURST_RATE;
  const lowDurationS = options.durationS ?? LOW_DURATION_S;
  const system = await startBenchSystem({ dataDir: scratchDir('throughput'), store: options.store });

  try {
    const low = await provision(system, buildDeliveries(LOW_RATE * lowDurationS), LOW_RATE);
    report.add({
      scenario: 'throughput (low load)',
      load: `${LOW_RATE}/s × ${lowDurationS} s`,
      samples: low.samples,
      result: `${describeReady(low)}; target ready p50 ${verdict(summarize(low.readyMs).p50, READY_P50_LIMIT_MS, 'ms')}`,
    });

    const burst = await provision(system, buildDeliveries(users), rate);
    const throughputVerdict =
      burst.usersPerSecond >= THROUGHPUT_TARGET
        ? `≥ ${THROUGHPUT_TARGET} users/s: met`
        : `< ${THROUGHPUT_TARGET} users/s: missed by ${(THROUGHPUT_TARGET - burst.usersPerSecond).toFixed(0)} users/s`;
    const rssVerdict = verdict(burst.workerRss.maxRss / 2 ** 20, WORKER_RSS_LIMIT / 2 ** 20, 'MB');
    report.add({
      scenario: 'throughput',
      load: `${users} signups at ${rate}/s`,
      samples: burst.samples,
      result: `${describeReady(burst)}; target ${throughputVerdict}; worker RSS ${rssVerdict}`,
    });
  } finally {
    await system.stop();
  }
};

// Reliability under load: repeated deliveries, a worker killed mid-flight, and a Temporal outage. Each row states
// whether every signup ended in exactly one database.
import { performance } from 'node:perf_hooks';

import type { Scenario } from '../lib/context';
import { buildDeliveries, createAgent, type Delivery, isSuccess, runOpenLoop, type Sample, send } from '../lib/load';
import { sleep } from '../lib/processes';
import { describeFailures, formatMs } from '../lib/report';
import {
  type BenchSystem,
  checkDatabases,
  describeAll,
  describeDatabaseCheck,
  startBenchSystem,
  waitForReady,
} from '../lib/system';

const CLOSE_TIMEOUT_MS = 15 * 60_000;

/** Waits for `userIds` to be ready, then describes their workflows and database files in one sentence. */
async function checkProvisioned(system: BenchSystem, userIds: string[]): Promise<{ ok: boolean; text: string }> {
  const counts = await waitForReady(system.client, userIds.length, CLOSE_TIMEOUT_MS);
  const outcomes = await describeAll(system.client, userIds);
  const completed = outcomes.filter((outcome) => outcome.status === 'ready').length;
  const databases = checkDatabases(system.dataDir, userIds);
  const ok =
    completed === userIds.length &&
    databases.once === userIds.length &&
    databases.temporaryFiles === 0 &&
    databases.otherFiles.length === 0;
  const timedOut = counts.timedOut ? ' (timed out waiting)' : '';
  return {
    ok,
    text: `${ok ? 'PASS' : 'FAIL'}: ${completed}/${userIds.length} workflows ready${timedOut}; ${describeDatabaseCheck(databases)}`,
  };
}

export const duplicates: Scenario = async ({ options, report, scratchDir }) => {
  const users = options.users ?? 100;
  const copies = 20;
  const system = await startBenchSystem({ dataDir: scratchDir('duplicates'), store: options.store });
  const agent = createAgent(256);

  try {
    const deliveries = buildDeliveries(users);
    // Each user's copies are adjacent, so they reach the API together and race for the same workflow id.
    const batch = deliveries.flatMap((delivery) => Array.from({ length: copies }, () => delivery));
    const samples = await Promise.all(
      batch.map((delivery, index) => send(delivery, { baseUrl: system.apiUrl, agent }, performance.now(), index)),
    );

    const started = samples.filter((sample) => sample.status === 202).length;
    const check = await checkProvisioned(
      system,
      deliveries.map((delivery) => delivery.userId),
    );
    report.add({
      scenario: 'duplicates',
      load: `${users} users × ${copies} copies at once`,
      samples,
      result: `${started} started (202), non-2xx: ${describeFailures(samples)}; ${check.text}`,
    });
  } finally {
    agent.destroy();
    await system.stop();
  }
};

/** Kills the worker with SIGKILL at random moments until `done` returns true, restarting it after each kill. */
async function killRepeatedly(system: BenchSystem, done: () => boolean, maxKills: number): Promise<number[]> {
  const downtimesMs: number[] = [];
  while (!done() && downtimesMs.length < maxKills) {
    await sleep(500 + Math.random() * 2500);
    if (done()) break;
    const killedAt = performance.now();
    await system.worker.stop('SIGKILL');
    await sleep(Math.random() * 1000);
    await system.startWorker();
    downtimesMs.push(performance.now() - killedAt);
  }
  return downtimesMs;
}

export const crash: Scenario = async ({ options, report, scratchDir }) => {
  const users = options.users ?? 500;
  const rate = options.rate ?? 100;
  const maxKills = 5;
  const system = await startBenchSystem({ dataDir: scratchDir('crash'), store: options.store });
  const agent = createAgent();

  try {
    const deliveries = buildDeliveries(users);
    const started = performance.now();
    let loadDone = false;
    let closed = false;
    const load = runOpenLoop({ baseUrl: system.apiUrl, agent, rate, deliveries }).finally(() => {
      loadDone = true;
    });
    const kills = killRepeatedly(system, () => loadDone && closed, maxKills);
    const result = await load;
    const userIds = deliveries.map((delivery) => delivery.userId);
    // The kill loop stops once every workflow has closed, so it keeps killing while workflows are in flight.
    const check = await checkProvisioned(system, userIds).finally(() => {
      closed = true;
    });
    const downtimesMs = await kills;
    const totalS = (performance.now() - started) / 1000;

    report.add({
      scenario: 'crash',
      load: `${users} signups at ${rate}/s, worker SIGKILLed ${downtimesMs.length}×`,
      samples: result.samples,
      result:
        `${check.text}; all ready after ${totalS.toFixed(0)} s; worker down ` +
        `${downtimesMs.map((ms) => `${formatMs(ms / 1000)} s`).join(', ')}; non-2xx: ${describeFailures(result.samples)}`,
    });
  } finally {
    agent.destroy();
    await system.stop();
  }
};

/** Sends each failed delivery again, as Hookdeck retries, until it gets a 2xx or `deadlineMs` passes. */
async function replayUntilAccepted(
  failed: Delivery[],
  baseUrl: string,
  deadlineMs: number,
): Promise<{ attempts: number; stillFailing: number }> {
  const agent = createAgent(64);
  let pending = failed;
  let attempts = 0;
  try {
    while (pending.length > 0 && Date.now() < deadlineMs) {
      const samples = await Promise.all(pending.map((delivery) => send(delivery, { baseUrl, agent })));
      attempts += samples.length;
      pending = samples.filter((sample) => !isSuccess(sample)).map((sample) => sample.delivery);
      // Hookdeck backs off for minutes; one second keeps the benchmark short and still shows the recovery.
      if (pending.length > 0) await sleep(1000);
    }
  } finally {
    agent.destroy();
  }
  return { attempts, stillFailing: pending.length };
}

// The dev server always keeps its state in a file here, because an in-memory one loses every workflow when it stops.
export const outage: Scenario = async ({ options, report, scratchDir }) => {
  const durationS = options.durationS ?? 30;
  const rate = options.rate ?? 100;
  const outageS = Math.min(10, durationS / 3);
  const system = await startBenchSystem({ dataDir: scratchDir('outage'), store: 'file' });
  const agent = createAgent();

  try {
    const deliveries = buildDeliveries(rate * durationS);
    const start = performance.now();
    const load = runOpenLoop({ baseUrl: system.apiUrl, agent, rate, deliveries });

    // Stop the dev server a third of the way in, and start it again `outageS` seconds after it has stopped.
    await sleep(((durationS - outageS) / 2) * 1000);
    await system.devServer.stop();
    const downFrom = performance.now();
    await sleep(outageS * 1000);
    const downUntil = performance.now();
    await system.devServer.start();
    const backAt = performance.now();
    const result = await load;

    const answeredWhileDown = (sample: Sample) => sample.finishedAt > downFrom && sample.finishedAt < downUntil;
    const acceptedWhileDown = result.samples.filter((sample) => answeredWhileDown(sample) && isSuccess(sample));
    const rejectedWhileDown = result.samples.filter((sample) => answeredWhileDown(sample) && sample.status === 503);
    const failed = result.samples.filter((sample) => !isSuccess(sample)).map((sample) => sample.delivery);
    const replay = await replayUntilAccepted(failed, system.apiUrl, Date.now() + 5 * 60_000);
    const check = await checkProvisioned(
      system,
      deliveries.map((delivery) => delivery.userId),
    );
    const verdict = acceptedWhileDown.length === 0 && replay.stillFailing === 0 && check.ok ? 'PASS' : 'FAIL';

    report.add({
      scenario: 'outage',
      load: `${rate}/s × ${durationS} s, dev server down ${outageS} s`,
      samples: result.samples,
      result:
        `${verdict}: answered while down: ${rejectedWhileDown.length} 503, ${acceptedWhileDown.length} 2xx; ` +
        `dev server down at ${((downFrom - start) / 1000).toFixed(1)} s, serving again at ${((backAt - start) / 1000).toFixed(1)} s; ` +
        `non-2xx: ${describeFailures(result.samples)}; replayed ${failed.length} in ${replay.attempts} attempts, ` +
        `${replay.stillFailing} still failing; ${check.text}`,
    });
  } finally {
    agent.destroy();
    await system.stop();
  }
};

// Child processes of a benchmark: the worker and API entry points from src/, the bench's own servers, and
// their memory as the kernel reports it.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '../..');

/**
 * Environment for a child: only what it needs, so that variables from the caller's shell (or a `.env` file, which
 * never overrides a variable that is set) cannot switch the provider or the Temporal address under a benchmark.
 */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    DATABASE_PROVIDER: 'sqlite',
    SEED_SCHEMA: 'true',
    ...extra,
  };
}

/** A TypeScript entry point run as `node --import tsx FILE`, with its output appended to a log file. */
export class NodeChild {
  private child?: ChildProcess;

  constructor(
    readonly name: string,
    private readonly entry: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly logFile: string,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process, then resolves once `ready` does; rejects if the process exits first. */
  async start(ready: () => Promise<void>): Promise<void> {
    const log = fs.openSync(this.logFile, 'a');
    const child = spawn(process.execPath, ['--import', 'tsx', this.entry], {
      cwd: REPO_ROOT,
      env: this.env,
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    this.child = child;

    const exited = new Promise<never>((_resolve, reject) => {
      child.once('exit', (code, signal) =>
        reject(new Error(`${this.name} exited with ${signal ?? `code ${code}`} while starting; see ${this.logFile}`)),
      );
    });
    exited.catch(() => undefined);
    await Promise.race([ready(), exited]);
  }

  /** Sends `signal` and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }

  /** Reads the resident set size in bytes from /proc; `peak` is VmHWM, the maximum since the process started. */
  memory(): { rss: number; peak: number } | undefined {
    if (!this.pid || !this.running) return undefined;
    try {
      const status = fs.readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const kilobytes = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
      return { rss: kilobytes('VmRSS') * 1024, peak: kilobytes('VmHWM') * 1024 };
    } catch {
      return undefined;
    }
  }

  /** Resolves once the log file contains `text`, polling every 100 ms, or rejects after `timeoutMs`. */
  async waitForLog(text: string, fromByte: number, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const content = fs.readFileSync(this.logFile);
      if (content.subarray(fromByte).includes(text)) return;
      await sleep(100);
    }
    throw new Error(`${this.name} did not log "${text}" within ${timeoutMs} ms; see ${this.logFile}`);
  }

  logSize(): number {
    return fs.existsSync(this.logFile) ? fs.statSync(this.logFile).size : 0;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves once GET `${baseUrl}/healthz` returns 200, or rejects after `timeoutMs`. */
export async function waitForHealthy(baseUrl: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await new Promise<number>((resolve) => {
      const request = http.get(`${baseUrl}/healthz`, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on('error', () => resolve(0));
    });
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`${baseUrl}/healthz did not return 200 within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/**
 * Samples a child's VmRSS every `intervalMs` during a run and keeps the maximum. VmHWM is kept apart, because it
 * includes start-up, where the worker bundles the workflow code.
 */
export class MemorySampler {
  private maxRss = 0;
  private timer?: NodeJS.Timeout;

  constructor(private readonly child: NodeChild) {}

  start(intervalMs = 100): this {
    this.timer = setInterval(() => this.sample(), intervalMs);
    return this;
  }

  /** Stops sampling and returns the largest sampled VmRSS and the current VmHWM, in bytes. */
  stop(): { maxRss: number; highWaterMark: number } {
    clearInterval(this.timer);
    this.sample();
    return { maxRss: this.maxRss, highWaterMark: this.child.memory()?.peak ?? 0 };
  }

  private sample(): void {
    const memory = this.child.memory();
    if (memory) this.maxRss = Math.max(this.maxRss, memory.rss);
  }
}

// A Temporal dev server that keeps its state in memory, for comparison with the file-backed one that `npm start`
// runs (RestartableDevServer in test/helpers spawns that one). Its state is lost when it stops.
import { type ChildProcess, spawn } from 'node:child_process';

import { Connection } from '@temporalio/client';

import { ALL_SEARCH_ATTRIBUTES } from '../../src/shared';
import { TEMPORAL_CLI } from '../../src/temporal-binaries';
import { sleep } from './processes';

export class InMemoryDevServer {
  private child?: ChildProcess;

  constructor(readonly port: number) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null;
  }

  async start(): Promise<void> {
    const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(this.port), '--headless'];
    args.push('--log-level', 'error');
    for (const key of ALL_SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=Keyword`);
    this.child = spawn(TEMPORAL_CLI, args, { stdio: 'ignore' });

    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        const connection = await Connection.connect({ address: this.address, connectTimeout: 1000 });
        await connection.workflowService.getSystemInfo({}).finally(() => connection.close());
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`dev server on ${this.address} did not start`, { cause: error });
        await sleep(200);
      }
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}

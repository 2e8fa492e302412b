// A Temporal dev server that a test can stop and start again on the same port and state file, to
// simulate an outage. TestWorkflowEnvironment cannot restart its server, so this spawns the CLI itself.
// Without a state file it keeps its state in memory, which a restart loses; the benchmarks compare the two.
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';

import { Connection } from '@temporalio/client';

import { ALL_SEARCH_ATTRIBUTES } from '../../src/shared';
import { DEV_SERVER_SQLITE_PRAGMAS, TEMPORAL_CLI } from '../../src/temporal-binaries';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export class RestartableDevServer {
  private child?: ChildProcess;

  constructor(
    readonly port: number,
    private readonly dbFile?: string,
  ) {}

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(this.port), '--headless'];
    if (this.dbFile !== undefined) args.push('--db-filename', this.dbFile, ...DEV_SERVER_SQLITE_PRAGMAS);
    args.push('--log-level', 'error');
    for (const key of ALL_SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=Keyword`);
    this.child = spawn(TEMPORAL_CLI, args, { stdio: 'ignore' });
    await this.waitUntilServing(60_000);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    this.child = undefined;
  }

  private async waitUntilServing(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const connection = await Connection.connect({ address: this.address, connectTimeout: 1000 });
        try {
          await connection.workflowService.getSystemInfo({});
          return;
        } finally {
          await connection.close();
        }
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`dev server on ${this.address} did not start`, { cause: error });
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }
}

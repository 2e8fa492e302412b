// Local fakes of Xata's two control-plane APIs, listening on 127.0.0.1 only:
//
// - FakeXataApi follows the documented REST API of Xata's Postgres platform (organizations, projects, branches,
//   credentials). Each branch is a real database on the test Postgres server, so schema changes run for real.
// - FakeXataLiteApi follows the retired workspace API that `@xata.io/client` 0.30 calls (/workspaces/{id}/dbs/{db}).
//
// Both check the bearer API key, record every request, and take injected faults for the next requests.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';

import pg from 'pg';

import { withDatabase } from './postgres';

/** A response to send instead of the normal one, or `hang` to never respond. */
export type Fault = { status: number; headers?: Record<string, string>; body?: unknown } | { hang: true };

export interface RecordedRequest {
  method: string;
  path: string;
}

type Handler = (method: string, url: URL, body: unknown) => Promise<{ status: number; body?: unknown }>;

/** The HTTP server, request log, authentication and fault injection that both fakes share. */
class FakeServer {
  readonly requests: RecordedRequest[] = [];
  private readonly faults: Fault[] = [];
  private readonly server: http.Server;
  private baseUrl = '';

  constructor(
    readonly apiKey: string,
    private readonly handle: Handler,
  ) {
    this.server = http.createServer((request, response) => {
      void this.serve(request, response);
    });
  }

  /** Starts listening on a free loopback port and returns the base URL. */
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.baseUrl = `http://127.0.0.1:${port}`;
    return this.baseUrl;
  }

  get url(): string {
    return this.baseUrl;
  }

  /** Queues faults that replace the responses to the next requests, one fault per request. */
  inject(...faults: Fault[]): void {
    this.faults.push(...faults);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async serve(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://fake');
    const method = request.method ?? 'GET';
    this.requests.push({ method, path: url.pathname });
    const text = await readBody(request);

    const fault = this.faults.shift();
    if (fault && 'hang' in fault) return;
    if (fault)
      return send(response, fault.status, fault.body ?? { message: `injected ${fault.status}` }, fault.headers);

    if (request.headers.authorization !== `Bearer ${this.apiKey}`) {
      return send(response, 401, { message: 'invalid API key' });
    }

    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      return send(response, 400, { message: 'invalid JSON body' });
    }

    try {
      const result = await this.handle(method, url, body);
      send(response, result.status, result.body);
    } catch (error) {
      send(response, 500, { message: `fake failed: ${(error as Error).message}` });
    }
  }
}

interface FakeBranch {
  id: string;
  name: string;
  region: string;
  database: string;
  /** Settles when the branch's database exists on the test server. */
  ready: Promise<void>;
}

export interface FakeXataApiOptions {
  /** URL of the test Postgres server, on which each branch gets a database. */
  postgresUrl: string;
  organizationId?: string;
  projectId?: string;
  regions?: string[];
}

/** A fake of the documented control-plane API of Xata's Postgres platform. */
export class FakeXataApi {
  readonly apiKey = `xau_${randomBytes(12).toString('hex')}`;
  readonly organizationId: string;
  readonly projectId: string;
  readonly regions: string[];
  /** Branches by name. */
  readonly branches = new Map<string, FakeBranch>();
  private readonly postgresUrl: string;
  private readonly server: FakeServer;

  constructor(options: FakeXataApiOptions) {
    this.postgresUrl = options.postgresUrl;
    this.organizationId = options.organizationId ?? 'org_test';
    this.projectId = options.projectId ?? 'prj_test';
    this.regions = options.regions ?? ['eu-west-1', 'us-east-1'];
    this.server = new FakeServer(this.apiKey, (method, url, body) => this.route(method, url, body));
  }

  get requests(): RecordedRequest[] {
    return this.server.requests;
  }

  start(): Promise<string> {
    return this.server.start();
  }

  inject(...faults: Fault[]): void {
    this.server.inject(...faults);
  }

  /** Stops the server and drops the databases of the branches that remain. */
  async stop(): Promise<void> {
    await this.server.stop();
    for (const name of [...this.branches.keys()]) await this.dropBranch(name);
  }

  private async route(method: string, url: URL, body: unknown): Promise<{ status: number; body?: unknown }> {
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (parts[0] !== 'organizations' || parts[1] !== this.organizationId) {
      return { status: 404, body: { message: 'organization not found' } };
    }
    if (parts.length === 3 && parts[2] === 'regions' && method === 'GET') {
      return { status: 200, body: { regions: this.regions.map((id) => ({ id, publicAccess: true })) } };
    }
    if (parts[2] !== 'projects' || parts[3] !== this.projectId || parts[4] !== 'branches') {
      return { status: 404, body: { message: 'project not found' } };
    }

    const branchKey = parts[5];
    if (branchKey === undefined) {
      if (method === 'POST') return this.createBranch(body);
      return { status: 405, body: { message: 'listing branches is not served by this fake' } };
    }

    const branch = this.findBranch(branchKey);
    if (!branch) return { status: 404, body: { message: `branch ${branchKey} not found` } };

    if (parts.length === 6 && method === 'GET') return { status: 200, body: describeBranch(branch) };
    if (parts.length === 6 && method === 'DELETE') {
      await this.dropBranch(branch.name);
      return { status: 204 };
    }
    if (parts[6] === 'credentials' && method === 'GET') return this.credentials(branch);
    return { status: 405, body: { message: 'method not allowed' } };
  }

  /** Finds a branch by ID or by name; see the NOTE on XataApiClient.getBranch. */
  private findBranch(key: string): FakeBranch | undefined {
    return this.branches.get(key) ?? [...this.branches.values()].find((branch) => branch.id === key);
  }

  private async createBranch(body: unknown): Promise<{ status: number; body?: unknown }> {
    const request = body as { name?: unknown; configuration?: { region?: unknown } } | undefined;
    const name = request?.name;
    const region = request?.configuration?.region;
    if (typeof name !== 'string' || name === '') return { status: 400, body: { message: 'name is required' } };
    if (typeof region !== 'string' || !this.regions.includes(region)) {
      return { status: 400, body: { message: `invalid region: ${String(region)}` } };
    }
    if (this.branches.has(name)) return { status: 409, body: { message: `branch ${name} already exists` } };

    // The name is taken before the first await, so concurrent creates of one name get 409.
    const id = `br_${randomBytes(6).toString('hex')}`;
    const database = `xata_fake_${id}`;
    const ready = this.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
    const branch: FakeBranch = { id, name, region, database, ready };
    this.branches.set(name, branch);
    await ready;
    return { status: 201, body: describeBranch(branch) };
  }

  private async credentials(branch: FakeBranch): Promise<{ status: number; body: unknown }> {
    await branch.ready;
    const url = new URL(withDatabase(this.postgresUrl, branch.database));
    return {
      status: 200,
      body: {
        username: decodeURIComponent(url.username),
        password: decodeURIComponent(url.password),
        hostname: url.hostname,
        port: Number(url.port),
        dbname: branch.database,
        connectionString: url.href,
      },
    };
  }

  private async dropBranch(name: string): Promise<void> {
    const branch = this.branches.get(name);
    if (!branch) return;
    this.branches.delete(name);
    await branch.ready.catch(() => undefined);
    await this.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(branch.database)} WITH (FORCE)`);
  }

  private async query(sql: string): Promise<void> {
    const client = new pg.Client({ connectionString: this.postgresUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  }
}

function describeBranch(branch: FakeBranch): unknown {
  const now = new Date().toISOString();
  return {
    id: branch.id,
    name: branch.name,
    region: branch.region,
    createdAt: now,
    updatedAt: now,
    publicAccess: false,
    status: { status: 'Cluster in healthy state', statusType: 'STATUS_TYPE_HEALTHY' },
  };
}

/** A fake of the retired workspace API: databases per workspace, created with a region. */
export class FakeXataLiteApi {
  readonly apiKey = `xau_${randomBytes(12).toString('hex')}`;
  readonly workspaceId: string;
  readonly regions: string[];
  /** Databases by name, with their region. */
  readonly databases = new Map<string, string>();
  /** Maximum databases in the workspace; creates beyond it fail with a quota error. */
  readonly maxDatabases: number;
  private readonly server: FakeServer;

  constructor(options: { workspaceId?: string; regions?: string[]; maxDatabases?: number } = {}) {
    this.workspaceId = options.workspaceId ?? 'test-workspace-a1b2c3';
    this.regions = options.regions ?? ['eu-west-1', 'us-east-1'];
    this.maxDatabases = options.maxDatabases ?? 40;
    this.server = new FakeServer(this.apiKey, (method, url, body) => this.route(method, url, body));
  }

  get requests(): RecordedRequest[] {
    return this.server.requests;
  }

  start(): Promise<string> {
    return this.server.start();
  }

  inject(...faults: Fault[]): void {
    this.server.inject(...faults);
  }

  stop(): Promise<void> {
    return this.server.stop();
  }

  private async route(method: string, url: URL, body: unknown): Promise<{ status: number; body?: unknown }> {
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (parts[0] !== 'workspaces' || parts[1] !== this.workspaceId) {
      return { status: 404, body: { message: 'workspace not found' } };
    }
    if (parts.length === 3 && parts[2] === 'regions' && method === 'GET') {
      return { status: 200, body: { regions: this.regions.map((id) => ({ id, name: id })) } };
    }

    const name = parts[3];
    if (parts[2] !== 'dbs' || name === undefined || parts.length !== 4) {
      return { status: 404, body: { message: 'not found' } };
    }

    const region = this.databases.get(name);
    if (method === 'GET') {
      if (region === undefined) return { status: 404, body: { message: `database ${name} not found` } };
      return { status: 200, body: { name, region, createdAt: new Date().toISOString() } };
    }
    if (method === 'DELETE') {
      if (region === undefined) return { status: 404, body: { message: `database ${name} not found` } };
      this.databases.delete(name);
      return { status: 200, body: { status: 'completed' } };
    }
    if (method === 'PUT') return this.createDatabase(name, body);
    return { status: 405, body: { message: 'method not allowed' } };
  }

  private createDatabase(name: string, body: unknown): { status: number; body: unknown } {
    const region = (body as { region?: unknown } | undefined)?.region;
    if (typeof region !== 'string' || !this.regions.includes(region)) {
      return { status: 400, body: { message: `invalid region: ${String(region)}` } };
    }
    // NOTE: the status and wording of these two errors are assumptions of this fake. The client's types list 400, 401,
    // 422 and 423 for createDatabase, without their messages.
    if (this.databases.has(name)) return { status: 422, body: { message: `database [${name}] already exists` } };
    if (this.databases.size >= this.maxDatabases) {
      return { status: 400, body: { message: `maximum number of databases (${this.maxDatabases}) reached` } };
    }
    this.databases.set(name, region);
    return { status: 201, body: { databaseName: name, branchName: 'main', status: 'completed' } };
  }
}

async function readBody(request: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(
  response: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (status === 204 || body === undefined) {
    response.writeHead(status, headers).end();
    return;
  }
  response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

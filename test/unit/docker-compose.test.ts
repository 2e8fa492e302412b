// Checks the Docker deployment files by parsing them, because this test must pass on machines without a
// Docker engine. A passing run does not show that the images build or that the stack starts.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

import { parse } from 'yaml';

import { ALL_SEARCH_ATTRIBUTES } from '../../src/shared';

const ROOT = path.resolve(__dirname, '../..');
const COMPOSE_PATH = path.join(ROOT, 'docker-compose.yml');
const DOCKERFILE_PATH = path.join(ROOT, 'Dockerfile');
const ENV_EXAMPLE_PATH = path.join(ROOT, '.env.example');
const DOCKERIGNORE_PATH = path.join(ROOT, '.dockerignore');

const EXPECTED_SERVICES = ['postgresql', 'temporal', 'temporal-setup', 'temporal-ui', 'worker', 'api'];
const APP_SERVICES = ['api', 'worker'];
const TEMPORAL_ADDRESS = 'temporal:7233';

type PortEntry = string | number | { target?: number | string; published?: number | string };

/** The subset of the Compose specification that these tests read. */
interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: PortEntry[];
  volumes?: (string | { type?: string; source?: string; target?: string })[];
  depends_on?: string[] | Record<string, { condition?: string }>;
}

interface ComposeFile {
  version?: unknown;
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

function readCompose(): ComposeFile {
  return parse(fs.readFileSync(COMPOSE_PATH, 'utf8')) as ComposeFile;
}

function requireService(compose: ComposeFile, name: string): ComposeService {
  const found = compose.services[name];
  assert.ok(found, `docker-compose.yml has no service named ${name}`);
  return found;
}

/** Normalizes both the map and the `NAME=value` list form of `environment`. */
function parseEnvironment(entry: ComposeService): Map<string, string | undefined> {
  const variables = new Map<string, string | undefined>();
  const environment = entry.environment ?? {};

  if (Array.isArray(environment)) {
    for (const item of environment) {
      const separator = item.indexOf('=');
      if (separator === -1) variables.set(item, undefined);
      else variables.set(item.slice(0, separator), item.slice(separator + 1));
    }
    return variables;
  }

  for (const [name, value] of Object.entries(environment)) {
    variables.set(name, value === null ? undefined : String(value));
  }
  return variables;
}

/** Names of the variables that `${NAME}`, `${NAME:-default}` and similar forms read, skipping `$${...}`. */
function findInterpolatedVariables(text: string): string[] {
  return [...text.matchAll(/(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((match) => match[1]!);
}

function listDependencies(entry: ComposeService): string[] {
  const dependsOn = entry.depends_on ?? [];
  return Array.isArray(dependsOn) ? dependsOn : Object.keys(dependsOn);
}

/** Reads the short syntax (`[ip:]published:target[/protocol]`) and the long syntax of `ports`. */
function parsePortMappings(entry: ComposeService): { published?: string; target: string }[] {
  return (entry.ports ?? []).map((port) => {
    if (typeof port === 'object') {
      return { published: port.published?.toString(), target: String(port.target) };
    }
    const parts = String(port)
      .replace(/\/(tcp|udp)$/, '')
      .split(':');
    const target = parts[parts.length - 1]!;
    const published = parts.length > 1 ? parts[parts.length - 2] : undefined;
    return { published, target };
  });
}

function joinCommand(entry: ComposeService): string {
  const command = entry.command ?? '';
  return Array.isArray(command) ? command.join('\n') : command;
}

/** Returns the tag of an image reference such as `registry:5000/name:tag@sha256:...`, or undefined without one. */
function parseImageTag(image: string): string | undefined {
  const withoutDigest = image.split('@')[0]!;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const lastColon = withoutDigest.lastIndexOf(':');
  return lastColon > lastSlash ? withoutDigest.slice(lastColon + 1) : undefined;
}

/** Names in `NAME=` lines of .env.example, including commented-out `# NAME=` lines. */
function readEnvExampleNames(): Set<string> {
  const names = new Set<string>();
  for (const line of fs.readFileSync(ENV_EXAMPLE_PATH, 'utf8').split('\n')) {
    const match = /^\s*(?:#\s*)?([A-Z][A-Z0-9_]*)=/.exec(line);
    if (match) names.add(match[1]!);
  }
  return names;
}

/** Dockerfile instructions of the last stage, with continuation lines joined and comments removed. */
function readRuntimeStageInstructions(): string[] {
  const joined = fs.readFileSync(DOCKERFILE_PATH, 'utf8').replace(/\\\r?\n/g, ' ');
  const instructions = joined
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const fromIndexes = instructions.flatMap((line, index) => (/^FROM\s/i.test(line) ? [index] : []));
  const lastFrom = fromIndexes.at(-1);
  assert.ok(lastFrom !== undefined, 'Dockerfile has no FROM instruction');
  return instructions.slice(lastFrom);
}

describe('docker-compose.yml', () => {
  test('parses', () => {
    const compose = readCompose();

    assert.equal(typeof compose, 'object');
    assert.equal(typeof compose.services, 'object');
  });

  test('has no version key', () => {
    assert.equal(readCompose().version, undefined);
  });

  test('defines expected services', () => {
    const names = Object.keys(readCompose().services);

    for (const name of EXPECTED_SERVICES) {
      assert.ok(names.includes(name), `missing service ${name}; found ${names.join(', ')}`);
    }
  });

  test('pins every image', () => {
    for (const [name, entry] of Object.entries(readCompose().services)) {
      if (entry.image === undefined) continue;
      const tag = parseImageTag(entry.image);

      assert.ok(tag, `service ${name}: image ${entry.image} has no tag`);
      assert.notEqual(tag, 'latest', `service ${name}: image ${entry.image} uses latest`);
    }
  });

  test('gives every service an image or build', () => {
    for (const [name, entry] of Object.entries(readCompose().services)) {
      assert.ok(entry.image !== undefined || entry.build !== undefined, `service ${name} has neither image nor build`);
    }
  });

  test('builds app services from Dockerfile', () => {
    const compose = readCompose();

    for (const name of APP_SERVICES) {
      const build = requireService(compose, name).build;
      assert.ok(build, `service ${name} has no build`);

      const context = typeof build === 'string' ? build : (build.context ?? '.');
      const dockerfile = typeof build === 'string' ? 'Dockerfile' : (build.dockerfile ?? 'Dockerfile');
      assert.equal(path.resolve(ROOT, context, dockerfile), DOCKERFILE_PATH, `service ${name} builds another file`);
    }
  });

  test('runs worker and API entry points', () => {
    const compose = readCompose();

    assert.deepEqual(requireService(compose, 'worker').command, ['node', 'dist/worker.js']);
    assert.deepEqual(requireService(compose, 'api').command, ['node', 'dist/api/server.js']);
  });

  test('publishes API port 3000', () => {
    const mappings = parsePortMappings(requireService(readCompose(), 'api'));
    const mapping = mappings.find((candidate) => candidate.target === '3000');

    assert.ok(mapping, `api does not map container port 3000: ${JSON.stringify(mappings)}`);
    assert.equal(mapping.published, '3000');
  });

  test('points app services at Temporal', () => {
    const compose = readCompose();

    for (const name of APP_SERVICES) {
      assert.equal(
        parseEnvironment(requireService(compose, name)).get('TEMPORAL_ADDRESS'),
        TEMPORAL_ADDRESS,
        `service ${name}`,
      );
    }
  });

  test('requires the Hookdeck secret', () => {
    const secret = parseEnvironment(requireService(readCompose(), 'api')).get('HOOKDECK_WEBHOOK_SECRET');

    assert.match(secret ?? '', /^\$\{HOOKDECK_WEBHOOK_SECRET:\?[^}]+\}$/);
  });

  test('shares a named volume for /data', () => {
    const compose = readCompose();
    const sources = APP_SERVICES.map((name) => {
      const mounts = requireService(compose, name).volumes ?? [];
      const dataMount = mounts
        .map((mount) => (typeof mount === 'string' ? mount.split(':') : [mount.source, mount.target]))
        .find(([, target]) => target === '/data');
      assert.ok(dataMount, `service ${name} mounts nothing at /data`);
      return dataMount[0];
    });

    const [source, otherSource] = sources;
    assert.equal(source, otherSource, 'api and worker mount different sources at /data');
    assert.ok(source, 'the /data mount has no source');
    assert.ok(compose.volumes, 'docker-compose.yml declares no top-level volumes');
    assert.ok(source in compose.volumes, `volume ${source} is not declared under the top-level volumes`);
  });

  test('registers the search attributes', () => {
    const command = joinCommand(requireService(readCompose(), 'temporal-setup'));
    const registered = [...command.matchAll(/--name\s+(\S+)\s+--type\s+(\S+)/g)].map((match) => ({
      name: match[1]!,
      type: match[2]!,
    }));
    const expectedNames = ALL_SEARCH_ATTRIBUTES.map((attribute) => attribute.name).sort();

    assert.match(command, /temporal operator search-attribute create/);
    assert.deepEqual(registered.map((attribute) => attribute.name).sort(), expectedNames);
    for (const attribute of registered) {
      const expected = ALL_SEARCH_ATTRIBUTES.find((candidate) => candidate.name === attribute.name);
      // The SDK spells the type KEYWORD and the CLI spells it Keyword.
      assert.equal(attribute.type.toUpperCase(), expected?.type, `type of ${attribute.name}`);
    }
  });

  test('tolerates existing search attributes', () => {
    const command = joinCommand(requireService(readCompose(), 'temporal-setup'));

    assert.match(command, /already exists/);
  });

  test('depends_on targets exist', () => {
    const compose = readCompose();
    const names = Object.keys(compose.services);

    for (const [name, entry] of Object.entries(compose.services)) {
      for (const dependency of listDependencies(entry)) {
        assert.ok(names.includes(dependency), `service ${name} depends on unknown service ${dependency}`);
      }
    }
  });

  test('app services wait for setup', () => {
    const compose = readCompose();

    for (const name of APP_SERVICES) {
      const dependsOn = requireService(compose, name).depends_on;
      const condition = Array.isArray(dependsOn) ? undefined : dependsOn?.['temporal-setup']?.condition;
      assert.equal(condition, 'service_completed_successfully', `service ${name}`);
    }
  });
});

describe('.env.example', () => {
  test('lists app service variables', () => {
    const compose = readCompose();
    const documented = readEnvExampleNames();

    for (const name of APP_SERVICES) {
      for (const [variable, value] of parseEnvironment(requireService(compose, name))) {
        assert.ok(documented.has(variable), `${name} sets ${variable}, which .env.example does not list`);
        for (const referenced of findInterpolatedVariables(value ?? '')) {
          assert.ok(documented.has(referenced), `${name} reads ${referenced}, which .env.example does not list`);
        }
      }
    }
  });

  test('leaves the secret empty', () => {
    const line = fs
      .readFileSync(ENV_EXAMPLE_PATH, 'utf8')
      .split('\n')
      .find((candidate) => candidate.startsWith('HOOKDECK_WEBHOOK_SECRET='));

    assert.equal(line, 'HOOKDECK_WEBHOOK_SECRET=');
  });
});

describe('Dockerfile', () => {
  test('runtime stage copies migrations', () => {
    const copies = readRuntimeStageInstructions().filter((line) => /^COPY\s/i.test(line));

    assert.ok(
      copies.some((line) => /\smigrations\/?\s/.test(` ${line} `)),
      `no COPY of migrations in the runtime stage: ${copies.join(' | ')}`,
    );
  });

  test('runtime stage copies dist', () => {
    const copies = readRuntimeStageInstructions().filter((line) => /^COPY\s/i.test(line));

    assert.ok(
      copies.some((line) => /\/app\/dist\s/.test(line)),
      `no COPY of dist: ${copies.join(' | ')}`,
    );
  });

  test('runtime stage uses slim image', () => {
    const from = readRuntimeStageInstructions()[0]!;

    assert.match(from, /^FROM\s+node:20-bookworm-slim\b/i);
  });

  test('runtime stage drops root', () => {
    const users = readRuntimeStageInstructions().filter((line) => /^USER\s/i.test(line));
    const lastUser = users.at(-1)?.split(/\s+/)[1];

    assert.ok(lastUser, 'runtime stage has no USER instruction');
    assert.notEqual(lastUser, 'root');
    assert.notEqual(lastUser, '0');
  });
});

describe('.dockerignore', () => {
  test('excludes local state and secrets', () => {
    const patterns = fs
      .readFileSync(DOCKERIGNORE_PATH, 'utf8')
      .split('\n')
      .map((line) => line.trim());

    for (const pattern of ['node_modules', 'dist', 'data', '.temporal', '.git', '.env']) {
      assert.ok(patterns.includes(pattern), `.dockerignore does not list ${pattern}`);
    }
  });
});

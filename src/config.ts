// Configuration is read from the environment once, at start, into a typed object. Nothing else in the
// code base reads process.env.
import path from 'node:path';
import { z } from 'zod';

import { parseServerUrls } from './activities/providers/server-urls';
import { REGION_METADATA_KEY } from './api/clerk-event';
import { decodeSvixSecret } from './api/svix-signature';
import { TASK_QUEUE } from './shared';

const booleanFromEnv = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

// Decimal digits only, because Number() would read ' ' as 0 (any free port) and accept '1e3' or '0x50'.
const portFromEnv = z
  .string({ message: 'expected a port number' })
  .regex(/^\d+$/, 'expected a port number')
  .transform(Number)
  .pipe(z.number().max(65535, 'expected 0 to 65535'));

// Messages never quote the value, because the URLs contain passwords.
const postgresUrls = z.string().transform((value, context) => {
  try {
    return parseServerUrls(value);
  } catch (error) {
    context.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

// A decimal number such as 20 or 0.5, because Number() would also accept '1e3', '0x14' or ' '.
const callsPerSecondFromEnv = z
  .string()
  .regex(/^\d{1,9}(\.\d{1,6})?$/, 'expected a number of calls per second, such as 20 or 0.5')
  .transform(Number)
  .pipe(z.number().positive('expected more than 0; leave it unset for no limit'));

/** Treats an empty variable like an unset one, as shells and .env files often leave `NAME=` behind. */
function optional<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (value === '' ? undefined : value), schema.optional());
}

/** Values of DATABASE_PROVIDER. */
export const DATABASE_PROVIDERS = ['sqlite', 'postgres', 'xata', 'xata-lite'] as const;
export type DatabaseProviderName = (typeof DATABASE_PROVIDERS)[number];

const commonSchema = z.object({
  NODE_ENV: optional(z.enum(['development', 'production', 'test'])),
  LOG_LEVEL: optional(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])),
  DATA_DIR: optional(z.string()),
  TEMPORAL_ADDRESS: optional(z.string().regex(/^[^\s:]+:\d+$/, 'expected host:port, such as localhost:7233')),
  TEMPORAL_NAMESPACE: optional(z.string().min(1)),
  TEMPORAL_TASK_QUEUE: optional(z.string().min(1)),
  TEMPORAL_API_KEY: optional(z.string()),
  TEMPORAL_TLS: optional(booleanFromEnv),
  TEMPORAL_DEV_SERVER_PORT: optional(portFromEnv),
  TEMPORAL_UI_PORT: optional(portFromEnv),
  DATABASE_PROVIDER: optional(
    z.enum(DATABASE_PROVIDERS, { message: 'expected sqlite or postgres, or xata or xata-lite for Xata' }),
  ),
  POSTGRES_URLS: optional(postgresUrls),
  POSTGRES_ROLE_PER_USER: optional(booleanFromEnv),
  XATA_API_KEY: optional(
    z.string().refine((value) => value.trim() === value, 'must not start or end with white space'),
  ),
  XATA_ORGANIZATION: optional(z.string().regex(/^[A-Za-z0-9_~:-]+$/, 'expected an organization ID')),
  XATA_PROJECT: optional(z.string().regex(/^[A-Za-z0-9_~:-]+$/, 'expected a project ID')),
  XATA_WORKSPACE_SLUG: optional(z.string().regex(/^[A-Za-z0-9_~-]+$/, 'expected a workspace ID')),
  XATA_API_BASE_URL: optional(z.string().refine(isBaseUrl, 'expected an http or https URL without query')),
  XATA_BRANCH_IMAGE: optional(z.string().min(1)),
  XATA_INSTANCE_TYPE: optional(z.string().min(1)),
  SEED_SCHEMA: optional(booleanFromEnv),
  PROVIDER_MAX_CALLS_PER_SECOND: optional(callsPerSecondFromEnv),
  GEOIP_DATABASE: optional(z.string()),
  GEOIP_SOURCE: optional(z.enum(['mmdb', 'ip-api'], { message: 'expected mmdb or ip-api' })),
  IP_API_KEY: optional(z.string().refine((value) => value.trim() === value, 'must not start or end with white space')),
  IP_API_BASE_URL: optional(
    z.string().refine(isBaseUrl, 'expected an http or https URL without query, such as http://127.0.0.1:8080'),
  ),
  REGION_POLICY_FILE: optional(z.string()),
  REGION_METADATA_KEY: optional(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected 1 to 64 letters, digits, _ or -')),
});

function isBaseUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.search === '' && url.hash === '';
  } catch {
    return false;
  }
}

const hookdeckSecret = z
  .string({ message: 'missing' })
  .min(1, 'missing')
  .refine((value) => value.trim() === value, 'must not start or end with white space');

const svixSecrets = z
  .string({ message: 'missing' })
  .min(1, 'missing')
  .transform((value, context) => {
    const keys: Buffer[] = [];
    for (const [index, secret] of value.split(',').entries()) {
      try {
        keys.push(decodeSvixSecret(secret.trim()));
      } catch (error) {
        context.addIssue({ code: 'custom', message: `secret ${index + 1} is invalid: ${(error as Error).message}` });
      }
    }
    return keys;
  });

export const WEBHOOK_SOURCES = ['hookdeck', 'svix'] as const;
export type WebhookSource = (typeof WEBHOOK_SOURCES)[number];

const webhookSources = z
  .string()
  .transform((value) => value.split(',').map((source) => source.trim()))
  .pipe(
    z
      .array(z.enum(WEBHOOK_SOURCES, { message: 'expected a comma-separated list of hookdeck and svix' }))
      .min(1, 'expected hookdeck, svix or both'),
  );

/** Builds the API's schema, which requires the secret of each enabled webhook source and ignores the others. */
function apiSchema(sources: readonly WebhookSource[]) {
  return commonSchema.extend({
    WEBHOOK_SOURCES: optional(webhookSources),
    HOOKDECK_WEBHOOK_SECRET: sources.includes('hookdeck') ? hookdeckSecret : z.unknown().optional(),
    HOOKDECK_REQUIRE_VERIFIED: optional(booleanFromEnv),
    CLERK_WEBHOOK_SECRETS: sources.includes('svix') ? svixSecrets : z.unknown().optional(),
    PORT: optional(portFromEnv),
    MAX_BODY_BYTES: optional(z.coerce.number().int().min(1024, 'expected at least 1024 bytes')),
    TEMPORAL_START_TIMEOUT_MS: optional(z.coerce.number().int().min(100).max(30_000)),
    DELETION_GRACE_PERIOD: optional(durationFromEnv),
    STATUS_API_TOKEN: optional(
      z.string().min(16, 'expected at least 16 characters; generate one with `openssl rand -hex 32`'),
    ),
  });
}

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration such as `72h`, `30m`, `7d` or `0s`, in milliseconds. */
const durationFromEnv = z
  .string()
  .regex(/^\d{1,9}(ms|s|m|h|d)$/, 'expected a whole number with a unit, such as 72h, 30m, 7d or 0s')
  .transform((value) => {
    const [, amount, unit] = /^(\d+)(ms|s|m|h|d)$/.exec(value) as RegExpExecArray;
    return Number(amount) * (DURATION_UNITS_MS[unit as string] as number);
  });

const FIXES: Record<string, string> = {
  HOOKDECK_WEBHOOK_SECRET:
    "set it to your Hookdeck project's signing secret (Dashboard > Settings > Secrets), for example in .env",
  TEMPORAL_ADDRESS: 'leave it unset to use the local dev server that `npm start` runs',
  CLERK_WEBHOOK_SECRETS:
    "set it to the endpoint's signing secret from the Clerk Dashboard (Webhooks), whsec_..., comma-separated during a rotation",
};

/** Settings of the `xata` provider; set when DATABASE_PROVIDER is xata. The API key is a secret. */
export interface XataConfig {
  apiKey: string;
  organizationId: string;
  projectId: string;
  /** Unset means the documented https://api.xata.tech. */
  baseUrl?: string;
  branchImage?: string;
  instanceType?: string;
}

/** Settings of the legacy `xata-lite` provider; set when DATABASE_PROVIDER is xata-lite. The API key is a secret. */
export interface XataLiteConfig {
  apiKey: string;
  workspaceId: string;
  /** Unset means the client's https://api.xata.io. */
  baseUrl?: string;
}

/** Servers of the `postgres` provider; set when DATABASE_PROVIDER is postgres. */
export interface PostgresConfig {
  /** Connection URL per region, plus an optional `*` entry for every other region. */
  urls: Record<string, string>;
  rolePerUser: boolean;
}

export interface TemporalConfig {
  /** Unset means `npm start` runs a local dev server and sets this for its children. */
  address?: string;
  namespace: string;
  taskQueue: string;
  apiKey?: string;
  tls: boolean;
  /** Ports of the dev server that `npm start` runs when no address is set. */
  devServer: { port: number; uiPort: number };
}

export interface CommonConfig {
  env: 'development' | 'production' | 'test';
  logLevel: string;
  /** Absolute path of the folder for per-user SQLite databases and the dev server's state. */
  dataDir: string;
  temporal: TemporalConfig;
  database: {
    provider: DatabaseProviderName;
    seedSchema: boolean;
    postgres?: PostgresConfig;
    xata?: XataConfig;
    xataLite?: XataLiteConfig;
  };
  /**
   * Maximum rate of provider activity tasks (create, seed, disable, delete) that Temporal dispatches to all
   * workers together, per second; unset means no limit.
   */
  providerMaxCallsPerSecond?: number;
  /** Path of an MMDB country database; unset means the one shipped with the npm package. */
  geoipDatabase?: string;
  /** Source of the signup IP's country: the MMDB file or the ip-api.com API. */
  geoipSource: 'mmdb' | 'ip-api';
  /** ip-api settings, used when `geoipSource` is `ip-api`; the key is a secret. */
  ipApi: { key?: string; baseUrl?: string };
  /** Absolute path of the region policy file; unset means config/region-policy.json in the package. */
  regionPolicyFile?: string;
  /** Key in a user's `public_metadata` that contains the region they chose; the API reads it. */
  regionMetadataKey: string;
}

export interface ApiConfig extends CommonConfig {
  port: number;
  /** Deliveries from Hookdeck on /webhooks/clerk; unset when `hookdeck` is not in WEBHOOK_SOURCES. */
  hookdeck?: { signingSecret: string; requireVerified: boolean };
  /** Deliveries straight from Clerk on /webhooks/clerk/svix; unset when `svix` is not in WEBHOOK_SOURCES. */
  svix?: { keys: Buffer[] };
  maxBodyBytes: number;
  /** Deadline for the start call to Temporal, well under Hookdeck's 60 s delivery timeout. */
  startTimeoutMs: number;
  /** How long a deleted user's database stays disabled but restorable before it is deleted. */
  deletionGracePeriodMs: number;
  /** Bearer token for GET /tenants/:userId; the endpoint is off while it is unset. */
  statusApiToken?: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function parse<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv): z.output<T> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;

  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? 'environment');
    const fix = FIXES[name];
    return `${name}: ${issue.message}${fix ? `; ${fix}` : ''}`;
  });
  throw new ConfigError(problems);
}

function toCommon(values: z.output<typeof commonSchema>, cwd: string): CommonConfig {
  const env = values.NODE_ENV ?? 'development';
  return {
    env,
    logLevel: values.LOG_LEVEL ?? (env === 'test' ? 'warn' : 'info'),
    dataDir: path.resolve(cwd, values.DATA_DIR ?? 'data'),
    temporal: {
      address: values.TEMPORAL_ADDRESS,
      namespace: values.TEMPORAL_NAMESPACE ?? 'default',
      taskQueue: values.TEMPORAL_TASK_QUEUE ?? TASK_QUEUE,
      apiKey: values.TEMPORAL_API_KEY,
      tls: values.TEMPORAL_TLS ?? Boolean(values.TEMPORAL_API_KEY),
      devServer: { port: values.TEMPORAL_DEV_SERVER_PORT ?? 7233, uiPort: values.TEMPORAL_UI_PORT ?? 8233 },
    },
    database: toDatabaseConfig(values),
    providerMaxCallsPerSecond: values.PROVIDER_MAX_CALLS_PER_SECOND,
    geoipDatabase: values.GEOIP_DATABASE ? path.resolve(cwd, values.GEOIP_DATABASE) : undefined,
    geoipSource: values.GEOIP_SOURCE ?? 'mmdb',
    ipApi: { key: values.IP_API_KEY, baseUrl: values.IP_API_BASE_URL },
    regionPolicyFile: values.REGION_POLICY_FILE ? path.resolve(cwd, values.REGION_POLICY_FILE) : undefined,
    regionMetadataKey: values.REGION_METADATA_KEY ?? REGION_METADATA_KEY,
  };
}

function toDatabaseConfig(values: z.output<typeof commonSchema>): CommonConfig['database'] {
  const provider = values.DATABASE_PROVIDER ?? 'sqlite';
  const seedSchema = values.SEED_SCHEMA ?? true;
  if (provider === 'xata') return { provider, seedSchema, xata: toXataConfig(values) };
  if (provider === 'xata-lite') return { provider, seedSchema, xataLite: toXataLiteConfig(values) };
  if (provider !== 'postgres') return { provider, seedSchema };

  if (!values.POSTGRES_URLS) {
    throw new ConfigError([
      'POSTGRES_URLS: missing; DATABASE_PROVIDER=postgres needs it, such as *=postgres://user:password@host:5432/postgres',
    ]);
  }
  return {
    provider,
    seedSchema,
    postgres: { urls: values.POSTGRES_URLS, rolePerUser: values.POSTGRES_ROLE_PER_USER ?? false },
  };
}

function toXataConfig(values: z.output<typeof commonSchema>): XataConfig {
  const missing = missingVariables(values, ['XATA_API_KEY', 'XATA_ORGANIZATION', 'XATA_PROJECT'], 'xata');
  if (missing.length > 0) throw new ConfigError(missing);
  return {
    apiKey: values.XATA_API_KEY as string,
    organizationId: values.XATA_ORGANIZATION as string,
    projectId: values.XATA_PROJECT as string,
    baseUrl: values.XATA_API_BASE_URL,
    branchImage: values.XATA_BRANCH_IMAGE,
    instanceType: values.XATA_INSTANCE_TYPE,
  };
}

function toXataLiteConfig(values: z.output<typeof commonSchema>): XataLiteConfig {
  const missing = missingVariables(values, ['XATA_API_KEY', 'XATA_WORKSPACE_SLUG'], 'xata-lite');
  if (missing.length > 0) throw new ConfigError(missing);
  return {
    apiKey: values.XATA_API_KEY as string,
    workspaceId: values.XATA_WORKSPACE_SLUG as string,
    baseUrl: values.XATA_API_BASE_URL,
  };
}

/** Returns one problem for each variable in `names` that is unset, naming the provider that needs it. */
function missingVariables(values: z.output<typeof commonSchema>, names: (keyof typeof values)[], provider: string) {
  return names
    .filter((name) => values[name] === undefined)
    .map((name) => `${String(name)}: missing; DATABASE_PROVIDER=${provider} needs it`);
}

/** Parses what the worker and the start command need; throws ConfigError naming each bad variable. */
export function loadCommonConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): CommonConfig {
  return toCommon(parse(commonSchema, env), cwd);
}

/** Parses what the webhook API needs, which includes the secret of each enabled webhook source. */
export function loadApiConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): ApiConfig {
  const sources = webhookSources.safeParse(env.WEBHOOK_SOURCES || 'hookdeck');
  const values = parse(apiSchema(sources.success ? sources.data : ['hookdeck']), env);
  const enabled = values.WEBHOOK_SOURCES ?? ['hookdeck'];
  return {
    ...toCommon(values, cwd),
    port: values.PORT ?? 3000,
    hookdeck: enabled.includes('hookdeck')
      ? {
          signingSecret: values.HOOKDECK_WEBHOOK_SECRET as string,
          requireVerified: values.HOOKDECK_REQUIRE_VERIFIED ?? true,
        }
      : undefined,
    svix: enabled.includes('svix') ? { keys: values.CLERK_WEBHOOK_SECRETS as Buffer[] } : undefined,
    maxBodyBytes: values.MAX_BODY_BYTES ?? 1024 * 1024,
    startTimeoutMs: values.TEMPORAL_START_TIMEOUT_MS ?? 5000,
    deletionGracePeriodMs: values.DELETION_GRACE_PERIOD ?? 72 * 3_600_000,
    statusApiToken: values.STATUS_API_TOKEN,
  };
}

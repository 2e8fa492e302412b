// Configuration is read from the environment once, at start, into a typed object. Nothing else in the
// code base reads process.env.
import path from 'node:path';
import { z } from 'zod';

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

/** Treats an empty variable like an unset one, as shells and .env files often leave `NAME=` behind. */
function optional<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (value === '' ? undefined : value), schema.optional());
}

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
  DATABASE_PROVIDER: optional(z.enum(['sqlite'], { message: 'expected sqlite' })),
  SEED_SCHEMA: optional(booleanFromEnv),
  GEOIP_DATABASE: optional(z.string()),
});

const apiSchema = commonSchema.extend({
  HOOKDECK_WEBHOOK_SECRET: z
    .string({ message: 'missing' })
    .min(1, 'missing')
    .refine((value) => value.trim() === value, 'must not start or end with white space'),
  HOOKDECK_REQUIRE_VERIFIED: optional(booleanFromEnv),
  PORT: optional(portFromEnv),
  MAX_BODY_BYTES: optional(z.coerce.number().int().min(1024, 'expected at least 1024 bytes')),
  TEMPORAL_START_TIMEOUT_MS: optional(z.coerce.number().int().min(100).max(30_000)),
});

const FIXES: Record<string, string> = {
  HOOKDECK_WEBHOOK_SECRET:
    "set it to your Hookdeck project's signing secret (Dashboard > Settings > Secrets), for example in .env",
  TEMPORAL_ADDRESS: 'leave it unset to use the local dev server that `npm start` runs',
};

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
  database: { provider: 'sqlite'; seedSchema: boolean };
  /** Path of an MMDB country database; unset means the one shipped with the npm package. */
  geoipDatabase?: string;
}

export interface ApiConfig extends CommonConfig {
  port: number;
  hookdeck: { signingSecret: string; requireVerified: boolean };
  maxBodyBytes: number;
  /** Deadline for the start call to Temporal, well under Hookdeck's 60 s delivery timeout. */
  startTimeoutMs: number;
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
    database: { provider: values.DATABASE_PROVIDER ?? 'sqlite', seedSchema: values.SEED_SCHEMA ?? true },
    geoipDatabase: values.GEOIP_DATABASE ? path.resolve(cwd, values.GEOIP_DATABASE) : undefined,
  };
}

/** Parses what the worker and the start command need; throws ConfigError naming each bad variable. */
export function loadCommonConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): CommonConfig {
  return toCommon(parse(commonSchema, env), cwd);
}

/** Parses what the webhook API needs, which includes the Hookdeck signing secret. */
export function loadApiConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): ApiConfig {
  const values = parse(apiSchema, env);
  return {
    ...toCommon(values, cwd),
    port: values.PORT ?? 3000,
    hookdeck: {
      signingSecret: values.HOOKDECK_WEBHOOK_SECRET,
      requireVerified: values.HOOKDECK_REQUIRE_VERIFIED ?? true,
    },
    maxBodyBytes: values.MAX_BODY_BYTES ?? 1024 * 1024,
    startTimeoutMs: values.TEMPORAL_START_TIMEOUT_MS ?? 5000,
  };
}

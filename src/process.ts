// Start-up helpers shared by the entry points: the optional .env file, the logger and fatal errors.
import fs from 'node:fs';
import path from 'node:path';

import { ConfigError, type CommonConfig } from './config';
import { createLogger, type Logger } from './logger';

/** Loads `.env` from the working folder into process.env, without overriding variables already set. */
export function loadEnvFile(cwd = process.cwd()): void {
  const file = path.join(cwd, '.env');
  if (fs.existsSync(file)) process.loadEnvFile(file);
}

export function loggerFor(config: CommonConfig, name: string): Logger {
  return createLogger({ name, level: config.logLevel, pretty: config.env === 'development' && process.stdout.isTTY });
}

/** Reports an error that stops the process: a configuration problem as plain text, anything else as a stack. */
export function exitWithError(error: unknown, logger?: Logger): never {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\nSee .env.example for every variable.\n`);
  } else if (logger) {
    logger.fatal({ err: error }, 'Stopped by an unexpected error');
  } else {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exit(1);
}

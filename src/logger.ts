// One pino logger for every process outside workflow code. Workflow and activity logs reach it through
// the Temporal runtime logger adapter below.
import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import pino, { type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level: string;
  /** Human-readable lines for a terminal; JSON lines otherwise. */
  pretty: boolean;
  name?: string;
}

/** Paths that must never reach a log line, even if a caller passes a whole request or config by mistake. */
const REDACTED_PATHS = [
  'secret',
  'signingSecret',
  'apiKey',
  'password',
  'authorization',
  'headers.authorization',
  'headers["x-hookdeck-signature"]',
  'headers["x-hookdeck-signature-2"]',
  'headers["svix-signature"]',
  'body',
  'email',
  'clientIp',
];

export function createLogger(options: LoggerOptions): Logger {
  return pino({
    name: options.name,
    level: options.level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    transport: options.pretty
      ? { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } }
      : undefined,
  });
}

const PINO_LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** Adapts pino to the Logger interface that Runtime.install takes, so SDK, workflow and activity logs share one stream. */
export function toTemporalLogger(logger: Logger): TemporalLogger {
  const write = (level: LogLevel, message: string, meta?: LogMetadata) => {
    logger[PINO_LEVELS[level]]({ ...meta }, message);
  };
  return {
    log: write,
    trace: (message, meta) => write('TRACE', message, meta),
    debug: (message, meta) => write('DEBUG', message, meta),
    info: (message, meta) => write('INFO', message, meta),
    warn: (message, meta) => write('WARN', message, meta),
    error: (message, meta) => write('ERROR', message, meta),
  };
}

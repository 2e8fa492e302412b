// Classification of provider failures into retryable and non-retryable Temporal ApplicationFailures.
//
// Retryable: timeouts, refused or dropped connections, HTTP 5xx and 429. Temporal retries them with the
// activity's retry policy, and a 429 with a Retry-After header sets the delay of the next attempt.
// Non-retryable: rejected credentials, an exceeded quota, an unavailable region and a retired API (HTTP 410, or a
// host that no longer resolves). They fail the workflow at once with a message that names the fix.
import { ApplicationFailure } from '@temporalio/common';

import { ErrorType } from '../../shared';

/** Types of the retryable failures that providers raise. Temporal retries them. */
export const RetryableErrorType = {
  /** The provider timed out, refused the connection or failed on its side (5xx). */
  PROVIDER_UNAVAILABLE: 'ProviderUnavailable',
  /** The provider returned HTTP 429. */
  PROVIDER_RATE_LIMITED: 'ProviderRateLimited',
} as const;

/** Socket error codes of failures that a later attempt can get past. */
const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
]);

/** Maximum delay taken from a Retry-After header, so that a wrong header cannot park a workflow for days. */
const MAX_RETRY_AFTER_MS = 10 * 60 * 1000;

/** Creates a retryable failure for an unreachable or failing provider. */
export function providerUnavailable(message: string, cause?: Error): ApplicationFailure {
  return ApplicationFailure.create({
    type: RetryableErrorType.PROVIDER_UNAVAILABLE,
    nonRetryable: false,
    message,
    cause,
  });
}

/** Creates a non-retryable failure of one of the shared error types. */
export function permanentFailure(type: string, message: string, cause?: Error): ApplicationFailure {
  return ApplicationFailure.create({ type, nonRetryable: true, message, cause });
}

/** Returns the `code` property of a Node.js system error, or of an error that carries one, such as a pg error. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

/**
 * Classifies a network-level error from a client library (Node.js socket and DNS errors, undici and timeouts).
 * Returns undefined when the error is not a network error, so the caller can classify it further.
 *
 * `service` names the provider and host in messages, such as `Postgres server db.internal:5432`. It must not
 * contain a password.
 */
export function classifyNetworkError(error: unknown, service: string): ApplicationFailure | undefined {
  const code = errorCode(error);
  const cause = error instanceof Error ? error : undefined;

  if (code === 'ENOTFOUND') {
    return permanentFailure(
      ErrorType.PROVIDER_RETIRED,
      `${service} is unreachable: its host name does not resolve. Check the host in the configuration; ` +
        'if the provider has shut the service down, move to another provider.',
      cause,
    );
  }
  if (code !== undefined && TRANSIENT_NETWORK_CODES.has(code)) {
    return providerUnavailable(`${service} is unreachable (${code}). Temporal retries the activity.`, cause);
  }
  if (cause && isTimeoutError(cause)) {
    return providerUnavailable(`${service} timed out: ${cause.message}. Temporal retries the activity.`, cause);
  }
  return undefined;
}

function isTimeoutError(error: Error): boolean {
  return error.name === 'TimeoutError' || error.name === 'AbortError' || /\btime(d)? ?out\b/i.test(error.message);
}

/** An error response from a provider's HTTP API, the input of `classifyHttpStatus`. */
export interface HttpFailure {
  status: number;
  /** Value of the Retry-After header, if any. */
  retryAfter?: string | null;
  /** Short description of the request and response for the message, without credentials. */
  detail: string;
  /** HTTP statuses that this API uses for an exceeded quota, such as 402, or 400 with a quota message. */
  quotaExceeded?: boolean;
}

/**
 * Maps an HTTP error response of a provider's API to an ApplicationFailure.
 *
 * 401 and 403 are rejected credentials, 410 a retired API, 429 a rate limit, 5xx and 408 a temporary failure.
 * Any other 4xx is a request that the same input cannot fix, so it is non-retryable `ConfigurationError`.
 * `now` is for tests of HTTP-date Retry-After values.
 */
export function classifyHttpStatus(failure: HttpFailure, service: string, now = Date.now()): ApplicationFailure {
  const { status, detail } = failure;

  if (failure.quotaExceeded) {
    return permanentFailure(
      ErrorType.PROVIDER_QUOTA_EXCEEDED,
      `${service} rejected the request because the account reached a quota (${detail}). ` +
        'Delete unused databases or raise the plan limit, then start the workflow again.',
    );
  }
  if (status === 401 || status === 403) {
    return permanentFailure(
      ErrorType.PROVIDER_AUTHENTICATION,
      `${service} rejected the credentials (HTTP ${status}, ${detail}). Check the API key and its permissions.`,
    );
  }
  if (status === 410) {
    return permanentFailure(
      ErrorType.PROVIDER_RETIRED,
      `${service} has retired this API (HTTP 410, ${detail}). Move to a supported provider.`,
    );
  }
  if (status === 429) {
    const delayMs = parseRetryAfter(failure.retryAfter, now);
    return ApplicationFailure.create({
      type: RetryableErrorType.PROVIDER_RATE_LIMITED,
      nonRetryable: false,
      message: `${service} is rate limiting requests (HTTP 429, ${detail}). Temporal retries the activity.`,
      nextRetryDelay: delayMs,
    });
  }
  if (status >= 500 || status === 408) {
    return providerUnavailable(`${service} failed (HTTP ${status}, ${detail}). Temporal retries the activity.`);
  }
  return permanentFailure(
    ErrorType.CONFIGURATION,
    `${service} rejected the request (HTTP ${status}, ${detail}). Check the provider configuration.`,
  );
}

/**
 * Parses a Retry-After header (RFC 9110 section 10.2.3: delay in seconds or an HTTP date) into milliseconds,
 * capped at MAX_RETRY_AFTER_MS. Returns undefined when the header is missing or invalid, which leaves the delay to
 * the retry policy.
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value === null) return undefined;
  const trimmed = value.trim();

  let delayMs: number;
  if (/^\d+$/.test(trimmed)) {
    delayMs = Number(trimmed) * 1000;
  } else {
    const date = Date.parse(trimmed);
    if (Number.isNaN(date)) return undefined;
    delayMs = Math.max(0, date - now);
  }
  return Math.min(delayMs, MAX_RETRY_AFTER_MS);
}

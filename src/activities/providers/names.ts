// Input checks that every provider runs before a user id or region becomes part of a database name or path.
import { ApplicationFailure } from '@temporalio/common';

import { CLERK_USER_ID_PATTERN, ErrorType, REGION_PATTERN } from '../../shared';

/** Maximum length of a rejected value that error messages quote. Longer values are described by their length only. */
const MAX_QUOTED_LENGTH = 80;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * Validates a Clerk user id and returns it. Otherwise throws a non-retryable `InvalidInput` ApplicationFailure,
 * because a retry with the same activity input cannot succeed.
 */
export function validateUserId(value: unknown): string {
  if (typeof value === 'string' && CLERK_USER_ID_PATTERN.test(value)) return value;

  throw invalidInput(`Invalid user id ${describeValue(value)}: it must match ${CLERK_USER_ID_PATTERN.source}.`);
}

/** Validates a region name such as `eu-west-1` and returns it. Otherwise throws like `validateUserId`. */
export function validateRegion(value: unknown): string {
  if (typeof value === 'string' && REGION_PATTERN.test(value)) return value;

  throw invalidInput(
    `Invalid region ${describeValue(value)}: it must match ${REGION_PATTERN.source}, such as eu-west-1.`,
  );
}

/** Creates the failure that activities raise for input that no retry can fix. */
export function invalidInput(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: ErrorType.INVALID_INPUT, nonRetryable: true, message });
}

/**
 * Quotes a short printable value and describes any other by its type or length, so that a long value cannot flood
 * the workflow history and control characters never reach the logs.
 */
function describeValue(value: unknown): string {
  if (typeof value !== 'string') return `(${value === null ? 'null' : typeof value}, expected a string)`;
  if (value === '') return '(empty string)';
  if (value.length > MAX_QUOTED_LENGTH) return `(${value.length} characters, too long)`;
  if (!PRINTABLE_ASCII.test(value)) return `(${value.length} characters, contains control or non-ASCII characters)`;

  return JSON.stringify(value);
}

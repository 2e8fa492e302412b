import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { ApplicationFailure } from '@temporalio/common';

import {
  classifyHttpStatus,
  classifyNetworkError,
  parseRetryAfter,
  RetryableErrorType,
} from '../../src/activities/providers/errors';
import { classifyPostgresError } from '../../src/activities/providers/postgres';
import { ErrorType } from '../../src/shared';

const SERVICE = 'Test API';

/** Builds an Error with a `code`, like Node.js system errors and pg's database errors. */
function codedError(code: string, message = `failed with ${code}`): Error {
  return Object.assign(new Error(message), { code });
}

describe('classifyHttpStatus', () => {
  const cases: { status: number; type: string; nonRetryable: boolean }[] = [
    { status: 401, type: ErrorType.PROVIDER_AUTHENTICATION, nonRetryable: true },
    { status: 403, type: ErrorType.PROVIDER_AUTHENTICATION, nonRetryable: true },
    { status: 410, type: ErrorType.PROVIDER_RETIRED, nonRetryable: true },
    { status: 400, type: ErrorType.CONFIGURATION, nonRetryable: true },
    { status: 429, type: RetryableErrorType.PROVIDER_RATE_LIMITED, nonRetryable: false },
    { status: 408, type: RetryableErrorType.PROVIDER_UNAVAILABLE, nonRetryable: false },
    { status: 500, type: RetryableErrorType.PROVIDER_UNAVAILABLE, nonRetryable: false },
    { status: 503, type: RetryableErrorType.PROVIDER_UNAVAILABLE, nonRetryable: false },
  ];
  for (const { status, type, nonRetryable } of cases) {
    test(`HTTP ${status}`, () => {
      const failure = classifyHttpStatus({ status, detail: 'POST /dbs' }, SERVICE);
      assert.equal(failure.type, type);
      assert.equal(failure.nonRetryable, nonRetryable);
    });
  }

  test('quota non-retryable', () => {
    const failure = classifyHttpStatus({ status: 400, detail: 'POST /dbs', quotaExceeded: true }, SERVICE);
    assert.equal(failure.type, ErrorType.PROVIDER_QUOTA_EXCEEDED);
    assert.equal(failure.nonRetryable, true);
  });

  test('429 honours Retry-After', () => {
    const failure = classifyHttpStatus({ status: 429, retryAfter: '7', detail: 'GET /dbs' }, SERVICE);
    assert.equal(failure.nextRetryDelay, 7000);
  });

  test('429 without Retry-After', () => {
    const failure = classifyHttpStatus({ status: 429, detail: 'GET /dbs' }, SERVICE);
    assert.equal(failure.nextRetryDelay, undefined);
  });

  test('message names the status', () => {
    assert.match(classifyHttpStatus({ status: 410, detail: 'GET /dbs' }, SERVICE).message, /HTTP 410/);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-01-31T12:00:00Z');

  test('seconds', () => assert.equal(parseRetryAfter('30', now), 30_000));
  test('HTTP date', () => assert.equal(parseRetryAfter('Fri, 31 Jan 2025 12:00:05 GMT', now), 5000));
  test('past date is zero', () => assert.equal(parseRetryAfter('Fri, 31 Jan 2025 11:00:00 GMT', now), 0));
  test('capped at 10 minutes', () => assert.equal(parseRetryAfter('86400', now), 600_000));
  test('garbage ignored', () => assert.equal(parseRetryAfter('soon', now), undefined));
  test('missing ignored', () => assert.equal(parseRetryAfter(null, now), undefined));
});

describe('classifyNetworkError', () => {
  for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN']) {
    test(`${code} retryable`, () => {
      const failure = classifyNetworkError(codedError(code), SERVICE);
      assert.equal(failure?.type, RetryableErrorType.PROVIDER_UNAVAILABLE);
      assert.equal(failure?.nonRetryable, false);
    });
  }

  test('ENOTFOUND retired', () => {
    const failure = classifyNetworkError(codedError('ENOTFOUND'), SERVICE);
    assert.equal(failure?.type, ErrorType.PROVIDER_RETIRED);
    assert.equal(failure?.nonRetryable, true);
  });

  test('timeout retryable', () => {
    const failure = classifyNetworkError(new Error('Connection terminated due to connection timeout'), SERVICE);
    assert.equal(failure?.type, RetryableErrorType.PROVIDER_UNAVAILABLE);
  });

  test('other errors left alone', () => {
    assert.equal(classifyNetworkError(new Error('syntax error'), SERVICE), undefined);
  });
});

describe('classifyPostgresError', () => {
  const cases: { code: string; type: string; nonRetryable: boolean }[] = [
    { code: '28P01', type: ErrorType.PROVIDER_AUTHENTICATION, nonRetryable: true },
    { code: '28000', type: ErrorType.PROVIDER_AUTHENTICATION, nonRetryable: true },
    { code: '42501', type: ErrorType.CONFIGURATION, nonRetryable: true },
    { code: '3D000', type: ErrorType.CONFIGURATION, nonRetryable: true },
    { code: '53300', type: RetryableErrorType.PROVIDER_UNAVAILABLE, nonRetryable: false },
    { code: '57P03', type: RetryableErrorType.PROVIDER_UNAVAILABLE, nonRetryable: false },
    { code: '40P01', type: RetryableErrorType.PROVIDER_UNAVAILABLE, nonRetryable: false },
  ];
  for (const { code, type, nonRetryable } of cases) {
    test(`SQLSTATE ${code}`, () => {
      const failure = classifyPostgresError(codedError(code), SERVICE);
      assert.ok(failure instanceof ApplicationFailure);
      assert.equal(failure.type, type);
      assert.equal(failure.nonRetryable, nonRetryable);
    });
  }

  test('dropped connection retryable', () => {
    const failure = classifyPostgresError(new Error('Connection terminated unexpectedly'), SERVICE);
    assert.ok(failure instanceof ApplicationFailure);
    assert.equal(failure.nonRetryable, false);
  });

  test('unknown error unchanged', () => {
    const error = codedError('XX000', 'internal error');
    assert.equal(classifyPostgresError(error, SERVICE), error);
  });
});

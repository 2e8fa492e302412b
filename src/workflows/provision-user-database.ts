import {
  ActivityFailure,
  ApplicationFailure,
  log,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';

import type { Activities } from '../activities';
import {
  ErrorType,
  type ProvisionInput,
  type ProvisionResult,
  type ProvisioningStatus,
  type ProvisioningStep,
  searchAttributes,
  statusQuery,
} from '../shared';

const NON_RETRYABLE = [ErrorType.INVALID_INPUT, ErrorType.CONFIGURATION];

// Region resolution reads a local file, so a short timeout is plenty; it is retried like any activity.
const { resolveRegion } = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
});

// Provider calls retry without an attempt limit: an outage delays a signup's database but never drops it,
// and the Web UI shows the attempt count and the last failure meanwhile. Invalid input and configuration
// errors stop at once, because retrying cannot fix them.
const { createDatabase, seedSchema } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
});

/** Provisions the database of one Clerk user; the workflow id is the user id. */
export async function provisionUserDatabase(input: ProvisionInput): Promise<ProvisionResult> {
  const status: ProvisioningStatus = { step: 'resolving-region' };
  setHandler(statusQuery, () => status);

  const enter = (step: ProvisioningStep) => {
    status.step = step;
    upsertSearchAttributes([{ key: searchAttributes.status, value: step }]);
  };

  try {
    enter('resolving-region');
    const decision = await resolveRegion(input.region);
    status.decision = decision;
    upsertSearchAttributes([{ key: searchAttributes.region, value: decision.region }]);
    log.info('Region decided', { region: decision.region, source: decision.source, reason: decision.reason });

    enter('creating-database');
    const { ref, created } = await createDatabase({ userId: input.userId, region: decision.region });
    status.database = ref;
    upsertSearchAttributes([{ key: searchAttributes.provider, value: ref.provider }]);
    log.info(created ? 'Database created' : 'Database already existed', { provider: ref.provider, region: ref.region });

    if (input.seedSchema) {
      enter('seeding-schema');
      const seeded = await seedSchema(ref);
      status.schemaVersion = seeded.version;
    }

    enter('ready');
    return { userId: input.userId, decision, database: ref, schemaVersion: status.schemaVersion };
  } catch (error) {
    const failedStep = status.step;
    status.error = describeFailure(error);
    enter('failed');
    log.error('Provisioning failed', { step: failedStep, error: status.error });
    throw error;
  }
}

/** Returns the root cause's message, which is what an operator needs, rather than "Activity task failed". */
function describeFailure(error: unknown): string {
  if (error instanceof ActivityFailure && error.cause) {
    const cause = error.cause;
    return cause instanceof ApplicationFailure && cause.type ? `${cause.type}: ${cause.message}` : cause.message;
  }
  return error instanceof Error ? error.message : String(error);
}

// Starts provisioning workflows. The workflow id is the Clerk user id, so Temporal itself rejects a
// second start for a user whose workflow is running or completed.
import {
  type Client,
  isGrpcServiceError,
  ServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
} from '@temporalio/client';

import { PROVISION_WORKFLOW_TYPE, type ProvisionInput } from '../shared';
import type { provisionUserDatabase } from '../workflows';

export type StartOutcome =
  { kind: 'started'; workflowId: string; runId: string } | { kind: 'duplicate'; workflowId: string };

export interface ProvisioningService {
  start(input: ProvisionInput): Promise<StartOutcome>;
  /** Resolves when Temporal answers within the deadline; rejects otherwise. */
  checkReady(): Promise<void>;
}

/** Temporal could not be reached or did not answer in time; the delivery should be retried later. */
export class TemporalUnavailableError extends Error {
  override name = 'TemporalUnavailableError';
}

export function createTemporalProvisioning(
  client: Client,
  options: { taskQueue: string; timeoutMs: number },
): ProvisioningService {
  const withDeadline = <T>(call: () => Promise<T>) => client.withDeadline(Date.now() + options.timeoutMs, call);

  return {
    async start(input) {
      try {
        const handle = await withDeadline(() =>
          client.workflow.start<typeof provisionUserDatabase>(PROVISION_WORKFLOW_TYPE, {
            taskQueue: options.taskQueue,
            workflowId: input.userId,
            args: [input],
            // NOTE: USE_EXISTING would also give one workflow per user, but this SDK version (1.24) does not
            // return the response's `started` flag, so a duplicate could not be told from a new start.
            workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
            // A user whose provisioning completed is never provisioned again; a failed one may be retried.
            workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
          }),
        );
        return { kind: 'started', workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
      } catch (error) {
        if (error instanceof WorkflowExecutionAlreadyStartedError)
          return { kind: 'duplicate', workflowId: input.userId };
        throw classify(error);
      }
    },

    async checkReady() {
      try {
        await withDeadline(() => client.workflowService.getSystemInfo({}));
      } catch (error) {
        throw classify(error);
      }
    },
  };
}

function classify(error: unknown): unknown {
  if (error instanceof ServiceError || isGrpcServiceError(error)) {
    return new TemporalUnavailableError(error instanceof Error ? error.message : 'Temporal call failed', {
      cause: error,
    });
  }
  return error;
}

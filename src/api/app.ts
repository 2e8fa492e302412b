// The HTTP edge: receives Clerk webhooks, through Hookdeck or straight from Clerk, and hands them to
// Temporal. It does no provisioning work itself, so it responds well within Hookdeck's 60 s timeout.
import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';

import type { Logger } from '../logger';
import { InvalidEventError, parseClerkEvent } from './clerk-event';
import { WebhookMetrics } from './metrics';
import { type ProvisioningService, TemporalUnavailableError } from './provisioning';
import { type Outcome, send } from './responses';
import { HOOKDECK_SIGNATURE_HEADERS, verifyHookdeckSignature } from './signature';
import { verifySvixSignature } from './svix-signature';
import { createTenantsRouter, type TenantsRouterOptions } from './tenants';

/** Seventy-two hours, the default of DELETION_GRACE_PERIOD. */
const DEFAULT_GRACE_PERIOD_MS = 72 * 60 * 60 * 1000;

export interface AppOptions {
  /** Enables POST /webhooks/clerk for deliveries signed by Hookdeck. */
  hookdeck?: { signingSecret: string; requireVerified: boolean };
  /** Enables POST /webhooks/clerk/svix for deliveries signed by Clerk's Svix, with one key per accepted secret. */
  svix?: { keys: Buffer[] };
  maxBodyBytes: number;
  seedSchema: boolean;
  /** The `public_metadata` key that contains the user's chosen region; defaults to `dataRegion`. */
  regionMetadataKey?: string;
  /** Grace period sent with each deletion request; see DELETION_GRACE_PERIOD. */
  deletionGracePeriodMs?: number;
  provisioning: ProvisioningService;
  /** Enables GET /tenants/:userId; unset leaves it off. */
  tenants?: Omit<TenantsRouterOptions, 'logger'>;
  logger: Logger;
  metrics?: WebhookMetrics;
}

export const WEBHOOK_PATH = '/webhooks/clerk';
export const SVIX_WEBHOOK_PATH = '/webhooks/clerk/svix';

type Rejection = Extract<Outcome, { kind: 'unauthorized' }>;

/** Checks a delivery's signature; returns the rejection to send, or undefined when the delivery is authentic. */
type Authenticate = (req: Request, body: Buffer) => Rejection | undefined;

/** Ids that let an operator follow one delivery through the logs; none of them is personal data. */
function deliveryIds(req: Request) {
  return { svixId: req.get('svix-id'), hookdeckEventId: req.get('x-hookdeck-eventid') };
}

function reasonOf(outcome: Outcome): string | undefined {
  return 'reason' in outcome && outcome.kind !== 'ignored' ? outcome.reason : undefined;
}

export function createApp(options: AppOptions): express.Express {
  const { provisioning, logger } = options;
  const deletionGracePeriodMs = options.deletionGracePeriodMs ?? DEFAULT_GRACE_PERIOD_MS;
  const metrics = options.metrics ?? new WebhookMetrics();
  const app = express();
  app.disable('x-powered-by');

  const respond = (res: Response, outcome: Outcome) => {
    metrics.record(send(res, outcome), outcome.kind, reasonOf(outcome));
  };

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    try {
      await provisioning.checkReady();
      res.json({ status: 'ready' });
    } catch (error) {
      logger.warn({ err: error }, 'Readiness check failed: Temporal is not reachable');
      send(res, { kind: 'unavailable' });
    }
  });

  app.get('/metrics', (_req, res) => {
    res.type('text/plain; version=0.0.4').send(metrics.render());
  });

  if (options.tenants) app.use('/tenants', createTenantsRouter({ ...options.tenants, logger }));

  // The raw bytes are what was signed, so no parser may touch them first, whatever the content type.
  const rawBody = express.raw({ type: () => true, limit: options.maxBodyBytes, inflate: false });

  const receiveWebhook = (authenticate: Authenticate): RequestHandler => {
    return async (req, res) => {
      const ids = deliveryIds(req);
      const reject = (outcome: Outcome) => {
        logger.warn({ ...ids, outcome: outcome.kind, reason: reasonOf(outcome) }, 'Rejected webhook delivery');
        respond(res, outcome);
      };

      if (req.body !== undefined && !Buffer.isBuffer(req.body)) {
        // A parser such as express.json() ran first and consumed the signed bytes, so no signature can match.
        logger.error(
          ids,
          'Cannot verify a webhook delivery: a body parser ran first. Mount createApp before any body parser',
        );
        respond(res, { kind: 'internal-error' });
        return;
      }
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);

      const rejection = authenticate(req, body);
      if (rejection) {
        reject(rejection);
        return;
      }

      let event;
      try {
        event = parseClerkEvent(body, options.regionMetadataKey);
      } catch (error) {
        if (!(error instanceof InvalidEventError)) throw error;
        reject({ kind: 'bad-request', reason: error.message });
        return;
      }

      if (event.kind === 'other') {
        logger.info({ ...ids, type: event.type }, 'Ignored webhook event');
        respond(res, { kind: 'ignored', type: event.type });
        return;
      }

      const log = logger.child({ ...ids, userId: event.userId, workflowId: event.userId });
      try {
        if (event.kind === 'user.deleted') {
          // The input only matters when the deletion arrives first; the workflow then provisions nothing.
          const input = { userId: event.userId, region: {}, seedSchema: options.seedSchema };
          const outcome = await provisioning.requestDeletion(input, { gracePeriodMs: deletionGracePeriodMs });
          if (outcome.kind === 'deletion-requested') log.info('Requested deletion');
          else log.info('The user was deleted already; nothing to do');
          respond(res, outcome);
          return;
        }

        const outcome = await provisioning.start({
          userId: event.userId,
          region: event.region,
          seedSchema: options.seedSchema,
        });
        if (outcome.kind === 'started') log.info({ runId: outcome.runId }, 'Started provisioning');
        else log.info('Provisioning already started or done; nothing to do');
        respond(res, outcome);
      } catch (error) {
        if (!(error instanceof TemporalUnavailableError)) throw error;
        log.warn({ err: error }, 'Temporal is unavailable; asked the sender to retry');
        respond(res, { kind: 'unavailable' });
      }
    };
  };

  const { hookdeck, svix } = options;
  if (hookdeck) {
    const authenticateHookdeck: Authenticate = (req, body) => {
      const signatures = HOOKDECK_SIGNATURE_HEADERS.map((name) => req.get(name));
      const verdict = verifyHookdeckSignature(body, signatures, hookdeck.signingSecret);
      if (verdict === 'missing') return { kind: 'unauthorized', reason: 'missing signature' };
      if (verdict === 'invalid') return { kind: 'unauthorized', reason: 'invalid signature' };
      // Hookdeck adds this header only after it verified Clerk's Svix signature at the source.
      if (hookdeck.requireVerified && req.get('x-hookdeck-verified') !== 'true') {
        return { kind: 'unauthorized', reason: 'source not verified by Hookdeck' };
      }
      return undefined;
    };
    app.post(WEBHOOK_PATH, rawBody, receiveWebhook(authenticateHookdeck));
  }
  if (svix) {
    const authenticateSvix: Authenticate = (req, body) => {
      const headers = {
        id: req.get('svix-id'),
        timestamp: req.get('svix-timestamp'),
        signature: req.get('svix-signature'),
      };
      const verdict = verifySvixSignature(body, headers, svix.keys);
      if (verdict === 'valid') return undefined;
      if (verdict === 'missing') return { kind: 'unauthorized', reason: 'missing signature' };
      if (verdict === 'invalid') return { kind: 'unauthorized', reason: 'invalid signature' };
      if (verdict === 'timestamp-invalid') return { kind: 'unauthorized', reason: 'invalid timestamp' };
      return { kind: 'unauthorized', reason: 'timestamp outside tolerance' };
    };
    app.post(SVIX_WEBHOOK_PATH, rawBody, receiveWebhook(authenticateSvix));
  }
  app.all([WEBHOOK_PATH, SVIX_WEBHOOK_PATH], (req, res) => {
    const enabled = req.path === WEBHOOK_PATH ? hookdeck : svix;
    respond(res, enabled ? { kind: 'method-not-allowed', allow: 'POST' } : { kind: 'not-found' });
  });
  app.use((_req, res) => send(res, { kind: 'not-found' }));

  const handleError: ErrorRequestHandler = (error, req, res, _next) => {
    const ids = deliveryIds(req);
    const type = (error as { type?: string }).type;
    if (type === 'entity.too.large') {
      logger.warn({ ...ids, limitBytes: options.maxBodyBytes }, 'Rejected webhook delivery: body too large');
      respond(res, { kind: 'too-large', limitBytes: options.maxBodyBytes });
    } else if (type === 'encoding.unsupported') {
      logger.warn(ids, 'Rejected webhook delivery: compressed body');
      respond(res, { kind: 'unsupported-encoding' });
    } else if (type === 'request.size.invalid') {
      logger.warn(ids, 'Rejected webhook delivery: body length differs from Content-Length');
      respond(res, { kind: 'bad-request', reason: 'body length does not match Content-Length' });
    } else if (type === 'request.aborted') {
      logger.info(ids, 'Client closed the connection before sending the whole body');
    } else {
      logger.error({ ...ids, err: error }, 'Unexpected error while handling a request');
      respond(res, { kind: 'internal-error' });
    }
  };
  app.use(handleError);

  return app;
}

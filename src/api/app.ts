// The HTTP edge: receives Hookdeck deliveries of Clerk webhooks and hands them to Temporal. It does no
// provisioning work itself, so it can answer within Hookdeck's delivery timeout.
import express, { type ErrorRequestHandler, type Request, type RequestHandler } from 'express';

import type { Logger } from '../logger';
import { InvalidEventError, parseClerkEvent } from './clerk-event';
import { type ProvisioningService, TemporalUnavailableError } from './provisioning';
import { type Outcome, send } from './responses';
import { HOOKDECK_SIGNATURE_HEADERS, verifyHookdeckSignature } from './signature';

export interface AppOptions {
  hookdeck: { signingSecret: string; requireVerified: boolean };
  maxBodyBytes: number;
  seedSchema: boolean;
  provisioning: ProvisioningService;
  logger: Logger;
}

export const WEBHOOK_PATH = '/webhooks/clerk';

/** Ids that let an operator follow one delivery through the logs; none of them is personal data. */
function deliveryIds(req: Request) {
  return { svixId: req.get('svix-id'), hookdeckEventId: req.get('x-hookdeck-eventid') };
}

export function createApp(options: AppOptions): express.Express {
  const { provisioning, logger } = options;
  const app = express();
  app.disable('x-powered-by');

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

  // The raw bytes are what Hookdeck signed, so no parser may touch them first, whatever the content type.
  const rawBody = express.raw({ type: () => true, limit: options.maxBodyBytes, inflate: false });

  const receiveClerkWebhook: RequestHandler = async (req, res) => {
    const ids = deliveryIds(req);
    if (req.body !== undefined && !Buffer.isBuffer(req.body)) {
      // A parser such as express.json() ran first and consumed the signed bytes, so no signature can match.
      logger.error(
        ids,
        'Cannot verify webhook delivery because a body parser consumed the body first. Mount createApp before any body parser',
      );
      send(res, { kind: 'internal-error' });
      return;
    }
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const reject = (outcome: Outcome & { reason?: string }) => {
      logger.warn({ ...ids, status: outcome.kind, reason: outcome.reason }, 'Rejected webhook delivery');
      send(res, outcome);
    };

    const signatures = HOOKDECK_SIGNATURE_HEADERS.map((name) => req.get(name));
    const verdict = verifyHookdeckSignature(body, signatures, options.hookdeck.signingSecret);
    if (verdict !== 'valid') {
      reject({ kind: 'unauthorized', reason: verdict === 'missing' ? 'missing signature' : 'invalid signature' });
      return;
    }
    if (options.hookdeck.requireVerified && req.get('x-hookdeck-verified') !== 'true') {
      reject({ kind: 'unauthorized', reason: 'source not verified by Hookdeck' });
      return;
    }

    let event;
    try {
      event = parseClerkEvent(body);
    } catch (error) {
      if (!(error instanceof InvalidEventError)) throw error;
      reject({ kind: 'bad-request', reason: error.message });
      return;
    }

    if (event.kind === 'other') {
      logger.info({ ...ids, type: event.type, userId: event.userId }, 'Ignored webhook event');
      const reason = event.type === 'user.deleted' ? 'deprovisioning is not implemented yet' : undefined;
      send(res, { kind: 'ignored', type: event.type, reason });
      return;
    }

    const log = logger.child({ ...ids, userId: event.userId, workflowId: event.userId });
    try {
      const outcome = await provisioning.start({
        userId: event.userId,
        region: event.region,
        seedSchema: options.seedSchema,
      });
      if (outcome.kind === 'started') log.info({ runId: outcome.runId }, 'Started provisioning');
      else log.info('Provisioning already started or done; nothing to do');
      send(res, outcome);
    } catch (error) {
      if (!(error instanceof TemporalUnavailableError)) throw error;
      log.warn({ err: error }, 'Temporal is unavailable; asked Hookdeck to retry');
      send(res, { kind: 'unavailable' });
    }
  };

  app.post(WEBHOOK_PATH, rawBody, receiveClerkWebhook);
  app.all(WEBHOOK_PATH, (_req, res) => send(res, { kind: 'method-not-allowed', allow: 'POST' }));
  app.use((_req, res) => send(res, { kind: 'not-found' }));

  const handleError: ErrorRequestHandler = (error, req, res, _next) => {
    const ids = deliveryIds(req);
    const type = (error as { type?: string }).type;
    if (type === 'entity.too.large') {
      logger.warn({ ...ids, limitBytes: options.maxBodyBytes }, 'Rejected webhook delivery: body too large');
      send(res, { kind: 'too-large', limitBytes: options.maxBodyBytes });
    } else if (type === 'encoding.unsupported') {
      logger.warn(ids, 'Rejected webhook delivery: compressed body');
      send(res, { kind: 'unsupported-encoding' });
    } else if (type === 'request.aborted') {
      logger.info(ids, 'Client closed the connection before sending the whole body');
    } else {
      logger.error({ ...ids, err: error }, 'Unexpected error while handling a request');
      send(res, { kind: 'internal-error' });
    }
  };
  app.use(handleError);

  return app;
}

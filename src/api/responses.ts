// The one place that turns the outcome of a delivery into an HTTP status and body. Hookdeck retries every
// non-2xx response, so a 2xx must mean the delivery is durably handled, and garbage must never get a 5xx.
import type { Response } from 'express';

/** Seconds that a 503's Retry-After header tells Hookdeck to wait before it retries. */
export const RETRY_AFTER_SECONDS = 10;

export type Outcome =
  | { kind: 'started'; workflowId: string; runId: string }
  | { kind: 'duplicate'; workflowId: string }
  | { kind: 'deletion-requested'; workflowId: string }
  | { kind: 'ignored'; type: string; reason?: string }
  | {
      kind: 'unauthorized';
      reason:
        | 'missing signature'
        | 'invalid signature'
        | 'source not verified by Hookdeck'
        | 'invalid timestamp'
        | 'timestamp outside tolerance';
    }
  | { kind: 'bad-request'; reason: string }
  | { kind: 'too-large'; limitBytes: number }
  | { kind: 'unsupported-encoding' }
  | { kind: 'unavailable' }
  | { kind: 'not-found' }
  | { kind: 'method-not-allowed'; allow: string }
  | { kind: 'internal-error' };

/** Sends the outcome's status and body, and returns the status. */
export function send(res: Response, outcome: Outcome): number {
  switch (outcome.kind) {
    case 'started':
      res.status(202).json({ status: 'started', workflowId: outcome.workflowId, runId: outcome.runId });
      return 202;
    case 'duplicate':
      res.status(200).json({ status: 'duplicate', workflowId: outcome.workflowId });
      return 200;
    case 'deletion-requested':
      res.status(202).json({ status: 'deletion-requested', workflowId: outcome.workflowId });
      return 202;
    case 'ignored':
      res.status(200).json({ ignored: outcome.type, ...(outcome.reason ? { reason: outcome.reason } : {}) });
      return 200;
    case 'unauthorized':
      res.status(401).json({ error: outcome.reason });
      return 401;
    case 'bad-request':
      res.status(400).json({ error: outcome.reason });
      return 400;
    case 'too-large':
      res.status(413).json({ error: `body larger than ${outcome.limitBytes} bytes` });
      return 413;
    case 'unsupported-encoding':
      res.status(415).json({ error: 'compressed bodies are not accepted: send the body as Hookdeck signed it' });
      return 415;
    case 'unavailable':
      res.set('Retry-After', String(RETRY_AFTER_SECONDS));
      res.status(503).json({ error: 'Temporal is unavailable; retry later' });
      return 503;
    case 'not-found':
      res.status(404).json({ error: 'not found' });
      return 404;
    case 'method-not-allowed':
      res.set('Allow', outcome.allow);
      res.status(405).json({ error: 'method not allowed' });
      return 405;
    case 'internal-error':
      res.status(500).json({ error: 'internal error' });
      return 500;
  }
}

// The one place that turns the outcome of a delivery into an HTTP status and body. Hookdeck retries every
// non-2xx answer, so a 2xx must mean the delivery is durably handled, and garbage must never get a 5xx.
import type { Response } from 'express';

/** Seconds that a 503 asks Hookdeck to wait before it retries. */
export const RETRY_AFTER_SECONDS = 10;

export type Outcome =
  | { kind: 'started'; workflowId: string; runId: string }
  | { kind: 'duplicate'; workflowId: string }
  | { kind: 'ignored'; type: string; reason?: string }
  | { kind: 'unauthorized'; reason: 'missing signature' | 'invalid signature' | 'source not verified by Hookdeck' }
  | { kind: 'bad-request'; reason: string }
  | { kind: 'too-large'; limitBytes: number }
  | { kind: 'unsupported-encoding' }
  | { kind: 'unavailable' }
  | { kind: 'not-found' }
  | { kind: 'method-not-allowed'; allow: string }
  | { kind: 'internal-error' };

export function send(res: Response, outcome: Outcome): void {
  switch (outcome.kind) {
    case 'started':
      res.status(202).json({ status: 'started', workflowId: outcome.workflowId, runId: outcome.runId });
      return;
    case 'duplicate':
      res.status(200).json({ status: 'duplicate', workflowId: outcome.workflowId });
      return;
    case 'ignored':
      res.status(200).json({ ignored: outcome.type, ...(outcome.reason ? { reason: outcome.reason } : {}) });
      return;
    case 'unauthorized':
      res.status(401).json({ error: outcome.reason });
      return;
    case 'bad-request':
      res.status(400).json({ error: outcome.reason });
      return;
    case 'too-large':
      res.status(413).json({ error: `body larger than ${outcome.limitBytes} bytes` });
      return;
    case 'unsupported-encoding':
      res.status(415).json({ error: 'compressed bodies are not accepted: send the body as Hookdeck signed it' });
      return;
    case 'unavailable':
      res.set('Retry-After', String(RETRY_AFTER_SECONDS));
      res.status(503).json({ error: 'Temporal is unavailable; retry later' });
      return;
    case 'not-found':
      res.status(404).json({ error: 'not found' });
      return;
    case 'method-not-allowed':
      res.set('Allow', outcome.allow);
      res.status(405).json({ error: 'method not allowed' });
      return;
    case 'internal-error':
      res.status(500).json({ error: 'internal error' });
      return;
  }
}

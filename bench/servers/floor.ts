// The floor: a route that only verifies the Hookdeck signature over the raw body and returns 202. Nothing
// slower can be under it, so its latency is what this machine, Node and Express cost per delivery.
import express from 'express';

import { HOOKDECK_SIGNATURE_HEADERS, verifyHookdeckSignature } from '../../src/api/signature';

const port = Number(process.env.PORT);
const secret = process.env.HOOKDECK_WEBHOOK_SECRET ?? '';

const app = express();
app.get('/healthz', (_req, res) => {
  res.json({ status: 'ok' });
});
app.post('/webhooks/clerk', express.raw({ type: () => true, limit: 1024 * 1024, inflate: false }), (req, res) => {
  const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  const signatures = HOOKDECK_SIGNATURE_HEADERS.map((name) => req.get(name));
  if (verifyHookdeckSignature(body, signatures, secret) !== 'valid') {
    res.status(401).json({ error: 'invalid signature' });
    return;
  }
  res.status(202).json({ status: 'accepted' });
});

app.listen(port, '127.0.0.1');

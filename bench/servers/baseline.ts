// The baseline: the synchronous design of the Clerk-webhook tutorial, re-implemented against this project's SQLite
// layout. Inside the request it lists every tenant database, checks whether the user's is among them, creates it
// if not, and only then responds, with no queue or workflow in between. Listing every database per event is what
// makes its cost grow with the number of tenants.
import fs from 'node:fs/promises';
import path from 'node:path';

import Database from 'better-sqlite3';
import express from 'express';

import { HOOKDECK_SIGNATURE_HEADERS, verifyHookdeckSignature } from '../../src/api/signature';

const port = Number(process.env.PORT);
const secret = process.env.HOOKDECK_WEBHOOK_SECRET ?? '';
const databasesDir = path.resolve(process.env.DATA_DIR ?? 'data', 'databases');

// The tutorial has no region step, so every database goes to the region that our resolver picks for the
// fixture's signup IP (193.0.6.139, in the Netherlands). That keeps both designs writing to the same folders.
const REGION = 'eu-west-1';
const USER_ID = /^user_[A-Za-z0-9]{1,64}$/;

/** Lists every database as `<region>/<file>`, reading the whole tree below `databases/`. */
async function listDatabases(): Promise<Set<string>> {
  const names = new Set<string>();
  let regions: string[];
  try {
    regions = await fs.readdir(databasesDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return names;
    throw error;
  }
  for (const region of regions) {
    for (const file of await fs.readdir(path.join(databasesDir, region))) names.add(`${region}/${file}`);
  }
  return names;
}

function createDatabase(filePath: string): void {
  const db = new Database(filePath);
  try {
    db.pragma('journal_mode = WAL');
  } finally {
    db.close();
  }
}

const app = express();
app.get('/healthz', (_req, res) => {
  res.json({ status: 'ok' });
});
app.post(
  '/webhooks/clerk',
  express.raw({ type: () => true, limit: 1024 * 1024, inflate: false }),
  async (req, res, next) => {
    try {
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const signatures = HOOKDECK_SIGNATURE_HEADERS.map((name) => req.get(name));
      if (verifyHookdeckSignature(body, signatures, secret) !== 'valid') {
        res.status(401).json({ error: 'invalid signature' });
        return;
      }

      const event = JSON.parse(body.toString('utf8')) as { type?: string; data?: { id?: unknown } };
      const userId = event.data?.id;
      if (event.type !== 'user.created' || typeof userId !== 'string' || !USER_ID.test(userId)) {
        res.status(400).json({ error: 'not a user.created event with a valid user id' });
        return;
      }

      const existing = await listDatabases();
      if (existing.has(`${REGION}/${userId}.sqlite`)) {
        res.status(200).json({ status: 'exists' });
        return;
      }
      await fs.mkdir(path.join(databasesDir, REGION), { recursive: true });
      createDatabase(path.join(databasesDir, REGION, `${userId}.sqlite`));
      res.status(201).json({ status: 'created' });
    } catch (error) {
      next(error);
    }
  },
);

app.listen(port, '127.0.0.1');

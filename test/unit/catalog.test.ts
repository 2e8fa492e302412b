// The tenant catalog's contract, run against the SQLite file and the Postgres tables alike.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import type { TenantCatalog } from '../../src/catalog/catalog';
import { openPostgresCatalog } from '../../src/catalog/postgres-catalog';
import { openSqliteCatalog } from '../../src/catalog/sqlite-catalog';
import { postgresTestServer, uniqueUserId } from '../helpers/postgres';

interface Subject {
  name: string;
  open(): TenantCatalog;
  cleanUp(): void;
}

const sqliteDir = fs.mkdtempSync(path.join(os.tmpdir(), 'per-user-db-catalog-'));
const sqlite: Subject = {
  name: 'sqlite',
  open: () => openSqliteCatalog(path.join(sqliteDir, 'catalog.sqlite')),
  cleanUp: () => fs.rmSync(sqliteDir, { recursive: true, force: true }),
};

const server = postgresTestServer();

function catalogSuite(subject: Subject) {
  describe(`${subject.name} catalog`, () => {
    let catalog: TenantCatalog;

    before(() => {
      catalog = subject.open();
    });

    after(async () => {
      await catalog.close();
      subject.cleanUp();
    });

    test('unknown tenant is undefined', async () => {
      assert.equal(await catalog.get(uniqueUserId('catalog')), undefined);
    });

    test('events move the status', async () => {
      const user = uniqueUserId('catalog');
      await catalog.record(user, 'provisioning-started', { at: '2026-01-01T00:00:00.000Z' });
      assert.equal((await catalog.get(user))?.status, 'provisioning');

      const facts = { region: 'eu-west-1', regionSource: 'ip-country', provider: 'sqlite' };
      await catalog.record(user, 'provisioned', { ...facts, at: '2026-01-01T00:00:01.000Z' });
      const ready = await catalog.get(user);
      assert.equal(ready?.status, 'ready');
      assert.equal(ready?.region, 'eu-west-1');
      assert.equal(ready?.regionSource, 'ip-country');
      assert.equal(ready?.provider, 'sqlite');
      assert.equal(ready?.createdAt, '2026-01-01T00:00:00.000Z');
      assert.equal(ready?.provisionedAt, '2026-01-01T00:00:01.000Z');

      await catalog.record(user, 'deletion-requested', { at: '2026-01-02T00:00:00.000Z' });
      await catalog.record(user, 'deleted', { at: '2026-01-05T00:00:00.000Z' });
      const deleted = await catalog.get(user);
      assert.equal(deleted?.status, 'deleted');
      assert.equal(deleted?.region, 'eu-west-1');
      assert.equal(deleted?.deletionRequestedAt, '2026-01-02T00:00:00.000Z');
      assert.equal(deleted?.deletedAt, '2026-01-05T00:00:00.000Z');
    });

    test('history keeps one row per event', async () => {
      const user = uniqueUserId('catalog');
      await catalog.record(user, 'provisioning-started');
      await catalog.record(user, 'provisioned');
      await catalog.record(user, 'deletion-requested');
      await catalog.record(user, 'restored');

      const events = (await catalog.history(user)).map((entry) => entry.event);
      assert.deepEqual(events, ['provisioning-started', 'provisioned', 'deletion-requested', 'restored']);
      assert.equal((await catalog.get(user))?.status, 'ready');
    });

    test('reconcile overwrites status without an event', async () => {
      const user = uniqueUserId('catalog');
      await catalog.record(user, 'provisioning-started');
      await catalog.reconcile(user, 'ready', { region: 'us-east-1' });

      assert.equal((await catalog.get(user))?.status, 'ready');
      assert.equal((await catalog.get(user))?.region, 'us-east-1');
      assert.equal((await catalog.history(user)).length, 1);
    });

    test('concurrent events all recorded', async () => {
      const user = uniqueUserId('catalog');
      await Promise.all(Array.from({ length: 10 }, () => catalog.record(user, 'provisioning-started')));
      assert.equal((await catalog.history(user)).length, 10);
    });

    test('survives reopening', async () => {
      const user = uniqueUserId('catalog');
      await catalog.record(user, 'deleted');
      await catalog.close();
      catalog = subject.open();

      assert.equal((await catalog.get(user))?.status, 'deleted');
    });
  });
}

catalogSuite(sqlite);

if ('url' in server) {
  const { url } = server;
  catalogSuite({ name: 'postgres', open: () => openPostgresCatalog(url), cleanUp: () => undefined });
} else {
  describe('postgres catalog', () => {
    if (server.mustFail) test('server configured', () => assert.fail(server.missing));
    else test('server configured', { skip: server.missing }, () => undefined);
  });
}

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';

import type { TenantCatalog } from '../../src/catalog/catalog';
import { openSqliteCatalog } from '../../src/catalog/sqlite-catalog';

const USER = 'user_2pQfCatalogExample00000001';

let dir: string;
let catalog: TenantCatalog;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'per-user-db-catalog-'));
  catalog = openSqliteCatalog(path.join(dir, 'catalog.sqlite'));
});

afterEach(async () => {
  await catalog.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('sqlite catalog', () => {
  test('unknown tenant is undefined', async () => {
    assert.equal(await catalog.get(USER), undefined);
  });

  test('events move the status', async () => {
    await catalog.record(USER, 'provisioning-started', { at: '2026-01-01T00:00:00.000Z' });
    assert.equal((await catalog.get(USER))?.status, 'provisioning');

    await catalog.record(USER, 'provisioned', {
      region: 'eu-west-1',
      regionSource: 'ip-country',
      provider: 'sqlite',
      at: '2026-01-01T00:00:01.000Z',
    });
    const ready = await catalog.get(USER);
    assert.equal(ready?.status, 'ready');
    assert.equal(ready?.region, 'eu-west-1');
    assert.equal(ready?.regionSource, 'ip-country');
    assert.equal(ready?.provider, 'sqlite');
    assert.equal(ready?.createdAt, '2026-01-01T00:00:00.000Z');
    assert.equal(ready?.provisionedAt, '2026-01-01T00:00:01.000Z');

    await catalog.record(USER, 'deletion-requested', { at: '2026-01-02T00:00:00.000Z' });
    await catalog.record(USER, 'deleted', { at: '2026-01-05T00:00:00.000Z' });
    const deleted = await catalog.get(USER);
    assert.equal(deleted?.status, 'deleted');
    assert.equal(deleted?.region, 'eu-west-1');
    assert.equal(deleted?.deletionRequestedAt, '2026-01-02T00:00:00.000Z');
    assert.equal(deleted?.deletedAt, '2026-01-05T00:00:00.000Z');
  });

  test('history keeps one row per event', async () => {
    await catalog.record(USER, 'provisioning-started');
    await catalog.record(USER, 'provisioned');
    await catalog.record(USER, 'deletion-requested');
    await catalog.record(USER, 'restored');

    const events = (await catalog.history(USER)).map((entry) => entry.event);
    assert.deepEqual(events, ['provisioning-started', 'provisioned', 'deletion-requested', 'restored']);
    assert.equal((await catalog.get(USER))?.status, 'ready');
  });

  test('reconcile overwrites status without an event', async () => {
    await catalog.record(USER, 'provisioning-started');
    await catalog.reconcile(USER, 'ready', { region: 'us-east-1' });

    assert.equal((await catalog.get(USER))?.status, 'ready');
    assert.equal((await catalog.get(USER))?.region, 'us-east-1');
    assert.equal((await catalog.history(USER)).length, 1);
  });

  test('survives reopening', async () => {
    await catalog.record(USER, 'deleted');
    await catalog.close();
    catalog = openSqliteCatalog(path.join(dir, 'catalog.sqlite'));

    assert.equal((await catalog.get(USER))?.status, 'deleted');
  });
});

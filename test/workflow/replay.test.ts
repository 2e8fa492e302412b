// Replays a history recorded from a real run against the current workflow code, so a change that would
// break running workflows (a non-deterministic edit) fails here before it reaches a deployment.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

// protobufjs 8 is a direct dependency so that npm installs one copy for @temporalio/common and
// @temporalio/proto; with two copies, historyFromJSON fails with "type must be a Type".
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';

Runtime.install({
  logger: new DefaultLogger('WARN'),
  telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
});

const HISTORIES_DIR = path.resolve(__dirname, '../fixtures/histories');

for (const file of fs.readdirSync(HISTORIES_DIR).filter((name) => name.endsWith('.json'))) {
  test(`replay ${file}`, async () => {
    const history = historyFromJSON(JSON.parse(fs.readFileSync(path.join(HISTORIES_DIR, file), 'utf8')));
    assert.ok((history.events?.length ?? 0) > 10, 'the recorded history should contain a whole run');

    // runReplayHistory throws DeterminismViolationError when the code no longer matches the history.
    await Worker.runReplayHistory(
      { workflowsPath: require.resolve('../../src/workflows') },
      history,
      path.basename(file, '.json'),
    );
  });
}

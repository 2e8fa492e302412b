import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { decodeSvixSecret, signSvix, SVIX_TOLERANCE_SECONDS, verifySvixSignature } from '../../src/api/svix-signature';

// The Standard Webhooks test vector that Svix publishes.
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: '1614265330',
  body: Buffer.from('{"test": 2432232314}'),
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
const NOW = Number(VECTOR.timestamp);
const KEY = decodeSvixSecret(VECTOR.secret);
const OTHER_KEY = decodeSvixSecret('whsec_' + Buffer.alloc(24, 7).toString('base64'));

function headers(signature: string, timestamp = VECTOR.timestamp, id = VECTOR.id) {
  return { id, timestamp, signature };
}

describe('signSvix', () => {
  test('matches the published vector', () => {
    assert.equal(signSvix(KEY, VECTOR.id, VECTOR.timestamp, VECTOR.body), VECTOR.signature);
  });
});

describe('verifySvixSignature', () => {
  test('vector is valid', () => {
    assert.equal(verifySvixSignature(VECTOR.body, headers(VECTOR.signature), [KEY], NOW), 'valid');
  });

  test('several entries, one matching', () => {
    const signature = `v1,bm90IGl0 v1a,ignored ${VECTOR.signature}`;
    assert.equal(verifySvixSignature(VECTOR.body, headers(signature), [KEY], NOW), 'valid');
  });

  test('second accepted secret matches', () => {
    assert.equal(verifySvixSignature(VECTOR.body, headers(VECTOR.signature), [OTHER_KEY, KEY], NOW), 'valid');
  });

  test('unknown secret is invalid', () => {
    assert.equal(verifySvixSignature(VECTOR.body, headers(VECTOR.signature), [OTHER_KEY], NOW), 'invalid');
  });

  test('other versions are skipped', () => {
    const v2 = VECTOR.signature.replace('v1,', 'v2,');
    assert.equal(verifySvixSignature(VECTOR.body, headers(v2), [KEY], NOW), 'invalid');
  });

  test('tampered body is invalid', () => {
    const body = Buffer.from('{"test": 2432232315}');
    assert.equal(verifySvixSignature(body, headers(VECTOR.signature), [KEY], NOW), 'invalid');
  });

  test('changed id is invalid', () => {
    const changed = headers(VECTOR.signature, VECTOR.timestamp, 'msg_other');
    assert.equal(verifySvixSignature(VECTOR.body, changed, [KEY], NOW), 'invalid');
  });

  const missingCases = [
    { name: 'id', value: { timestamp: VECTOR.timestamp, signature: VECTOR.signature } },
    { name: 'timestamp', value: { id: VECTOR.id, signature: VECTOR.signature } },
    { name: 'signature', value: { id: VECTOR.id, timestamp: VECTOR.timestamp } },
    { name: 'empty signature', value: headers('') },
  ];
  for (const { name, value } of missingCases) {
    test(`missing ${name}`, () => {
      assert.equal(verifySvixSignature(VECTOR.body, value, [KEY], NOW), 'missing');
    });
  }

  for (const timestamp of ['-1', '1614265330.5', 'abc', '1e9', ' 1614265330']) {
    test(`timestamp ${JSON.stringify(timestamp)} is invalid`, () => {
      assert.equal(
        verifySvixSignature(VECTOR.body, headers(VECTOR.signature, timestamp), [KEY], NOW),
        'timestamp-invalid',
      );
    });
  }

  test('edge of tolerance is accepted', () => {
    const late = NOW + SVIX_TOLERANCE_SECONDS;
    const early = NOW - SVIX_TOLERANCE_SECONDS;
    assert.equal(verifySvixSignature(VECTOR.body, headers(VECTOR.signature), [KEY], late), 'valid');
    assert.equal(verifySvixSignature(VECTOR.body, headers(VECTOR.signature), [KEY], early), 'valid');
  });

  test('outside tolerance is rejected', () => {
    const late = NOW + SVIX_TOLERANCE_SECONDS + 1;
    const early = NOW - SVIX_TOLERANCE_SECONDS - 1;
    assert.equal(
      verifySvixSignature(VECTOR.body, headers(VECTOR.signature), [KEY], late),
      'timestamp-outside-tolerance',
    );
    assert.equal(
      verifySvixSignature(VECTOR.body, headers(VECTOR.signature), [KEY], early),
      'timestamp-outside-tolerance',
    );
  });
});

describe('decodeSvixSecret', () => {
  test('prefix is optional', () => {
    assert.deepEqual(decodeSvixSecret('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'), KEY);
  });

  for (const secret of ['whsec_', 'whsec_not base64!', 'whsec_c2hvcnQ=']) {
    test(`rejects ${JSON.stringify(secret)}`, () => {
      assert.throws(() => decodeSvixSecret(secret));
    });
  }
});

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

import { verifyWebhookSignature } from '@hookdeck/sdk/webhooks';

import { signHookdeck, verifyHookdeckSignature, type SignatureVerdict } from '../../src/api/signature';

// The test vector that Hookdeck documents for its destination signatures.
const VECTOR_SECRET = '5fthvdmj8gtkzdv93mwkdpbupgwgfu4fu8xf4rro2oufn6qlhc';
const VECTOR_BODY = '{"key1":"value1", "key2":"value2"}';
const VECTOR_SIGNATURE = 'kKb0yljhY9tBo7oihOMTvRayKCUpCNVujkoTMNoGdGM=';

const SECRET = 'unit-test-signing-secret';
const OTHER_SECRET = 'another-signing-secret';

const FIXTURES = path.resolve(__dirname, '../../../shared/fixtures/clerk');
const EU_BODY = readFileSync(path.join(FIXTURES, 'user-created-eu.json'));

function verify(body: Buffer, signatures: Array<string | undefined>, secret = SECRET): SignatureVerdict {
  return verifyHookdeckSignature(body, signatures, secret);
}

describe('signHookdeck', () => {
  test('test vector', () => {
    assert.equal(signHookdeck(VECTOR_BODY, VECTOR_SECRET), VECTOR_SIGNATURE);
  });

  test('buffer and string agree', () => {
    assert.equal(signHookdeck(Buffer.from(VECTOR_BODY, 'utf8'), VECTOR_SECRET), VECTOR_SIGNATURE);
  });

  test('base64 of HMAC-SHA256', () => {
    const expected = createHmac('sha256', SECRET).update(EU_BODY).digest('base64');
    assert.equal(signHookdeck(EU_BODY, SECRET), expected);
  });
});

describe('verifyHookdeckSignature', () => {
  test('test vector valid', () => {
    assert.equal(verify(Buffer.from(VECTOR_BODY), [VECTOR_SIGNATURE], VECTOR_SECRET), 'valid');
  });

  test('fixture body valid', () => {
    assert.equal(verify(EU_BODY, [signHookdeck(EU_BODY, SECRET)]), 'valid');
  });

  test('rotation: only second header valid', () => {
    assert.equal(verify(EU_BODY, [undefined, signHookdeck(EU_BODY, SECRET)]), 'valid');
  });

  test('rotation: first empty, second valid', () => {
    assert.equal(verify(EU_BODY, ['', signHookdeck(EU_BODY, SECRET)]), 'valid');
  });

  test('rotation: first wrong, second valid', () => {
    assert.equal(verify(EU_BODY, [signHookdeck(EU_BODY, OTHER_SECRET), signHookdeck(EU_BODY, SECRET)]), 'valid');
  });

  test('rotation: first valid, second garbage', () => {
    assert.equal(verify(EU_BODY, [signHookdeck(EU_BODY, SECRET), 'garbage!!']), 'valid');
  });

  test('rotation: both headers wrong', () => {
    assert.equal(verify(EU_BODY, [signHookdeck(EU_BODY, OTHER_SECRET), 'garbage!!']), 'invalid');
  });

  test('tampered body: each byte position', () => {
    const signature = signHookdeck(EU_BODY, SECRET);
    for (const index of [0, 1, Math.floor(EU_BODY.length / 2), EU_BODY.length - 1]) {
      const tampered = Buffer.from(EU_BODY);
      tampered[index] = tampered[index]! ^ 0x01;
      assert.equal(verify(tampered, [signature]), 'invalid', `byte ${index} flipped`);
    }
  });

  test('extra trailing byte', () => {
    const signature = signHookdeck(EU_BODY, SECRET);
    assert.equal(verify(Buffer.concat([EU_BODY, Buffer.from(' ')]), [signature]), 'invalid');
  });

  test('missing headers', () => {
    assert.equal(verify(EU_BODY, [undefined, undefined]), 'missing');
  });

  test('no headers at all', () => {
    assert.equal(verify(EU_BODY, []), 'missing');
  });

  test('empty headers', () => {
    assert.equal(verify(EU_BODY, ['', '']), 'missing');
  });

  test('wrong secret', () => {
    assert.equal(verify(EU_BODY, [signHookdeck(EU_BODY, OTHER_SECRET)]), 'invalid');
  });

  test('secret differing in case', () => {
    assert.equal(verify(EU_BODY, [signHookdeck(EU_BODY, SECRET.toUpperCase())]), 'invalid');
  });

  test('surrounding white space is trimmed', () => {
    assert.equal(verify(EU_BODY, [` ${signHookdeck(EU_BODY, SECRET)}\t`]), 'valid');
  });

  const lengthCases: Array<{ name: string; signature: (valid: string) => string }> = [
    { name: 'one character short', signature: (valid) => valid.slice(0, -1) },
    { name: 'one character long', signature: (valid) => `${valid}A` },
    { name: 'padding removed', signature: (valid) => valid.replace(/=+$/, '') },
    { name: 'hex digest', signature: () => createHmac('sha256', SECRET).update(EU_BODY).digest('hex') },
    { name: 'single character', signature: () => 'x' },
    { name: 'doubled', signature: (valid) => valid + valid },
  ];
  for (const { name, signature } of lengthCases) {
    test(`wrong length: ${name}`, () => {
      const candidate = signature(signHookdeck(EU_BODY, SECRET));
      assert.notEqual(candidate.length, 44);
      assert.equal(verify(EU_BODY, [candidate]), 'invalid');
    });
  }

  test('non-UTF-8 body valid', () => {
    const body = Buffer.from([0x7b, 0xff, 0xfe, 0x80, 0xc3, 0x28, 0x7d]);
    assert.equal(verify(body, [signHookdeck(body, SECRET)]), 'valid');
  });

  test('non-UTF-8 body: decoded text is another message', () => {
    const body = Buffer.from([0x7b, 0xff, 0xfe, 0x80, 0xc3, 0x28, 0x7d]);
    const decoded = Buffer.from(body.toString('utf8'), 'utf8');
    assert.equal(verify(body, [signHookdeck(decoded, SECRET)]), 'invalid');
  });
});

interface Vector {
  name: string;
  body: Buffer;
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

const VECTORS: Vector[] = [
  { name: 'documented vector body', body: Buffer.from(VECTOR_BODY) },
  { name: 'empty body', body: Buffer.alloc(0) },
  { name: 'fixture user.created', body: EU_BODY },
  { name: 'unicode text', body: Buffer.from('{"name":"Zoë Ångström 名前 😀","city":"Kraków"}') },
  { name: 'escaped unicode', body: Buffer.from('{"name":"Zo\\u00eb \\ud83d\\ude00"}') },
  { name: 'BOM prefix', body: Buffer.concat([BOM, Buffer.from('{"type":"user.created"}')]) },
  { name: 'big integers', body: Buffer.from('{"id":123456789012345678901234567890,"n":-9007199254740993}') },
  { name: 'spaces around tokens', body: Buffer.from('{ "a" : 1 , "b" : [ 1 , 2 ] }') },
  { name: 'CRLF line endings', body: Buffer.from('{\r\n  "a": 1,\r\n  "b": 2\r\n}\r\n') },
  { name: 'tabs and trailing newline', body: Buffer.from('{\n\t"a":\t1\n}\n') },
  { name: 'only white space', body: Buffer.from(' \n\t ') },
  { name: '100 KiB body', body: Buffer.from(`{"pad":"${'a'.repeat(100 * 1024)}"}`) },
];

describe('agreement with @hookdeck/sdk', () => {
  async function sdkVerdict(vector: Vector, headers: Record<string, string>): Promise<boolean> {
    const result = await verifyWebhookSignature({
      headers,
      rawBody: vector.body.toString('utf8'),
      signingSecret: SECRET,
    });
    return result.isValidSignature;
  }

  function ourVerdict(vector: Vector, headers: Record<string, string>): boolean {
    const signatures = [headers['x-hookdeck-signature'], headers['x-hookdeck-signature-2']];
    return verifyHookdeckSignature(vector.body, signatures, SECRET) === 'valid';
  }

  for (const vector of VECTORS) {
    test(`vector: ${vector.name}`, async () => {
      const valid = signHookdeck(vector.body, SECRET);
      const tampered = Buffer.concat([vector.body, Buffer.from('x')]);
      const cases: Array<{ name: string; headers: Record<string, string>; expected: boolean }> = [
        { name: 'valid', headers: { 'x-hookdeck-signature': valid }, expected: true },
        {
          name: 'wrong secret',
          headers: { 'x-hookdeck-signature': signHookdeck(vector.body, OTHER_SECRET) },
          expected: false,
        },
        {
          name: 'signed other body',
          headers: { 'x-hookdeck-signature': signHookdeck(tampered, SECRET) },
          expected: false,
        },
        {
          name: 'valid in second header',
          headers: { 'x-hookdeck-signature': 'garbage', 'x-hookdeck-signature-2': valid },
          expected: true,
        },
        {
          name: 'both headers wrong',
          headers: { 'x-hookdeck-signature': 'garbage', 'x-hookdeck-signature-2': valid.slice(1) },
          expected: false,
        },
      ];

      for (const { name, headers, expected } of cases) {
        assert.equal(ourVerdict(vector, headers), expected, `ours, ${name}`);
        assert.equal(await sdkVerdict(vector, headers), expected, `sdk, ${name}`);
      }
    });
  }
});

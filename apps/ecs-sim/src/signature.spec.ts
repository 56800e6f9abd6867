import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import Ecs, * as $Ecs from '@alicloud/ecs20140526';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { parseQuery } from './sim';
import {
  authorizationHeader,
  parseAuthorization,
  verifyRequest,
  type SignableRequest,
} from './signature';

const KEY_ID = 'LTAI-golden-key';
const SECRET = 'golden-secret-0123456789';

/** The reference algorithm, written out once more by hand so the module is checked against it. */
function referenceAuthorization(req: SignableRequest, keyId: string, secret: string): string {
  const enc = (s: string): string =>
    encodeURIComponent(s)
      .replace(/!/g, '%21')
      .replace(/'/g, '%27')
      .replace(/\(/g, '%28')
      .replace(/\)/g, '%29')
      .replace(/\*/g, '%2A');
  const query = Object.keys(req.query)
    .sort()
    .map((k) => `${enc(k)}=${enc(req.query[k]!)}`)
    .join('&');
  const lower = Object.fromEntries(
    Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), String(v).trim()]),
  );
  const names = Object.keys(lower)
    .filter((h) => h === 'host' || h === 'content-type' || h.startsWith('x-acs-'))
    .sort();
  const canonical = [
    req.method,
    req.pathname,
    query,
    names.map((h) => `${h}:${lower[h]}\n`).join(''),
    names.join(';'),
    createHash('sha256')
      .update(req.body ?? '')
      .digest('hex'),
  ].join('\n');
  const toSign = `ACS3-HMAC-SHA256\n${createHash('sha256').update(canonical).digest('hex')}`;
  const sig = createHmac('sha256', secret).update(toSign).digest('hex');
  return `ACS3-HMAC-SHA256 Credential=${keyId},SignedHeaders=${names.join(';')},Signature=${sig}`;
}

const golden: SignableRequest = {
  method: 'POST',
  pathname: '/',
  query: {
    RegionId: 'cn-hongkong',
    InstanceIds: '["i-j6a","i-j6b"]',
    'Tag.1.Key': 'snowline:project',
    'Tag.1.Value': "a b*(c)!'~",
    MaxResults: '100',
  },
  headers: {
    host: '127.0.0.1:3100',
    'x-acs-action': 'DescribeInstances',
    'x-acs-version': '2014-05-26',
    'x-acs-date': '2025-01-01T00:00:00Z',
    'x-acs-signature-nonce': '3f1a8c52-0000-4000-8000-000000000001',
    'x-acs-content-sha256': createHash('sha256').update('').digest('hex'),
    accept: 'application/json',
    'user-agent': 'not-signed',
  },
  body: '',
};

describe('ACS3-HMAC-SHA256 signature', () => {
  it('should produce exactly the golden Authorization header', () => {
    const expected = referenceAuthorization(golden, KEY_ID, SECRET);
    // Pinned (and cross-checked once with Python's hashlib/hmac) so module and reference cannot drift together.
    expect(expected).toBe(
      'ACS3-HMAC-SHA256 Credential=LTAI-golden-key,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=43fd05048a50acd8d779ba185a96b4483fc3488db32e5d440e1cd338d33d97db',
    );
    expect(authorizationHeader(KEY_ID, SECRET, golden)).toBe(expected);
  });

  it('should accept the golden request and reject a tampered one', () => {
    const secrets = new Map([[KEY_ID, SECRET]]);
    const signed = {
      ...golden,
      headers: { ...golden.headers, authorization: authorizationHeader(KEY_ID, SECRET, golden) },
    };
    expect(verifyRequest(signed, secrets)).toEqual({ ok: true, accessKeyId: KEY_ID });
    const tampered = { ...signed, query: { ...signed.query, MaxResults: '10' } };
    expect(verifyRequest(tampered, secrets)).toMatchObject({
      ok: false,
      status: 400,
      code: 'SignatureDoesNotMatch',
    });
    const wrongSecret = new Map([[KEY_ID, 'other']]);
    expect(verifyRequest(signed, wrongSecret)).toMatchObject({
      ok: false,
      status: 400,
      code: 'SignatureDoesNotMatch',
    });
    expect(verifyRequest(signed, new Map())).toMatchObject({
      ok: false,
      status: 404,
      code: 'InvalidAccessKeyId.NotFound',
    });
    const unsigned = { ...golden };
    expect(verifyRequest(unsigned, secrets)).toMatchObject({
      ok: false,
      code: 'IncompleteSignature',
    });
  });

  it('should reject a request whose signed headers leave out the action', () => {
    const names = ['host', 'x-acs-version'];
    const auth = authorizationHeader(KEY_ID, SECRET, golden, names);
    expect(parseAuthorization(auth)?.signedHeaders).toEqual(names);
    const req = { ...golden, headers: { ...golden.headers, authorization: auth } };
    expect(verifyRequest(req, new Map([[KEY_ID, SECRET]]))).toMatchObject({
      ok: false,
      code: 'IncompleteSignature',
    });
  });

  it('should compute the same header as the real Alibaba Cloud SDK', async () => {
    const captured: { method: string; url: string; headers: IncomingHttpHeaders }[] = [];
    const server = createServer((req, res) => {
      captured.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ RequestId: 'capture', Instances: { Instance: [] }, NextToken: '' }),
        );
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      const client = new Ecs(
        new $OpenApiUtil.Config({
          accessKeyId: KEY_ID,
          accessKeySecret: SECRET,
          regionId: 'cn-hongkong',
          endpoint: `127.0.0.1:${port}`,
          protocol: 'http',
        }),
      );
      await client.describeInstances(
        new $Ecs.DescribeInstancesRequest({
          regionId: 'cn-hongkong',
          instanceIds: JSON.stringify(['i-j6a', 'i-j6b']),
          maxResults: 100,
          tag: [
            new $Ecs.DescribeInstancesRequestTag({
              key: 'snowline:project',
              value: "a b*(c)!'~+/=",
            }),
          ],
        }),
      );
      expect(captured).toHaveLength(1);
      const c = captured[0]!;
      expect(c.method).toBe('POST');
      const q = c.url.indexOf('?');
      const req: SignableRequest = {
        method: c.method,
        pathname: c.url.slice(0, q),
        query: parseQuery(c.url.slice(q + 1)),
        headers: Object.fromEntries(
          Object.entries(c.headers).filter(([k]) => k !== 'authorization'),
        ),
        body: '',
      };
      expect(req.query['Tag.1.Value']).toBe("a b*(c)!'~+/=");
      const sdkHeader = String(c.headers.authorization);
      expect(authorizationHeader(KEY_ID, SECRET, req)).toBe(sdkHeader);
      expect(referenceAuthorization(req, KEY_ID, SECRET)).toBe(sdkHeader);
      expect(verifyRequest({ ...req, headers: c.headers }, new Map([[KEY_ID, SECRET]]))).toEqual({
        ok: true,
        accessKeyId: KEY_ID,
      });
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

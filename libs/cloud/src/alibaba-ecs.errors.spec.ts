import { mapEcsError, redact } from './alibaba-ecs.errors';
import { InvalidConfig, NoCapacity, QuotaExceeded, Throttled, Transient } from './errors';

describe(mapEcsError.name, () => {
  const sdk = (statusCode: number, code: string, extra: object = {}) => ({
    name: 'ClientError',
    statusCode,
    code,
    requestId: 'REQ-1',
    data: { Message: `message for ${code}`, Code: code },
    ...extra,
  });

  it.each([
    [sdk(403, 'OperationDenied.NoStock'), NoCapacity],
    [sdk(403, 'QuotaExceed.ElasticQuota'), QuotaExceeded],
    [sdk(502, 'BadGateway'), Transient],
    [sdk(400, 'InvalidParameter'), InvalidConfig],
    [{ name: 'Error', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }, Transient],
    [
      { name: 'RequestTimeoutError', message: 'ReadTimeout(3000). POST http://x failed.' },
      Transient,
    ],
    [{ name: 'SyntaxError', message: "Unexpected token '<'" }, Transient],
  ])('should map %j', (err, cls) => {
    expect(mapEcsError(err, 'RunInstances')).toBeInstanceOf(cls);
  });

  it('should read retryAfter into Throttled and keep the request id', () => {
    const mapped = mapEcsError(
      sdk(429, 'Throttling.Resource', { retryAfter: 2500 }),
      'DescribeInstances',
    );
    expect(mapped).toBeInstanceOf(Throttled);
    expect(mapped).toMatchObject({
      retryAfterMs: 2500,
      requestId: 'REQ-1',
      code: 'Throttling.Resource',
    });
  });

  it('should leave errors that are not from the cloud alone', () => {
    const bug = new TypeError('x is undefined');
    expect(mapEcsError(bug, 'RunInstances')).toBe(bug);
  });

  it('should never put a credential into a message', () => {
    const err = sdk(400, 'SignatureDoesNotMatch', {
      data: { Message: 'string to sign used key LTAIsecretKEY and s3cr3t-value' },
    });
    const mapped = mapEcsError(err, 'DescribeZones', ['s3cr3t-value', 'LTAIsecretKEY']) as Error;
    expect(mapped).toBeInstanceOf(InvalidConfig);
    expect(mapped.message).not.toMatch(/s3cr3t-value|LTAIsecretKEY/);
    expect(redact('a-b-c', ['b'])).toBe('a-b-c'); // too short to be a credential
  });
});

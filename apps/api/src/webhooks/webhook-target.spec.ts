import { createServer, type Server } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import {
  assertPublicTarget,
  guardedLookup,
  isPrivateAddress,
  postWebhook,
  type Resolver,
} from './webhook-target';

/** One address inside each range a webhook must not reach, and public neighbours that it may. */
const PRIVATE: [string, string][] = [
  ['0.0.0.0/8 "this network"', '0.0.0.0'],
  ['0.0.0.0/8 "this network"', '0.255.1.2'],
  ['10/8', '10.1.2.3'],
  ['100.64/10 CGNAT', '100.64.0.1'],
  ['100.64/10 CGNAT (Alibaba metadata)', '100.100.100.200'],
  ['100.64/10 CGNAT', '100.127.255.255'],
  ['127/8 loopback', '127.0.0.1'],
  ['127/8 loopback', '127.255.255.254'],
  ['169.254/16 link-local (metadata)', '169.254.169.254'],
  ['172.16/12', '172.16.0.1'],
  ['172.16/12', '172.31.255.255'],
  ['192.0.0/24 IETF', '192.0.0.8'],
  ['192.0.2/24 TEST-NET-1', '192.0.2.1'],
  ['192.88.99/24 6to4 relay', '192.88.99.1'],
  ['192.168/16', '192.168.1.1'],
  ['198.18/15 benchmarking', '198.18.0.1'],
  ['198.18/15 benchmarking', '198.19.255.255'],
  ['198.51.100/24 TEST-NET-2', '198.51.100.7'],
  ['203.0.113/24 TEST-NET-3', '203.0.113.7'],
  ['224/4 multicast', '224.0.0.1'],
  ['224/4 multicast', '239.255.255.250'],
  ['240/4 reserved', '240.0.0.1'],
  ['broadcast', '255.255.255.255'],
  ['::1 loopback', '::1'],
  [':: unspecified', '::'],
  ['fc00::/7 unique local', 'fc00::1'],
  ['fc00::/7 unique local', 'fd12:3456::1'],
  ['fe80::/10 link-local', 'fe80::1'],
  ['fe80::/10 link-local', 'febf::1'],
  ['fe80::/10 link-local, zoned', 'fe80::1%eth0'],
  ['fec0::/10 site-local', 'fec0::1'],
  ['fec0::/10 site-local', 'feff::1'],
  ['ff00::/8 multicast', 'ff02::1'],
  ['ff00::/8 multicast', 'ff0e::1'],
  ['2001:db8::/32 documentation', '2001:db8::1'],
  ['100::/64 discard', '100::1'],
  ['2001::/32 Teredo', '2001:0:4136:e378:8000:63bf:3fff:fdd2'],
  ['64:ff9b:1::/48 local NAT64', '64:ff9b:1::808:808'],
  ['IPv4-mapped loopback', '::ffff:127.0.0.1'],
  ['IPv4-mapped loopback, hex', '::ffff:7f00:1'],
  ['IPv4-mapped private', '::ffff:10.0.0.1'],
  ['IPv4-mapped metadata', '::ffff:169.254.169.254'],
  ['IPv4-mapped, spelled out', '0:0:0:0:0:ffff:c0a8:0101'],
  ['SIIT ::ffff:0:a.b.c.d', '::ffff:0:10.0.0.1'],
  ['IPv4-compatible loopback', '::127.0.0.1'],
  ['IPv4-compatible private, hex', '::a00:1'],
  ['IPv4-compatible CGNAT', '::100.100.100.200'],
  ['NAT64 of loopback', '64:ff9b::127.0.0.1'],
  ['NAT64 of metadata, hex', '64:ff9b::a9fe:a9fe'],
  ['NAT64 of private', '64:ff9b::10.0.0.1'],
  ['6to4 of loopback', '2002:7f00:1::1'],
  ['6to4 of private', '2002:0a00:0001::'],
  ['6to4 of metadata', '2002:a9fe:a9fe:1::1'],
  ['not an address', 'not-an-ip'],
  ['not an address', '127.1'],
];
const PUBLIC: [string, string][] = [
  ['public IPv4', '8.8.8.8'],
  ['just past 172.16/12', '172.32.0.1'],
  ['just past 100.64/10', '100.128.0.1'],
  ['just before 100.64/10', '100.63.255.255'],
  ['just past 198.18/15', '198.20.0.1'],
  ['just past 192.88.99/24', '192.88.100.1'],
  ['just before 224/4', '223.255.255.255'],
  ['public IPv6', '2606:4700:4700::1111'],
  ['public IPv6, spelled out', '2001:4860:4860:0:0:0:0:8888'],
  ['IPv4-mapped public', '::ffff:8.8.8.8'],
  ['IPv4-compatible public', '::8.8.8.8'],
  ['NAT64 of public', '64:ff9b::8.8.8.8'],
  ['NAT64 of public, hex', '64:ff9b::808:808'],
  ['6to4 of public', '2002:808:808::1'],
  ['just before fc00::/7', 'fbff::1'],
];

describe(isPrivateAddress.name, () => {
  it.each(PRIVATE)('should refuse %s: %s', (_range, ip) => {
    expect(isPrivateAddress(ip)).toBe(true);
  });
  it.each(PUBLIC)('should allow %s: %s', (_range, ip) => {
    expect(isPrivateAddress(ip)).toBe(false);
  });
});

/** A resolver that answers every name with the given address (DNS is faked; the guard is not). */
const resolvesTo =
  (address: string): Resolver =>
  (_host, cb) =>
    cb(null, [{ address, family: isIP(address) }]);

describe('DNS names resolving to a private address', () => {
  it.each(PRIVATE.filter(([, ip]) => isIP(ip) !== 0 && !ip.includes('%')))(
    'should refuse at create a name resolving into %s (%s)',
    async (_range, ip) => {
      await expect(
        assertPublicTarget('https://hook.example.test/x', false, resolvesTo(ip)),
      ).rejects.toThrow(/loopback, private, link-local or reserved/);
    },
  );

  it.each(PRIVATE.filter(([, ip]) => isIP(ip) !== 0 && !ip.includes('%')))(
    'should refuse at delivery time a name that now resolves into %s (%s)',
    async (_range, ip) => {
      const lookup = guardedLookup(false, resolvesTo(ip));
      const err = await new Promise<NodeJS.ErrnoException | null>((r) =>
        lookup('hook.example.test', {}, (e) => r(e)),
      );
      expect(err?.code).toBe('EPRIVATETARGET');
    },
  );

  it('should refuse a name when any one of its addresses is private', async () => {
    const mixed: Resolver = (_h, cb) =>
      cb(null, [
        { address: '8.8.8.8', family: 4 },
        { address: '::ffff:127.0.0.1', family: 6 },
      ]);
    await expect(assertPublicTarget('https://hook.example.test/', false, mixed)).rejects.toThrow(
      /::ffff:127\.0\.0\.1/,
    );
    const err = await new Promise<NodeJS.ErrnoException | null>((r) =>
      guardedLookup(false, mixed)('hook.example.test', { all: true }, (e) => r(e)),
    );
    expect(err?.code).toBe('EPRIVATETARGET');
  });

  it.each(PUBLIC)(
    'should accept a name resolving to %s (%s), at create and delivery',
    async (_r, ip) => {
      await expect(
        assertPublicTarget('https://hook.example.test/', false, resolvesTo(ip)),
      ).resolves.toBeUndefined();
      const got = await new Promise<unknown>((r) =>
        guardedLookup(false, resolvesTo(ip))('hook.example.test', {}, (e, address) =>
          r(e ?? address),
        ),
      );
      expect(got).toBe(ip);
    },
  );

  it('should let a private answer through only when WEBHOOK_ALLOW_PRIVATE_TARGETS is on', async () => {
    const got = await new Promise<unknown>((r) =>
      guardedLookup(true, resolvesTo('10.0.0.1'))('hook.example.test', {}, (e, a) => r(e ?? a)),
    );
    expect(got).toBe('10.0.0.1');
  });
});

describe(assertPublicTarget.name, () => {
  it.each([
    'http://127.0.0.1:8080/hook',
    'https://10.0.0.5/hook',
    'http://169.254.169.254/latest/meta-data/',
    'http://[::1]:3000/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::127.0.0.1]/',
    'http://[64:ff9b::a9fe:a9fe]/',
    'http://[2002:7f00:1::1]/',
    'http://[fec0::1]/',
    'http://0x7f000001/',
    'http://127.1/',
    'http://0/',
    'http://localhost:3000/hook',
  ])('should refuse %s when private targets are not allowed', async (url) => {
    await expect(assertPublicTarget(url, false)).rejects.toThrow(
      /loopback, private, link-local or reserved/,
    );
  });

  it('should accept a public address literal, and anything when private targets are allowed', async () => {
    await expect(assertPublicTarget('https://8.8.8.8/hook', false)).resolves.toBeUndefined();
    await expect(assertPublicTarget('http://127.0.0.1/hook', true)).resolves.toBeUndefined();
  });

  it('should refuse a host that does not resolve', async () => {
    await expect(assertPublicTarget('https://no-such-host.invalid/hook', false)).rejects.toThrow(
      /does not resolve/,
    );
  });
});

describe(postWebhook.name, () => {
  let server: Server;
  let port: number;
  let hits = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      hits++;
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  it('should deliver to a private receiver only when allowed', async () => {
    const before = hits;
    await expect(
      postWebhook(`http://127.0.0.1:${port}/`, {}, '{}', { timeoutMs: 2000, allowPrivate: true }),
    ).resolves.toBe(204);
    expect(hits).toBe(before + 1);
  });

  it('should refuse at connect time a host name that resolves to a private address (DNS rebinding)', async () => {
    const before = hits;
    await expect(
      postWebhook(`http://localhost:${port}/`, {}, '{}', { timeoutMs: 2000, allowPrivate: false }),
    ).rejects.toThrow(/not public/);
    await expect(
      postWebhook(`http://127.0.0.1:${port}/`, {}, '{}', { timeoutMs: 2000, allowPrivate: false }),
    ).rejects.toThrow(/not public/);
    expect(hits).toBe(before);
  });
});

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { assertPublicTarget, isPrivateAddress, postWebhook } from './webhook-target';

describe(isPrivateAddress.name, () => {
  it.each([
    ['127.0.0.1', true],
    ['10.1.2.3', true],
    ['172.16.0.1', true],
    ['172.31.255.255', true],
    ['192.168.1.1', true],
    ['169.254.169.254', true],
    ['100.100.100.200', true], // Alibaba Cloud metadata server
    ['0.0.0.0', true],
    ['224.0.0.1', true],
    ['::1', true],
    ['::', true],
    ['fe80::1', true],
    ['fd00::1', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:10.0.0.1', true],
    ['not-an-ip', true],
    ['8.8.8.8', false],
    ['172.32.0.1', false],
    ['100.128.0.1', false],
    ['2606:4700:4700::1111', false],
    ['::ffff:8.8.8.8', false],
  ])('should classify %s as private: %s', (ip, expected) => {
    expect(isPrivateAddress(ip)).toBe(expected);
  });
});

describe(assertPublicTarget.name, () => {
  it.each([
    'http://127.0.0.1:8080/hook',
    'https://10.0.0.5/hook',
    'http://169.254.169.254/latest/meta-data/',
    'http://[::1]:3000/',
    'http://[::ffff:127.0.0.1]/',
    'http://localhost:3000/hook',
  ])('should refuse %s when private targets are not allowed', async (url) => {
    await expect(assertPublicTarget(url, false)).rejects.toThrow(/loopback, private or link-local/);
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

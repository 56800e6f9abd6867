import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP } from 'node:net';
import { badRequest } from '../common/problem';

/**
 * Addresses a webhook must never reach unless WEBHOOK_ALLOW_PRIVATE_TARGETS=true (SSRF): loopback,
 * RFC 1918, carrier-grade NAT (Alibaba's metadata server 100.100.100.200 lives there), link-local
 * (169.254.169.254), unspecified, multicast and reserved ranges, and their IPv6 counterparts.
 */
const BLOCKED = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  BLOCKED.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  BLOCKED.addSubnet(net, bits, 'ipv6');

/** True when the address is loopback/private/link-local/reserved (IPv4-mapped IPv6 included). */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return BLOCKED.check(address, 'ipv4');
  if (family !== 6) return true; // not an address: refuse
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return BLOCKED.check(mapped[1], 'ipv4');
  return BLOCKED.check(address, 'ipv6');
}

const hostOf = (u: URL) => u.hostname.replace(/^\[|\]$/g, '');

function resolveAll(host: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) =>
    dnsLookup(host, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))),
  );
}

/**
 * Request-time check of a webhook URL (already parsed as http/https): unless private targets are
 * allowed, every address its host resolves to must be public. 400 naming what to fix.
 */
export async function assertPublicTarget(url: string, allowPrivate: boolean): Promise<void> {
  if (allowPrivate) return;
  const host = hostOf(new URL(url));
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = (await resolveAll(host)).map((a) => a.address);
    } catch {
      throw badRequest(`url: the host ${host} does not resolve; use a publicly resolvable host.`);
    }
  }
  const bad = addresses.find(isPrivateAddress);
  if (bad !== undefined) {
    throw badRequest(
      `url: ${host} resolves to ${bad}, a loopback, private or link-local address; webhooks must target a public address.`,
    );
  }
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for http.request that refuses private addresses at connect time, on the very address
 * the socket uses: a host that re-resolves to 127.0.0.1 after the URL was accepted (DNS rebinding)
 * still cannot be reached.
 */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: { all?: boolean }, cb: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return cb(err, []);
      const bad = allowPrivate ? undefined : addresses.find((a) => isPrivateAddress(a.address));
      if (bad) {
        const e: NodeJS.ErrnoException = new Error(
          `target address ${bad.address} is not public (WEBHOOK_ALLOW_PRIVATE_TARGETS is off)`,
        );
        e.code = 'EPRIVATETARGET';
        return cb(e, []);
      }
      if (options.all) return cb(null, addresses);
      const first = addresses[0];
      if (!first) return cb(new Error(`${hostname} has no address`), []);
      cb(null, first.address, first.family);
    });
  };
}

/** POSTs a webhook delivery: no redirects followed, the body is drained, only the status is kept. */
export function postWebhook(
  url: string,
  headers: Record<string, string>,
  body: string,
  opts: { timeoutMs: number; allowPrivate: boolean },
): Promise<number> {
  const u = new URL(url);
  const host = hostOf(u);
  if (isIP(host) && !opts.allowPrivate && isPrivateAddress(host)) {
    return Promise.reject(
      new Error(`target address ${host} is not public (WEBHOOK_ALLOW_PRIVATE_TARGETS is off)`),
    );
  }
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      u,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        lookup: guardedLookup(opts.allowPrivate) as never,
        signal: AbortSignal.timeout(opts.timeoutMs),
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
        res.on('close', () => {
          if (!res.complete) reject(new Error('the receiver closed the connection mid-response'));
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

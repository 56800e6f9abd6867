import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP } from 'node:net';
import { badRequest } from '../common/problem';

/**
 * Addresses a webhook must never reach unless WEBHOOK_ALLOW_PRIVATE_TARGETS=true (SSRF): loopback,
 * RFC 1918, carrier-grade NAT (Alibaba's metadata server 100.100.100.200 lives there), link-local
 * (169.254.169.254), "this network", benchmarking, documentation, 6to4 relay anycast, multicast and
 * reserved ranges, and their IPv6 counterparts.
 */
const BLOCKED_V4 = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // CGNAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // TEST-NET-1
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // TEST-NET-2
  ['203.0.113.0', 24], // TEST-NET-3
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and 255.255.255.255
] as const)
  BLOCKED_V4.addSubnet(net, bits, 'ipv4');

const BLOCKED_V6 = new BlockList();
for (const [net, bits] of [
  ['64:ff9b:1::', 48], // local-use NAT64: the embedded IPv4 is whatever the local translator says
  ['100::', 64], // discard-only
  ['2001::', 32], // Teredo: tunnels to an obfuscated IPv4 address
  ['2001:db8::', 32], // documentation
  ['3fff::', 20], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated, still routed by some stacks)
  ['ff00::', 8], // multicast
] as const)
  BLOCKED_V6.addSubnet(net, bits, 'ipv6');

/** 16 bytes of an IPv6 address (isIP(...) === 6, zone id stripped), dotted-quad tail included. */
function ipv6Bytes(address: string): number[] | undefined {
  let text = address;
  const tail: number[] = [];
  const quad = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (quad) {
    tail.push(...quad[2]!.split('.').map(Number));
    text = quad[1]!.endsWith('::') ? quad[1]! : quad[1]!.slice(0, -1);
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const groups = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = groups(head);
  const right = rest === undefined ? [] : groups(rest);
  const missing = 8 - tail.length / 2 - left.length - right.length;
  if (missing < 0 || (rest === undefined && missing !== 0)) return undefined;
  const words = [...left, ...Array<number>(missing).fill(0), ...right];
  const bytes = words.flatMap((w) => [w >> 8, w & 0xff]);
  return [...bytes, ...tail];
}

const v4 = (b: number[], at: number) => b.slice(at, at + 4).join('.');
const zeros = (b: number[], from: number, to: number) => b.slice(from, to).every((x) => x === 0);

/**
 * True when a webhook must not reach the address: loopback/private/link-local/reserved, or an IPv6
 * address that embeds such an IPv4 one (mapped, compatible, NAT64, 6to4). Not an address: true.
 */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return BLOCKED_V4.check(address, 'ipv4');
  if (family !== 6 || address.includes('%')) return true; // not an address, or zoned (link-local)
  const b = ipv6Bytes(address);
  if (!b || b.length !== 16) return true;
  if (zeros(b, 0, 10) && b[10] === 0xff && b[11] === 0xff) return isPrivateAddress(v4(b, 12)); // ::ffff:a.b.c.d
  if (zeros(b, 0, 8) && b[8] === 0xff && b[9] === 0xff && zeros(b, 10, 12))
    return isPrivateAddress(v4(b, 12)); // ::ffff:0:a.b.c.d (SIIT)
  if (zeros(b, 0, 12)) return isPrivateAddress(v4(b, 12)); // ::a.b.c.d, and :: and ::1
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeros(b, 4, 12))
    return isPrivateAddress(v4(b, 12)); // 64:ff9b::/96 NAT64
  if (b[0] === 0x20 && b[1] === 0x02) return isPrivateAddress(v4(b, 2)); // 2002::/16 6to4
  return BLOCKED_V6.check(address, 'ipv6');
}

const hostOf = (u: URL) => u.hostname.replace(/^\[|\]$/g, '');

/** The resolver the guard asks (dns.lookup, as http.request would); a port so tests can fake DNS. */
export type Resolver = (
  host: string,
  cb: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;
const systemResolver: Resolver = (host, cb) => dnsLookup(host, { all: true }, cb);

function resolveAll(host: string, resolver: Resolver): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) =>
    resolver(host, (err, addresses) => (err ? reject(err) : resolve(addresses))),
  );
}

/**
 * Request-time check of a webhook URL (already parsed as http/https): unless private targets are
 * allowed, every address its host resolves to must be public. 400 naming what to fix.
 */
export async function assertPublicTarget(
  url: string,
  allowPrivate: boolean,
  resolver: Resolver = systemResolver,
): Promise<void> {
  if (allowPrivate) return;
  const host = hostOf(new URL(url));
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = (await resolveAll(host, resolver)).map((a) => a.address);
    } catch {
      throw badRequest(`url: the host ${host} does not resolve; use a publicly resolvable host.`);
    }
  }
  const bad = addresses.find(isPrivateAddress);
  if (bad !== undefined) {
    throw badRequest(
      `url: ${host} resolves to ${bad}, a loopback, private, link-local or reserved address; webhooks must target a public address (a local receiver needs WEBHOOK_ALLOW_PRIVATE_TARGETS=true).`,
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
export function guardedLookup(allowPrivate: boolean, resolver: Resolver = systemResolver) {
  return (hostname: string, options: { all?: boolean }, cb: LookupCallback): void => {
    resolver(hostname, (err, addresses) => {
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

/**
 * The little ASN.1 that instance-identity.ts needs: a DER encoder, and a decoder that also reads the
 * BER indefinite lengths and constructed OCTET STRINGs some CMS signers emit. Not a general parser.
 */

export const Tag = {
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Context-specific tag number n, constructed (the form of every [n] this module uses). */
export const ctx = (n: number): number => 0xa0 | n;

export class DerError extends Error {}

// ---- encoding ----

function encodeLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), encodeLength(body.length), body]);
}

export const seq = (...items: Buffer[]): Buffer => tlv(Tag.SEQUENCE, ...items);

/** SET OF in DER: elements sorted by their encodings (X.690 11.6). */
export const setOf = (...items: Buffer[]): Buffer =>
  tlv(Tag.SET, ...[...items].sort(Buffer.compare));

export const nul = (): Buffer => Buffer.from([Tag.NULL, 0]);
export const octets = (b: Buffer): Buffer => tlv(Tag.OCTET_STRING, b);
export const utf8 = (s: string): Buffer => tlv(Tag.UTF8_STRING, Buffer.from(s, 'utf8'));
export const bitString = (b: Buffer): Buffer => tlv(Tag.BIT_STRING, Buffer.from([0]), b);

/** A non-negative INTEGER from its big-endian magnitude (or a small number). */
export function integer(value: Buffer | number): Buffer {
  let b = typeof value === 'number' ? Buffer.from([value]) : value;
  let i = 0;
  while (i < b.length - 1 && b[i] === 0 && (b[i + 1] & 0x80) === 0) i++;
  b = b.subarray(i);
  if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(Tag.INTEGER, b);
}

export function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const bytes: number[] = [40 * parts[0] + parts[1]];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128))
      chunk.unshift(0x80 | (v & 0x7f));
    bytes.push(...chunk);
  }
  return tlv(Tag.OID, Buffer.from(bytes));
}

/** UTCTime through 2049, GeneralizedTime after (RFC 5280 4.1.2.5). */
export function time(d: Date): Buffer {
  const iso = d.toISOString(); // 2026-01-27T10:11:12.345Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '') + 'Z'; // 20260127101112Z
  return d.getUTCFullYear() < 2050
    ? tlv(Tag.UTC_TIME, Buffer.from(digits.slice(2), 'ascii'))
    : tlv(Tag.GENERALIZED_TIME, Buffer.from(digits, 'ascii'));
}

// ---- decoding ----

export interface DerNode {
  readonly tag: number;
  /** The whole element, header included (for BER indefinite lengths, the end-of-contents too). */
  readonly raw: Buffer;
  /** The content octets (for an indefinite length, without the end-of-contents marker). */
  readonly content: Buffer;
  readonly children: () => DerNode[];
}

function readNode(buf: Buffer, at: number, depth: number): DerNode {
  if (depth > 32) throw new DerError('ASN.1 nested too deeply');
  if (at + 2 > buf.length) throw new DerError('ASN.1 truncated');
  const tag = buf[at];
  if ((tag & 0x1f) === 0x1f) throw new DerError('ASN.1 high tag numbers are not supported');
  const constructed = (tag & 0x20) !== 0;
  let p = at + 1;
  const first = buf[p++];
  let contentEnd: number;
  let end: number;
  if (first === 0x80) {
    if (!constructed) throw new DerError('ASN.1 indefinite length on a primitive element');
    let q = p;
    while (!(buf[q] === 0 && buf[q + 1] === 0)) {
      if (q + 2 > buf.length) throw new DerError('ASN.1 truncated (no end-of-contents)');
      q = readNodeEnd(buf, q, depth + 1);
    }
    contentEnd = q;
    end = q + 2;
  } else {
    let len = first;
    if (first & 0x80) {
      const n = first & 0x7f;
      if (n > 4 || p + n > buf.length) throw new DerError('ASN.1 length too large');
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + buf[p++];
    }
    contentEnd = p + len;
    end = contentEnd;
  }
  if (end > buf.length) throw new DerError('ASN.1 truncated');
  const content = buf.subarray(p, contentEnd);
  return {
    tag,
    raw: buf.subarray(at, end),
    content,
    children: () => {
      if (!constructed) throw new DerError(`ASN.1 tag 0x${tag.toString(16)} is not constructed`);
      const out: DerNode[] = [];
      for (let q = 0; q < content.length;) {
        const child = readNode(content, q, depth + 1);
        out.push(child);
        q += child.raw.length;
      }
      return out;
    },
  };
}

function readNodeEnd(buf: Buffer, at: number, depth: number): number {
  return at + readNode(buf, at, depth).raw.length;
}

/** Decode exactly one element spanning the whole buffer. */
export function decode(buf: Buffer): DerNode {
  const node = readNode(buf, 0, 0);
  if (node.raw.length !== buf.length) throw new DerError('trailing bytes after the ASN.1 element');
  return node;
}

export function expectTag(node: DerNode | undefined, tag: number, what: string): DerNode {
  if (!node || node.tag !== tag) {
    const got = node ? `0x${node.tag.toString(16)}` : 'nothing';
    throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, got ${got}`);
  }
  return node;
}

export function readOid(node: DerNode): string {
  const b = expectTag(node, Tag.OID, 'OBJECT IDENTIFIER').content;
  if (b.length === 0) throw new DerError('empty OBJECT IDENTIFIER');
  const parts = [
    Math.min(2, Math.floor(b[0] / 40)),
    b[0] - 40 * Math.min(2, Math.floor(b[0] / 40)),
  ];
  let v = 0;
  for (let i = 1; i < b.length; i++) {
    v = v * 128 + (b[i] & 0x7f);
    if ((b[i] & 0x80) === 0) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

/** OCTET STRING content; a BER constructed OCTET STRING is concatenated. */
export function readOctets(node: DerNode): Buffer {
  if (node.tag === Tag.OCTET_STRING) return node.content;
  if (node.tag === (Tag.OCTET_STRING | 0x20)) return Buffer.concat(node.children().map(readOctets));
  throw new DerError(`expected an OCTET STRING, got tag 0x${node.tag.toString(16)}`);
}

/** INTEGER magnitude without sign-padding zeros, for comparing serial numbers. */
export function readUnsigned(node: DerNode): Buffer {
  const b = expectTag(node, Tag.INTEGER, 'INTEGER').content;
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
}

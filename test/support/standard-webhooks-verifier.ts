import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * A receiver's Standard Webhooks verifier written from the spec (standardwebhooks.com), shaped like
 * the npm `standardwebhooks` package's `Webhook` so a test can swap in the package unchanged:
 * `new SpecWebhook(secret).verify(body, headers)` returns the parsed body or throws.
 * Stand-in until `standardwebhooks` is a devDependency; deliberately shares no code with the signer.
 */
export class SpecWebhook {
  private readonly key: Buffer;

  constructor(
    secret: string,
    private readonly toleranceSeconds = 300,
  ) {
    const b64 = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0)
      throw new Error('secret is not base64');
    this.key = Buffer.from(b64, 'base64');
    if (this.key.length === 0) throw new Error("Secret can't be empty.");
  }

  verify(payload: string, headers: Record<string, string | string[] | undefined>): unknown {
    const h = Object.fromEntries(
      Object.entries(headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v[0] : v]),
    );
    const id = h['webhook-id'];
    const ts = h['webhook-timestamp'];
    const sigs = h['webhook-signature'];
    if (!id || !ts || !sigs) throw new Error('Missing required headers');
    const t = Number(ts);
    if (!/^\d+$/.test(ts) || Math.abs(Date.now() / 1000 - t) > this.toleranceSeconds)
      throw new Error('Message timestamp outside the tolerance');
    const expected = createHmac('sha256', this.key).update(`${id}.${ts}.${payload}`).digest();
    for (const entry of sigs.split(' ')) {
      const [version, sig] = entry.split(',');
      if (version !== 'v1' || !sig) continue;
      const given = Buffer.from(sig, 'base64');
      if (given.length === expected.length && timingSafeEqual(given, expected))
        return payload === '' ? undefined : JSON.parse(payload);
    }
    throw new Error('No matching signature found');
  }
}

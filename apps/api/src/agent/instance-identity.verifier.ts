import { readFileSync } from 'node:fs';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { verifyInstanceIdentity } from '@snowline/cloud';
import { APP_CONFIG, type AppConfig } from '@snowline/config';

/**
 * Verifies ECS instance identity documents at agent registration, against a pinned certificate:
 * ECS_IDENTITY_CERT_FILE (real Alibaba Cloud publishes its certificate), or with CLOUD_PROVIDER=sim
 * the simulator's own, fetched once from `/_sim/identity-certificate` (a public certificate, not a
 * cloud credential: the API still holds none). Without either, registration rests on the
 * single-use bootstrap token alone, and a reimaged instance cannot bind a new key (it is replaced).
 */
@Injectable()
export class InstanceIdentityVerifier {
  private readonly log = new Logger(InstanceIdentityVerifier.name);
  private certPem: string | null = null;
  private loading: Promise<string> | null = null;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    const file = config.agent.identityCertFile;
    if (file) this.certPem = readFileSync(file, 'utf8');
  }

  get enabled(): boolean {
    return this.certPem !== null || this.config.cloud.provider === 'sim';
  }

  /** The verified document's instance id; throws with what is wrong. */
  async verify(
    identity: { document: string; pkcs7: string },
    audience: string,
  ): Promise<{ instanceId: string }> {
    const certPem = await this.certificate();
    const doc = verifyInstanceIdentity(identity.pkcs7, identity.document, { certPem, audience });
    return { instanceId: doc['instance-id'] };
  }

  private certificate(): Promise<string> {
    if (this.certPem) return Promise.resolve(this.certPem);
    this.loading ??= (async () => {
      const { protocol, endpoint } = this.config.cloud;
      const res = await fetch(`${protocol}://${endpoint}/_sim/identity-certificate`, {
        signal: AbortSignal.timeout(5_000),
      });
      if (!res.ok) throw new Error(`the simulator's certificate: HTTP ${res.status}`);
      this.certPem = await res.text();
      this.log.log('loaded the simulator instance identity certificate');
      return this.certPem;
    })().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }
}

import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, deriveKey, type AppConfig } from '@snowline/config';
import { open, seal } from '@snowline/domain';
import {
  decodeCursor,
  encodeCursor,
  Repositories,
  type WebhookDeliveryEntity,
  type WebhookEntity,
} from '@snowline/persistence';
import { badRequest, notFound } from '../common/problem';
import { MASTER_KEY } from '../identities/identity.service';
import type { CreateWebhookDto, UpdateWebhookDto } from './dto/webhook.dto';
import { newStandardSecret } from './signature';
import { WebhookQueue } from './webhook-queue';
import { assertPublicTarget } from './webhook-target';

export const webhookView = (w: WebhookEntity) => ({
  id: w.id,
  url: w.url,
  description: w.description,
  eventTypes: w.eventTypes,
  enabled: w.enabled,
  secretPrefix: w.secretPrefix,
  /** The name snowline.yaml manages it by; null when made in the console or API. */
  configName: w.configName ?? null,
  createdAt: w.createdAt.toISOString(),
  updatedAt: w.updatedAt.toISOString(),
});

export const deliveryView = (d: WebhookDeliveryEntity) => ({
  id: d.id,
  webhookId: d.webhookId,
  eventId: d.eventId,
  eventType: d.eventType,
  status: d.status,
  attempts: d.attempts,
  lastStatusCode: d.lastStatusCode,
  lastError: d.lastError,
  attemptLog: d.attemptLog,
  nextAttemptAt: d.status === 'pending' ? d.nextAttemptAt.toISOString() : null,
  deliveredAt: d.deliveredAt?.toISOString() ?? null,
  createdAt: d.createdAt.toISOString(),
  payload: d.payload,
});

/** A webhook URL: http(s), no credentials in it (they would end up in logs), no fragment. */
export function validateWebhookUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw badRequest('url: must be an absolute http:// or https:// URL.');
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:')
    throw badRequest('url: must use http or https.');
  if (u.username || u.password)
    throw badRequest('url: must not carry credentials; authenticate with the signature instead.');
  if (u.hash) throw badRequest('url: must not have a #fragment.');
  return u.toString();
}

const SECRET_PURPOSE = 'webhook-secret';

/** A webhook as snowline.yaml declares it (see PlansService). */
export interface ManagedWebhook {
  name: string;
  url: string;
  description?: string;
  eventTypes?: string[];
  enabled?: boolean;
  secretEnv: string;
  secretVersion: number;
}

@Injectable()
export class WebhooksService {
  private readonly log = new Logger('webhooks');
  private readonly key: Buffer;

  constructor(
    private readonly repos: Repositories,
    private readonly queue: WebhookQueue,
    @Inject(MASTER_KEY) masterKey: Buffer,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.key = deriveKey(masterKey, SECRET_PURPOSE);
  }

  /** The signing secret of a webhook (for the delivery worker only). */
  secretOf(w: WebhookEntity): string {
    return open(this.key, w.secretSealed, w.id).toString('utf8');
  }

  async create(projectId: string, dto: CreateWebhookDto) {
    const url = await this.checkUrl(dto.url);
    const secret = newStandardSecret();
    const id = await this.repos.newId();
    const w = await this.repos.webhooks.insert({
      id,
      projectId,
      url,
      description: dto.description ?? '',
      eventTypes: dto.eventTypes ?? [],
      enabled: dto.enabled ?? true,
      secretSealed: seal(this.key, Buffer.from(secret, 'utf8'), id),
      secretPrefix: secret.slice(0, 10),
    });
    // The only response that ever carries the secret.
    return { ...webhookView(w), secret };
  }

  /**
   * A webhook snowline.yaml manages (apply only): the secret comes from the user's environment (sent
   * with the apply request), is sealed here and never returned, logged or put in a plan.
   */
  async createManaged(projectId: string, m: ManagedWebhook, secret: string) {
    const url = await this.checkUrl(m.url);
    const id = await this.repos.newId();
    const w = await this.repos.webhooks.insert({
      id,
      projectId,
      url,
      description: m.description ?? '',
      eventTypes: m.eventTypes ?? [],
      enabled: m.enabled ?? true,
      secretSealed: seal(this.key, Buffer.from(secret, 'utf8'), id),
      // A marker, not a prefix: a supplied secret shows none of its characters.
      secretPrefix: `$${m.secretEnv}`,
      configName: m.name,
      secretEnv: m.secretEnv,
      secretVersion: m.secretVersion,
    });
    return webhookView(w);
  }

  /** Apply of a managed webhook's update; with `secret`, its signing secret rotates. */
  async updateManaged(
    projectId: string,
    id: string,
    dto: UpdateWebhookDto,
    rotate?: { secret: string; secretEnv: string; secretVersion: number },
  ) {
    await this.update(projectId, id, dto);
    if (rotate)
      await this.repos.webhooks.update(id, {
        secretSealed: seal(this.key, Buffer.from(rotate.secret, 'utf8'), id),
        secretPrefix: `$${rotate.secretEnv}`,
        secretEnv: rotate.secretEnv,
        secretVersion: rotate.secretVersion,
      });
    return this.get(projectId, id);
  }

  async list(projectId: string) {
    const rows = await this.repos.webhooks.listForProject(projectId);
    return { items: rows.map(webhookView), nextCursor: null };
  }

  async get(projectId: string, id: string) {
    return webhookView(await this.find(projectId, id));
  }

  async update(projectId: string, id: string, dto: UpdateWebhookDto) {
    const patch: Partial<WebhookEntity> = {};
    if (dto.url !== undefined) patch.url = await this.checkUrl(dto.url);
    if (dto.description !== undefined) patch.description = dto.description;
    if (dto.eventTypes !== undefined) patch.eventTypes = dto.eventTypes;
    if (dto.enabled !== undefined) patch.enabled = dto.enabled;
    await this.find(projectId, id);
    if (Object.keys(patch).length) await this.repos.webhooks.update(id, patch);
    return this.get(projectId, id);
  }

  async remove(projectId: string, id: string): Promise<void> {
    if (!(await this.repos.webhooks.softDelete(projectId, id))) throw notFound('Webhook', id);
  }

  async deliveries(projectId: string, id: string, q: { cursor?: string; limit: number }) {
    await this.find(projectId, id);
    const cursor = q.cursor ? decodeCursor(q.cursor) : null;
    if (q.cursor && !cursor)
      throw badRequest('cursor: not a cursor this API returned; drop it to start over.');
    const rows = await this.repos.webhooks.deliveries(id, { cursor, limit: q.limit });
    const last = rows[rows.length - 1];
    return {
      items: rows.map(deliveryView),
      nextCursor: rows.length === q.limit && last ? encodeCursor(last.createdAt, last.id) : null,
    };
  }

  /** Sends a `webhook.test` ping through the normal signed, retried, logged delivery path. */
  async test(projectId: string, id: string) {
    const w = await this.find(projectId, id);
    const d = await this.repos.webhooks.insertDelivery({
      webhookId: w.id,
      projectId,
      eventId: null,
      eventType: 'webhook.test',
      payload: {
        id: null,
        type: 'webhook.test',
        message: 'Test delivery from Snowline',
        validatorId: null,
        hostId: null,
        zone: null,
        data: {},
        createdAt: new Date().toISOString(),
      },
      status: 'pending',
      nextAttemptAt: new Date(),
    });
    await this.queue
      .deliver(d.id, 0)
      .catch((err: Error) =>
        this.log.warn({ deliveryId: d.id, err: err.message }, 'enqueue failed; the sweep will'),
      );
    return deliveryView(d);
  }

  /** Scheme and shape, then (unless allowed) no loopback/private/link-local target (SSRF). */
  async checkUrl(raw: string): Promise<string> {
    const url = validateWebhookUrl(raw);
    await assertPublicTarget(url, this.config.webhooks.allowPrivateTargets);
    return url;
  }

  private async find(projectId: string, id: string): Promise<WebhookEntity> {
    const w = await this.repos.webhooks.findForProject(projectId, id);
    if (!w) throw notFound('Webhook', id);
    return w;
  }
}

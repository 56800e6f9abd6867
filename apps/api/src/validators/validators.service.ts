import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import { LIVE_STATES, type ValidatorState } from '@snowline/domain';
import {
  decodeCursor,
  encodeCursor,
  Repositories,
  type EntityManager,
  type ValidatorEntity,
  type ValidatorWithIdentity,
} from '@snowline/persistence';
import { LifecycleQueue } from '@snowline/queue';
import { badRequest, conflict, notFound } from '../common/problem';
import { IdentityGeneratorService } from '../identities/identity-generator.service';
import { IdentityService } from '../identities/identity.service';
import type { CreateValidatorDto } from './dto/create-validator.dto';
import type { UpdateValidatorDto } from './dto/update-validator.dto';
import { validateLabels } from './labels';
import { validatorView, type ValidatorView } from './validator.view';

@Injectable()
export class ValidatorsService {
  private readonly log = new Logger(ValidatorsService.name);

  constructor(
    private readonly repos: Repositories,
    private readonly identities: IdentityService,
    private readonly generator: IdentityGeneratorService,
    private readonly queue: LifecycleQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async create(projectId: string, dto: CreateValidatorDto): Promise<ValidatorView> {
    const zones = dto.zones ?? [];
    const unknown = zones.filter((z) => !this.config.cloud.zones.includes(z));
    if (unknown.length) {
      throw badRequest(
        `zones: ${unknown.join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not configured; use any of ${this.config.cloud.zones.join(', ')}.`,
      );
    }
    const labels = dto.labels === undefined ? {} : validateLabels(dto.labels);
    // An import is checked now (400/409 at request time); a new identity is generated in the
    // background (~45 ms of CPU each) and the validator waits for it in `pending`.
    const imported = dto.identity ? await this.identities.prepare(dto.identity) : null;
    let name = dto.name ?? generatedName(dto.network);
    const row = {
      projectId,
      network: dto.network,
      instanceType: dto.instanceType ?? this.config.cloud.defaultInstanceType,
      zones,
      labels,
      protected: dto.protected ?? false,
    };
    const insert = (identity: { id: string; nodeId: string } | null, tx?: EntityManager) =>
      this.repos.validators.insertWithEvent(
        { ...row, name, identityId: identity?.id ?? null, nodeId: identity?.nodeId ?? null },
        {
          type: 'validator.created',
          message: identity
            ? `Validator ${name} created (imported identity ${identity.nodeId})`
            : `Validator ${name} created; its staking identity is being generated`,
          data: { network: dto.network, nodeId: identity?.nodeId ?? null },
        },
        tx,
      );
    try {
      // A generated identity: one statement (row + event). An import adds its identity row, in one tx.
      let validator: ValidatorWithIdentity | undefined;
      for (let attempt = 1; !validator; attempt++) {
        try {
          validator = imported
            ? await this.repos.transaction(async (tx) =>
                insert(await this.identities.store(projectId, imported, true, tx), tx),
              )
            : await insert(null);
        } catch (err) {
          const pg = err as { code?: string; constraint?: string };
          if (pg.code !== '23505' || pg.constraint !== 'validators_live_name') throw err;
          // A name we made up collided with a live one: that is ours to fix, not the caller's.
          if (dto.name === undefined && attempt < 3) name = generatedName(dto.network);
          else throw conflict(`A live validator named "${name}" already exists in this project.`);
        }
      }
      const identityRow = validator.identity;
      if (identityRow) {
        // Postgres already holds the truth; if Redis is down the reconciler enqueues it later.
        await this.queue
          .provision(validator.id)
          .catch((err: Error) =>
            this.log.warn(
              { validatorId: validator.id, err: err.message },
              'could not enqueue provision; the reconciler will',
            ),
          );
      } else {
        this.generator.nudge();
      }
      return validatorView(validator, identityRow);
    } finally {
      imported?.signerKey.fill(0);
    }
  }

  async get(projectId: string, id: string): Promise<ValidatorView> {
    const v = await this.repos.validators.findForProjectWithIdentity(projectId, id);
    if (!v) throw notFound('Validator', id);
    return validatorView(v, v.identity);
  }

  async list(
    projectId: string,
    q: {
      limit: number;
      cursor?: string;
      state?: ValidatorState;
      network?: string;
      zone?: string;
      labels?: Record<string, string>;
    },
  ): Promise<{ items: ValidatorView[]; nextCursor: string | null }> {
    const cursor = q.cursor ? decodeCursor(q.cursor) : null;
    if (q.cursor && !cursor)
      throw badRequest('cursor: not a cursor this API returned; drop it to start over.');
    const rows = await this.repos.validators.listWithIdentities({
      projectId,
      limit: q.limit,
      cursor,
      state: q.state,
      network: q.network,
      zone: q.zone,
      labels: q.labels,
    });
    const last = rows[rows.length - 1];
    return {
      items: rows.map((r) => validatorView(r, r.identity)),
      nextCursor: rows.length === q.limit && last ? encodeCursor(last.createdAt, last.id) : null,
    };
  }

  async retire(projectId: string, id: string): Promise<ValidatorView> {
    const v = await this.find(projectId, id);
    if (v.protected) {
      throw conflict(
        `Validator ${v.name} is protected; remove the protection (PATCH protected=false) first.`,
      );
    }
    if (v.state !== 'retiring' && v.state !== 'retired') {
      const moved = await this.repos.transaction(async (tx) => {
        const ok = await this.repos.validators.transition(
          v.id,
          'retiring',
          { stateReason: 'retire requested' },
          {
            from: ([...LIVE_STATES, 'failed'] as ValidatorState[]).filter((s) => s !== 'retiring'),
            tx,
          },
        );
        if (ok) {
          await this.repos.events.append(
            {
              type: 'validator.retiring',
              message: `Validator ${v.name} is retiring`,
              projectId,
              validatorId: v.id,
            },
            tx,
          );
        }
        return ok;
      });
      if (!moved) this.log.debug({ validatorId: v.id }, 'retire raced with another state move');
    }
    const now = await this.find(projectId, id);
    if (now.state === 'retiring') {
      await this.queue
        .retire(v.id)
        .catch((err: Error) =>
          this.log.warn(
            { validatorId: v.id, err: err.message },
            'could not enqueue retire; the reconciler will',
          ),
        );
    }
    return this.get(projectId, now.id);
  }

  /** PATCH: name, labels, zone policy, protection. Only given fields change; one event records it. */
  async update(projectId: string, id: string, dto: UpdateValidatorDto): Promise<ValidatorView> {
    const patch: Partial<ValidatorEntity> = {};
    if (dto.labels !== undefined) patch.labels = validateLabels(dto.labels);
    if (dto.zones !== undefined) {
      const unknown = dto.zones.filter((z) => !this.config.cloud.zones.includes(z));
      if (unknown.length)
        throw badRequest(
          `zones: ${unknown.join(', ')} not configured; use any of ${this.config.cloud.zones.join(', ')}.`,
        );
      patch.zones = [...new Set(dto.zones)];
    }
    if (dto.name !== undefined) patch.name = dto.name;
    if (dto.protected !== undefined) patch.protected = dto.protected;
    const v = await this.find(projectId, id);
    if (v.state === 'retired')
      throw conflict(`Validator ${v.name} is retired; a retired validator cannot change.`);
    if (!Object.keys(patch).length) return this.get(projectId, id);
    await this.repos.transaction(async (tx) => {
      await this.repos.validators.update(v.id, patch, tx).catch((err: { code?: string }) => {
        if (err.code === '23505')
          throw conflict(`A live validator named "${patch.name}" already exists in this project.`);
        throw err;
      });
      await this.repos.events.append(
        {
          type: 'validator.updated',
          message: `Validator ${patch.name ?? v.name} updated (${Object.keys(patch).join(', ')})`,
          projectId,
          validatorId: v.id,
          data: { fields: Object.keys(patch) },
        },
        tx,
      );
    });
    return this.get(projectId, id);
  }

  async events(projectId: string, id: string, after: string | undefined, limit: number) {
    await this.find(projectId, id);
    if (after && !/^\d{1,18}$/.test(after))
      throw badRequest('after: must be an event id (digits).');
    const rows = await this.repos.events.list({ projectId, validatorId: id, after, limit });
    return {
      items: rows.map((e) => ({
        id: e.id,
        type: e.type,
        message: e.message,
        zone: e.zone,
        hostId: e.hostId,
        data: e.data,
        createdAt: e.createdAt.toISOString(),
      })),
      nextCursor: rows.length === limit ? rows[rows.length - 1]!.id : null,
    };
  }

  private async find(projectId: string, id: string): Promise<ValidatorEntity> {
    const v = await this.repos.validators.findForProject(projectId, id);
    if (!v) throw notFound('Validator', id);
    return v;
  }
}

/** `fuji-3f9a1c2e`: 32 random bits, so a collision (retried) is rare even in large projects. */
function generatedName(network: string): string {
  return `${network}-${randomBytes(4).toString('hex')}`;
}

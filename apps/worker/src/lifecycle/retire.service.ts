import { Injectable, Logger } from '@nestjs/common';
import { DataSource, IsNull } from 'typeorm';
import { CloudError, CloudProvider, TAG_VALIDATOR } from '@snowline/cloud';
import { HostEntity, Repositories } from '@snowline/persistence';
import { RetryableError } from '@snowline/queue';
import { withValidatorLock } from './validator-lock';

/** Retires a validator: fence (bump the generation), delete every instance it has, mark retired. */
@Injectable()
export class RetireService {
  private readonly log = new Logger(RetireService.name);

  constructor(
    private readonly repos: Repositories,
    private readonly ds: DataSource,
    private readonly cloud: CloudProvider,
  ) {}

  async run(validatorId: string): Promise<void> {
    await withValidatorLock(this.ds, validatorId, () => this.retire(validatorId));
  }

  private async retire(validatorId: string): Promise<void> {
    const v = await this.repos.validators.findById(validatorId);
    if (!v || v.state !== 'retiring') return;
    // Fence first: a new generation makes every agent of this validator stop at its next renewal.
    await this.ds.query(
      `UPDATE validators SET generation = generation + 1, host_id = NULL, updated_at = now() WHERE id = $1 AND state = 'retiring' AND host_id IS NOT NULL`,
      [v.id],
    );
    const hosts = await this.repos.hosts.liveForValidator(v.id);
    try {
      const tagged = await this.cloud.listByTag(TAG_VALIDATOR, v.id);
      const ids = [
        ...new Set([...hosts.map((h) => h.instanceId), ...tagged.map((i) => i.instanceId)]),
      ].filter((x): x is string => !!x);
      if (ids.length) await this.cloud.delete(ids);
    } catch (err) {
      if (err instanceof CloudError && !err.retryable) throw err;
      throw new RetryableError(`deleting instances of ${v.id}: ${(err as Error).message}`);
    }
    await this.repos.transaction(async (tx) => {
      // Retiring ends any move under way: its row must not hold a concurrency slot.
      await tx.query(
        `UPDATE failovers SET status = 'cancelled', outcome = 'retired during the move', finished_at = now()
          WHERE validator_id = $1 AND status = 'running'`,
        [v.id],
      );
      await tx.update(
        HostEntity,
        { validatorId: v.id, deletedAt: IsNull() },
        { deletedAt: new Date(), fenced: true, cloudStatus: 'Deleted' },
      );
      if (
        await this.repos.validators.transition(
          v.id,
          'retired',
          { retiredAt: new Date(), hostId: null, stateReason: null },
          { from: ['retiring'], tx },
        )
      ) {
        await this.repos.events.append(
          {
            type: 'validator.retired',
            message: `Validator ${v.name} retired; its instances are deleted`,
            projectId: v.projectId,
            validatorId: v.id,
          },
          tx,
        );
      }
    });
    this.log.log({ validatorId: v.id }, 'validator retired');
  }
}

import { Injectable, Logger } from '@nestjs/common';
import {
  CloudError,
  CloudProvider,
  TAG_BATCH,
  TAG_VALIDATOR,
  type DeleteOutcome,
} from '@snowline/cloud';
import { HostEntity, Repositories } from '@snowline/persistence';
import { RetryableError } from '@snowline/queue';

/** Retires a validator: fence (bump the generation), delete every instance it has, mark retired. */
@Injectable()
export class RetireService {
  private readonly log = new Logger(RetireService.name);

  constructor(
    private readonly repos: Repositories,
    private readonly cloud: CloudProvider,
  ) {}

  async run(validatorId: string): Promise<void> {
    await this.repos.validatorLocks.withLock(validatorId, () => this.retire(validatorId));
  }

  private async retire(validatorId: string): Promise<void> {
    const v = await this.repos.validators.findById(validatorId);
    if (!v || v.state !== 'retiring') return;
    // Fence first: a new generation makes every agent of this validator stop at its next renewal.
    await this.repos.validators.fenceRetiring(v.id);
    const hosts = await this.repos.hosts.liveForValidator(v.id);
    let outcome: DeleteOutcome;
    try {
      const tagged = await this.cloud.listByTag(TAG_VALIDATOR, v.id);
      const known = new Set(hosts.map((h) => h.instanceId));
      outcome = await this.cloud.deleteReachable([
        ...hosts
          .filter((h): h is HostEntity & { instanceId: string } => !!h.instanceId)
          .map((h) => ({ instanceId: h.instanceId, zoneId: h.zone })),
        ...tagged.filter((i) => !known.has(i.instanceId)),
        ...(await this.unrecordedBatchInstances(hosts)),
      ]);
    } catch (err) {
      if (err instanceof CloudError && !err.retryable) throw err;
      throw new RetryableError(`deleting instances of ${v.id}: ${(err as Error).message}`);
    }
    // The identity is fenced and every reachable instance is gone: the retire is done. An instance
    // in a zone the cloud cannot reach stays a fenced host row; the reaper deletes it on the zone's
    // return (its stop is confirmed or its lease has run out long before).
    const pending = outcome.pending.map((p) => p.instanceId);
    await this.repos.transaction(async (tx) => {
      // Retiring ends any move under way: its row must not hold a concurrency slot.
      await this.repos.failovers.cancelRunning(v.id, 'retired during the move', tx);
      await this.repos.hosts.retireAllOf(v.id, pending, tx);
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
            message: pending.length
              ? `Validator ${v.name} retired; its identity is fenced. Deletion pending for ${outcome.pending.map((p) => `${p.instanceId} (${p.zoneId})`).join(', ')}: the cloud cannot reach ${pending.length === 1 ? 'it' : 'them'} now; the reaper deletes ${pending.length === 1 ? 'it' : 'them'} when the zone returns`
              : `Validator ${v.name} retired; its instances are deleted`,
            projectId: v.projectId,
            validatorId: v.id,
            data: { deleted: outcome.deleted, pendingDeletion: outcome.pending },
          },
          tx,
        );
      }
    });
    this.log.log({ validatorId: v.id, pendingDeletion: pending }, 'validator retired');
  }

  /**
   * The instances of this validator's batch members whose launch was never recorded (a crash or a
   * lost answer after RunInstances): a batch's instances carry the batch's tag, not the
   * validator's, so they are looked up by it. Once the cloud lists the whole batch its ids are
   * recorded on the batch (the first answer stored wins, as a provision job's replay would) and the
   * member's is the one at its index; the other members keep theirs. A batch not (or not wholly)
   * there yet has nothing of this member's to delete now: the reaper deletes it if it appears.
   */
  private async unrecordedBatchInstances(
    hosts: HostEntity[],
  ): Promise<{ instanceId: string; zoneId: string }[]> {
    const out: { instanceId: string; zoneId: string }[] = [];
    const members = hosts.filter((h) => h.batchId && !h.instanceId && h.batchIndex !== null);
    for (const batchId of new Set(members.map((h) => h.batchId!))) {
      const batch = await this.repos.batches.findById(batchId);
      if (!batch) continue;
      let ids = batch.instanceIds;
      if (!ids) {
        const found = await this.cloud.listByTag(TAG_BATCH, batchId);
        if (found.length !== batch.size) continue;
        ids = (
          await this.repos.batches.recordInstances(batchId, found.map((i) => i.instanceId).sort())
        ).instanceIds;
      }
      for (const h of members.filter((m) => m.batchId === batchId)) {
        const instanceId = ids[h.batchIndex!];
        if (instanceId) out.push({ instanceId, zoneId: batch.zone });
      }
    }
    return out;
  }
}

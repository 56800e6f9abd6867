import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import { Repositories } from '@snowline/persistence';
import { LeaderLoop } from '../lifecycle/leader-loop';
import { StandbyPoolService } from './standby-pool.service';

export interface RefillStats {
  /** Zones open to standbys this round (healthy by the last sweep); null when the round held off. */
  openZones: string[] | null;
  created: number;
  /** Why the round refilled nothing, when it held off. */
  heldBecause: string | null;
}

/**
 * Standby refill, a loop of its own: every sweep interval it keeps the warm standby pools
 * (StandbyPoolService.refill) in the zones health detection last judged healthy. It acts on what
 * detection recorded — the zones table and the control-plane-suspect incident — and holds off when
 * Snowline suspects itself, or when detection has not recorded a sweep for three intervals (its
 * zone verdicts are too old to place on).
 */
@Injectable()
export class StandbyRefillLoop extends LeaderLoop<RefillStats> {
  constructor(
    private readonly repos: Repositories,
    private readonly standby: StandbyPoolService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super(repos.leaderLeases, 'standby-refill', config.leaderLeaseSeconds * 1000);
  }

  protected intervalMs(): number {
    return this.config.health.sweepIntervalSeconds * 1000;
  }

  protected async round(): Promise<RefillStats> {
    const held = (heldBecause: string): RefillStats => ({
      openZones: null,
      created: 0,
      heldBecause,
    });
    const sweptAt = await this.repos.controlLoops.updatedAt('sweeper');
    if (sweptAt === null || Date.now() - sweptAt.getTime() > 3 * this.intervalMs())
      return held('no recent sweep');
    if (await this.repos.incidents.controlPlaneSuspected())
      return held('suspecting the control plane');
    const openZones = await this.repos.zones.healthy(this.config.cloud.zones);
    const created = await this.standby.refill(openZones);
    return { openZones, created, heldBecause: null };
  }
}

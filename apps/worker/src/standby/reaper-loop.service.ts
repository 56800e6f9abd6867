import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import { Repositories } from '@snowline/persistence';
import { LeaderLoop } from '../lifecycle/leader-loop';
import { ReaperService } from './reaper.service';

export interface ReaperStats {
  reaped: number;
  /** Orphans by tag, on the rounds that listed them. */
  orphans: { adopted: number; deleted: number } | null;
}

/**
 * The reaper's loop: every sweep interval it deletes stale hosts (ReaperService.run, whose rules
 * live there), and every twelfth round (~1 min at the default interval) lists instances by tag for
 * orphans — a full listing, too costly for every round.
 */
@Injectable()
export class ReaperLoop extends LeaderLoop<ReaperStats> {
  private rounds = 0;

  constructor(
    repos: Repositories,
    private readonly reaper: ReaperService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super(repos.leaderLeases, 'reaper', config.leaderLeaseSeconds * 1000);
  }

  protected intervalMs(): number {
    return this.config.health.sweepIntervalSeconds * 1000;
  }

  protected async round(): Promise<ReaperStats> {
    const reaped = await this.reaper.run();
    const orphans = this.rounds++ % 12 === 0 ? await this.reaper.orphans() : null;
    return { reaped, orphans };
  }
}

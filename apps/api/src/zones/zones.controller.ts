import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import { Repositories } from '@snowline/persistence';
import { CurrentPrincipal, RequireScope, type Principal } from '../auth/principal';
import { ApiLimitQuery, parseLimit } from '../common/paging';
import { badRequest } from '../common/problem';
import { IncidentListDto, ZoneListDto } from './dto/zone.response';

const age = (d: Date | null) =>
  d ? Math.max(0, Math.round((Date.now() - d.getTime()) / 1000)) : null;

/** Zones and incidents: infrastructure every tenant may see; affected validators only their own. */
@ApiTags('zones')
@ApiBearerAuth()
@Controller('v1')
export class ZonesController {
  constructor(
    private readonly repos: Repositories,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get('zones')
  @RequireScope('validators:read')
  @ApiOperation({
    summary: 'Zones: status, placement, hosts, standbys, and how old the last observation is',
    description:
      'A zone the health loop has never observed has `status: "unknown"` and `lastObservedAt: null` — never a made-up "healthy" or 0.',
  })
  @ApiOkResponse({ type: ZoneListDto })
  async zones(@CurrentPrincipal() p: Principal): Promise<ZoneListDto> {
    const rows = await this.repos.zones.all();
    const byId = new Map(rows.map((r) => [r.id, r]));
    const mine = await this.repos.validators.countByZone(p.projectId);
    const incidents = await this.repos.incidents.openByZone();
    return {
      items: this.config.cloud.zones.map((id) => {
        const z = byId.get(id);
        return {
          id,
          status: z?.status ?? 'unknown',
          placementAllowed: z?.placementAllowed ?? null,
          reason: z?.reason ?? null,
          statusSince: z?.statusSince.toISOString() ?? null,
          hosts: z ? z.hosts : null,
          unhealthyHosts: z ? z.unhealthy : null,
          standbys: z ? z.standbys : null,
          stock: z?.stock ?? {},
          validators: mine.get(id) ?? 0,
          openIncidentId: incidents.get(id) ?? null,
          lastObservedAt: z?.lastObservedAt?.toISOString() ?? null,
          observedAgeSeconds: age(z?.lastObservedAt ?? null),
        };
      }),
    };
  }

  @Get('incidents')
  @RequireScope('validators:read')
  @ApiOperation({
    summary: 'Incidents, newest first: per zone, or the control plane suspecting itself',
  })
  @ApiQuery({ name: 'status', required: false, enum: ['open', 'closed'] })
  @ApiLimitQuery()
  @ApiOkResponse({ type: IncidentListDto })
  async incidents(
    @CurrentPrincipal() p: Principal,
    @Query('status') status?: string,
    @Query('limit') limit?: string,
  ): Promise<IncidentListDto> {
    if (status !== undefined && status !== 'open' && status !== 'closed') {
      throw badRequest('status: must be open or closed.');
    }
    const n = parseLimit(limit);
    const rows = await this.repos.incidents.list(p.projectId, status ?? null, n);
    return {
      items: rows.map((r) => ({
        id: r.id,
        zone: r.zone,
        kind: r.kind,
        severity: r.severity,
        status: r.status,
        summary: r.summary,
        affectedValidators: r.mine.map((v) => v.id),
        // Each affected validator as it stands now: where it runs (null once retired), its state.
        affected: r.mine,
        openedAt: r.openedAt.toISOString(),
        closedAt: r.closedAt?.toISOString() ?? null,
      })),
    };
  }
}

import { useState } from 'react';
import {
  allPages,
  client,
  compareStakingRisk,
  NETWORKS,
  read,
  VALIDATOR_STATES,
  type SnowEvent,
  type Validator,
  type ValidatorState,
} from '../api';
import { useLive, useNow, useResource } from '../live';
import { Link, navigate, useLocation, usePageTitle } from '../router';
import {
  Ago,
  Badge,
  Copyable,
  Empty,
  ErrorBox,
  fmtAge,
  HeaderRow,
  Loading,
  secondsSince,
  Unknown,
} from '../ui';
import { StakingRiskCell } from './validator-staking';

/**
 * The last health verdict the control plane recorded for a validator's host, read from the event
 * timeline (a change of verdict, or the node reaching active). None seen: unknown.
 */
export function lastHealth(
  validatorId: string,
  events: SnowEvent[],
): { verdict: string; at: string } | null {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    if (e.validatorId !== validatorId) continue;
    if (e.type === 'host.health_changed' && typeof e.data?.to === 'string')
      return { verdict: e.data.to, at: e.createdAt };
    if (e.type === 'validator.active') return { verdict: 'healthy', at: e.createdAt };
    if (e.type === 'validator.degraded') return { verdict: 'degraded', at: e.createdAt };
  }
  return null;
}

/**
 * A verdict and the last report are two observations with two ages: the verdict's age is when the
 * sweeper last changed it, the report's is when the agent last spoke. A retired validator runs
 * nowhere and has neither.
 */
export function HealthCell({
  v,
  events,
  now,
  verdict,
  lastReportAt,
}: {
  v: Validator;
  events: SnowEvent[];
  now: number;
  /** The current host's recorded verdict, when known (the detail page has it); else the timeline's. */
  verdict?: { state: string; since: string | null } | null;
  lastReportAt?: string | null;
}) {
  if (v.state === 'retired') return <span className="muted-text">none — retired</span>;
  const fromEvents = lastHealth(v.id, events);
  const h = verdict
    ? { verdict: verdict.state, at: verdict.since }
    : v.health
      ? { verdict: v.health.state, at: v.health.healthSince }
      : fromEvents;
  const report = lastReportAt ?? v.health?.lastReportAt ?? null;
  return (
    <span className="health" data-verdict={h?.verdict ?? 'unknown'}>
      <span className="block">
        {h ? (
          <>
            <Badge value={h.verdict} />{' '}
            {h.at ? (
              <span className="muted-text">
                verdict since <Ago iso={h.at} now={now} />
              </span>
            ) : null}
          </>
        ) : (
          <Unknown>verdict</Unknown>
        )}
      </span>
      <span className="block muted-text" data-last-report={report ?? ''}>
        {report ? (
          <>
            last report <Ago iso={report} now={now} />
          </>
        ) : (
          <>no report yet</>
        )}
      </span>
    </span>
  );
}

export function Uptime({ v, now }: { v: Validator; now: number }) {
  if (v.state === 'active' && v.activeAt) return <>{fmtAge(secondsSince(v.activeAt, now))}</>;
  if (v.state === 'retired') return <>retired</>;
  return <span className="muted-text">not active</span>;
}

const refresh = (e: SnowEvent) =>
  e.validatorId !== null || e.type.startsWith('failover.') || e.type.startsWith('validator.');

export function Validators() {
  usePageTitle('Validators');
  const now = useNow();
  const feed = useLive();
  const { query } = useLocation();
  const state = query.get('state') ?? '';
  const zone = query.get('zone') ?? '';
  const network = query.get('network') ?? '';
  const sort = query.get('sort') === 'risk' ? 'risk' : '';
  const [search, setSearch] = useState('');
  const zones = useResource((signal) => read(client.GET('/v1/zones', { signal })), []);
  const list = useResource(
    (signal) => {
      const query = {
        limit: 100,
        ...(state ? { state: state as ValidatorState } : {}),
        ...(zone ? { zone } : {}),
        ...(network ? { network } : {}),
      };
      return allPages((cursor) =>
        client.GET('/v1/validators', { params: { query: { ...query, cursor } }, signal }),
      );
    },
    [state, zone, network],
    { refreshOn: refresh },
  );

  const setFilter = (name: string, value: string) => {
    const q = new URLSearchParams(query);
    if (value) q.set(name, value);
    else q.delete(name);
    navigate(`/validators${q.size ? `?${q}` : ''}`, true);
  };
  const needle = search.trim().toLowerCase();
  const matching = (list.data?.items ?? []).filter(
    (v) =>
      !needle ||
      v.name.toLowerCase().includes(needle) ||
      (v.nodeId ?? '').toLowerCase().includes(needle),
  );
  // By risk: least downtime budget left first (lost before all), unknown apart — the CLI's order.
  const rows =
    sort === 'risk'
      ? [...matching].sort(
          (a, b) => compareStakingRisk(a.staking, b.staking) || a.name.localeCompare(b.name),
        )
      : matching;

  return (
    <section>
      <div className="page-head">
        <h1 tabIndex={-1}>Validators</h1>
        <Link to="/launch" className="button primary">
          Launch a validator
        </Link>
      </div>
      <form
        className="filters"
        role="search"
        aria-label="Filter validators"
        onSubmit={(e) => e.preventDefault()}
      >
        <div className="field">
          <label htmlFor="f-state">State</label>
          <select id="f-state" value={state} onChange={(e) => setFilter('state', e.target.value)}>
            <option value="">any</option>
            {VALIDATOR_STATES.map((s) => (
              <option key={s} value={s}>
                {s.replace('_', ' ')}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-zone">Zone</label>
          <select id="f-zone" value={zone} onChange={(e) => setFilter('zone', e.target.value)}>
            <option value="">any</option>
            {(zones.data?.items ?? []).map((z) => (
              <option key={z.id} value={z.id}>
                {z.id}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-network">Network</label>
          <select
            id="f-network"
            value={network}
            onChange={(e) => setFilter('network', e.target.value)}
          >
            <option value="">any</option>
            {NETWORKS.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-sort">Sort</label>
          <select id="f-sort" value={sort} onChange={(e) => setFilter('sort', e.target.value)}>
            <option value="">newest first</option>
            <option value="risk">by staking risk (most at risk first)</option>
          </select>
        </div>
        <div className="field grow">
          <label htmlFor="f-search">Name or NodeID</label>
          <input
            id="f-search"
            type="search"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
          />
        </div>
      </form>

      {list.error && !list.data ? (
        <ErrorBox error={list.error} retry={list.reload} />
      ) : !list.data ? (
        <Loading what="validators" />
      ) : rows.length === 0 ? (
        list.data.items.length === 0 && !state && !zone && !network ? (
          <Empty title="No validators yet">
            <Link to="/launch">Launch a validator</Link> and it appears here within seconds.
          </Empty>
        ) : (
          <Empty title="No validator matches these filters" />
        )
      ) : (
        <div className="table-wrap" tabIndex={0} role="region" aria-labelledby="validators-caption">
          <table className="validators stack" role="table">
            <caption id="validators-caption">
              {rows.length} validator{rows.length === 1 ? '' : 's'}
              {list.data.truncated ? ' (first 2,000 only)' : ''}
              {sort === 'risk' ? ', most at risk first' : ''}
            </caption>
            <HeaderRow
              columns={[
                'Name',
                'State',
                'Zone',
                'NodeID',
                'Health',
                'Staking risk',
                'Uptime',
                'Created',
              ]}
            />
            <tbody role="rowgroup">
              {rows.map((v) => (
                <tr key={v.id} role="row" data-validator={v.id} data-state={v.state}>
                  <th scope="row" role="rowheader">
                    <Link to={`/validators/${v.id}`}>{v.name}</Link>
                    <span className="muted-text block">{v.network}</span>
                  </th>
                  <td role="cell" data-label="State">
                    <Badge value={v.state} />
                    {v.protected ? <span className="tag">protected</span> : null}
                  </td>
                  <td role="cell" data-label="Zone" className="zone-cell">
                    {v.state === 'retired' ? (
                      <span className="muted-text">none — retired</span>
                    ) : (
                      (v.zone ?? <span className="muted-text">not placed</span>)
                    )}
                  </td>
                  <td role="cell" data-label="NodeID" className="nodeid">
                    {v.nodeId ? (
                      <Copyable value={v.nodeId} label={`NodeID of ${v.name}`} />
                    ) : (
                      <Unknown>— identity being generated</Unknown>
                    )}
                  </td>
                  <td role="cell" data-label="Health">
                    <HealthCell v={v} events={feed.events} now={now} />
                  </td>
                  <td role="cell" data-label="Staking risk">
                    <StakingRiskCell s={v.staking} now={now} />
                  </td>
                  <td role="cell" data-label="Uptime">
                    <Uptime v={v} now={now} />
                  </td>
                  <td role="cell" data-label="Created">
                    <Ago iso={v.createdAt} now={now} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

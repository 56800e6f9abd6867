import { allPages, client, read, type Incident, type SnowEvent, type Validator } from '../api';
import { useLive, useNow, useResource } from '../live';
import { Link, usePageTitle } from '../router';
import { Ago, Badge, Empty, ErrorBox, fmtAge, Loading, secondsSince } from '../ui';
import { EventList } from './overview';

const refresh = (e: SnowEvent) =>
  e.type.startsWith('incident.') || e.type.startsWith('zone.') || e.type.startsWith('failover.');

function IncidentCard({
  i,
  names,
  events,
  now,
}: {
  i: Incident;
  names: Map<string, Validator>;
  events: SnowEvent[];
  now: number;
}) {
  const from = new Date(i.openedAt).getTime() - 60_000;
  const to = i.closedAt ? new Date(i.closedAt).getTime() + 5_000 : Infinity;
  const affected = new Set(i.affectedValidators);
  const timeline = events
    .filter((e) => {
      const t = new Date(e.createdAt).getTime();
      if (t < from || t > to) return false;
      if (e.validatorId && affected.has(e.validatorId)) return true;
      return i.zone !== null && e.zone === i.zone && !e.type.startsWith('host.');
    })
    .reverse();
  const h = `incident-${i.id}-h`;
  return (
    <article
      className={`card incident incident-${i.status}`}
      id={`incident-${i.id}`}
      aria-labelledby={h}
      data-zone={i.zone ?? ''}
    >
      <header>
        <h3 id={h}>
          {i.zone ?? 'Control plane'} · {i.kind}
        </h3>
        <span>
          <Badge value={i.status} />{' '}
          <Badge value={i.severity === 'critical' ? 'dark' : 'impaired'} label={i.severity} />
        </span>
      </header>
      <p>{i.summary}</p>
      <p className="small">
        Opened <Ago iso={i.openedAt} now={now} />
        {i.closedAt ? (
          <>
            , closed <Ago iso={i.closedAt} now={now} /> (lasted{' '}
            {fmtAge((new Date(i.closedAt).getTime() - new Date(i.openedAt).getTime()) / 1000)})
          </>
        ) : (
          <>, open for {fmtAge(secondsSince(i.openedAt, now))}</>
        )}
      </p>
      <h4>Affected validators</h4>
      {i.affectedValidators.length === 0 ? (
        <p className="small">None of this project’s validators.</p>
      ) : (
        <ul className="affected">
          {i.affectedValidators.map((id) => {
            const v = names.get(id);
            return (
              <li key={id}>
                <Link to={`/validators/${id}`}>{v?.name ?? id}</Link>{' '}
                {v ? (
                  <>
                    <Badge value={v.state} />{' '}
                    {v.zone ? <span className="small">now in {v.zone}</span> : null}
                  </>
                ) : null}
              </li>
            );
          })}
        </ul>
      )}
      <details>
        <summary>Timeline ({timeline.length} events)</summary>
        <EventList events={timeline} now={now} />
      </details>
    </article>
  );
}

export function Incidents() {
  usePageTitle('Incidents');
  const now = useNow();
  const feed = useLive();
  const open = useResource(
    (signal) =>
      read(client.GET('/v1/incidents', { params: { query: { status: 'open' } }, signal })),
    [],
    {
      refreshOn: refresh,
    },
  );
  const past = useResource(
    (signal) =>
      read(
        client.GET('/v1/incidents', {
          params: { query: { status: 'closed', limit: 50 } },
          signal,
        }),
      ),
    [],
    { refreshOn: refresh },
  );
  const validators = useResource(
    (signal) =>
      allPages(
        (cursor) =>
          client.GET('/v1/validators', { params: { query: { limit: 100, cursor } }, signal }),
        10,
      ),
    [],
    {
      refreshOn: (e) => e.validatorId !== null,
    },
  );
  const names = new Map((validators.data?.items ?? []).map((v) => [v.id, v]));

  const list = (r: typeof open, emptyTitle: string, emptyText: string) =>
    r.error && !r.data ? (
      <ErrorBox error={r.error} retry={r.reload} />
    ) : !r.data ? (
      <Loading what="incidents" />
    ) : r.data.items.length === 0 ? (
      <Empty title={emptyTitle}>{emptyText}</Empty>
    ) : (
      <div className="grid incidents">
        {r.data.items.map((i) => (
          <IncidentCard key={i.id} i={i} names={names} events={feed.events} now={now} />
        ))}
      </div>
    );

  return (
    <section>
      <h1 tabIndex={-1}>Incidents</h1>
      <p className="small">
        Snowline opens an incident when enough of a zone’s hosts look unhealthy, stops placing
        there, and moves affected validators to standbys in other zones.
      </p>
      <section aria-labelledby="open-h">
        <h2 id="open-h">Open</h2>
        {list(open, 'No open incidents', 'Every observed zone is healthy.')}
      </section>
      <section aria-labelledby="past-h">
        <h2 id="past-h">Past</h2>
        {list(past, 'No past incidents', 'Closed incidents are listed here.')}
      </section>
    </section>
  );
}

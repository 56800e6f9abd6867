import { Fragment } from 'react';
import { allPages, client, read, VALIDATOR_STATES, type SnowEvent, type Zone } from '../api';
import { uniqueById, useLive, useNow, useResource } from '../live';
import { Link, usePageTitle } from '../router';
import { Ago, Badge, Empty, ErrorBox, fmtAge, Loading, Num, Unknown } from '../ui';

/** An observation older than this is shown as unknown, with its age: it is no longer current. */
export const STALE_AFTER_SECONDS = 60;

const zoneEvent = (e: SnowEvent) =>
  e.zone !== null ||
  e.type.startsWith('zone.') ||
  e.type.startsWith('incident.') ||
  e.type.startsWith('host.') ||
  e.type.startsWith('standby.') ||
  e.type.startsWith('failover.');

export function ZoneCard({ zone, fetchedAt, now }: { zone: Zone; fetchedAt: number; now: number }) {
  const age =
    zone.observedAgeSeconds === null
      ? null
      : zone.observedAgeSeconds + Math.max(0, (now - fetchedAt) / 1000);
  const stale = age !== null && age > STALE_AFTER_SECONDS;
  const shown = zone.status === 'unknown' || stale ? 'unknown' : zone.status;
  const headingId = `zone-${zone.id}`;
  return (
    <article className={`card zone zone-${shown}`} aria-labelledby={headingId} data-zone={zone.id}>
      <header>
        <h3 id={headingId}>{zone.id}</h3>
        <Badge value={shown} />
      </header>
      <p className="observed">
        {age === null ? (
          <Unknown>— never observed by the health loop</Unknown>
        ) : stale ? (
          <>
            Last known <strong>{zone.status}</strong>, observed {fmtAge(age)} ago
          </>
        ) : (
          <>Observed {fmtAge(age)} ago</>
        )}
      </p>
      {zone.reason && shown !== 'healthy' ? <p className="reason">{zone.reason}</p> : null}
      <dl className="facts">
        <div>
          <dt>Hosts</dt>
          <dd>
            <Num value={zone.hosts} />
            {zone.unhealthyHosts ? (
              <span className="warn-text"> ({zone.unhealthyHosts} unhealthy)</span>
            ) : null}
          </dd>
        </div>
        <div>
          <dt>Standbys</dt>
          <dd>
            <Num value={zone.standbys} />
          </dd>
        </div>
        <div>
          <dt>Your validators</dt>
          <dd>{zone.validators}</dd>
        </div>
        <div>
          <dt>Placement</dt>
          <dd>
            {zone.placementAllowed === null ? (
              <Unknown />
            ) : zone.placementAllowed ? (
              'allowed'
            ) : (
              'stopped'
            )}
          </dd>
        </div>
        <div>
          <dt>Stock</dt>
          <dd>
            {Object.keys(zone.stock).length === 0
              ? 'no hints'
              : Object.entries(zone.stock)
                  .map(([k, v]) => `${k}: ${v}`)
                  .join(', ')}
          </dd>
        </div>
        <div>
          <dt>Incident</dt>
          <dd>
            {zone.openIncidentId ? (
              <Link to={`/incidents#incident-${zone.openIncidentId}`} className="incident-link">
                open incident
              </Link>
            ) : (
              'none open'
            )}
          </dd>
        </div>
      </dl>
    </article>
  );
}

/** An event type that may wrap only after its `.` and `_` (validator.identity_<wbr>generated). */
function breakable(type: string) {
  return type.split(/(?<=[._])/).map((part, i) => (
    <Fragment key={i}>
      {i ? <wbr /> : null}
      {part}
    </Fragment>
  ));
}

export function EventList({
  events,
  now,
  linkValidators = true,
}: {
  events: SnowEvent[];
  now: number;
  /** Off on a validator's own page, where every event would link to itself. */
  linkValidators?: boolean;
}) {
  if (events.length === 0)
    return <Empty title="No events yet">Events appear here as they happen.</Empty>;
  return (
    <ol className="events">
      {uniqueById(events).map((e) => (
        <li key={e.id} data-type={e.type} data-event-id={e.id}>
          <span className="event-type">{breakable(e.type)}</span>
          <span className="event-message">
            {e.message}
            {e.validatorId && linkValidators ? (
              <Link
                className="event-link"
                to={`/validators/${e.validatorId}`}
                aria-label={`Open the validator of: ${e.message}`}
              >
                validator
              </Link>
            ) : null}
          </span>
          <span className="event-age">
            <Ago iso={e.createdAt} now={now} />
          </span>
        </li>
      ))}
    </ol>
  );
}

export function Overview() {
  usePageTitle('Overview');
  const now = useNow();
  const feed = useLive();
  const zones = useResource((signal) => read(client.GET('/v1/zones', { signal })), [], {
    refreshOn: zoneEvent,
    pollMs: 5000,
  });
  const validators = useResource(
    (signal) =>
      allPages((cursor) =>
        client.GET('/v1/validators', { params: { query: { limit: 100, cursor } }, signal }),
      ),
    [],
    { refreshOn: (e) => e.validatorId !== null || e.type.startsWith('failover.') },
  );
  const recent = feed.events.slice(-15).reverse();
  const counts = new Map<string, number>();
  for (const v of validators.data?.items ?? []) counts.set(v.state, (counts.get(v.state) ?? 0) + 1);

  return (
    <section>
      <h1 tabIndex={-1}>Overview</h1>
      <section aria-labelledby="zones-h">
        <h2 id="zones-h">Zones</h2>
        {zones.error && !zones.data ? (
          <ErrorBox error={zones.error} retry={zones.reload} />
        ) : !zones.data ? (
          <Loading what="zones" />
        ) : zones.data.items.length === 0 ? (
          <Empty title="No zones configured">Set CLOUD_ZONES on the control plane.</Empty>
        ) : (
          <div className="grid zones">
            {zones.data.items.map((z) => (
              <ZoneCard key={z.id} zone={z} fetchedAt={zones.fetchedAt} now={now} />
            ))}
          </div>
        )}
        {zones.error && zones.data ? (
          <p className="warn-text" role="alert">
            Could not refresh zones ({zones.error.message}); showing data from{' '}
            {fmtAge((now - zones.fetchedAt) / 1000)} ago.
          </p>
        ) : null}
      </section>

      <div className="two-col">
        <section aria-labelledby="states-h">
          <h2 id="states-h">Validators by state</h2>
          {validators.error && !validators.data ? (
            <ErrorBox error={validators.error} retry={validators.reload} />
          ) : !validators.data ? (
            <Loading what="validators" />
          ) : validators.data.items.length === 0 ? (
            <Empty title="No validators yet">
              <Link to="/launch">Launch your first validator</Link>.
            </Empty>
          ) : (
            <ul className="state-counts">
              {VALIDATOR_STATES.filter((s) => counts.has(s)).map((s) => (
                <li key={s}>
                  <Link
                    to={`/validators?state=${s}`}
                    aria-label={`${counts.get(s)} ${s.replace('_', ' ')}`}
                  >
                    <span className="count">{counts.get(s)}</span> <Badge value={s} />
                  </Link>
                </li>
              ))}
              <li className="total">
                {validators.data.items.length}
                {validators.data.truncated ? '+' : ''} in all
              </li>
            </ul>
          )}
        </section>

        <section aria-labelledby="events-h">
          <h2 id="events-h">Recent events</h2>
          {feed.status === 'connecting' && feed.events.length === 0 ? (
            <Loading what="events" />
          ) : (
            <EventList events={recent} now={now} />
          )}
        </section>
      </div>
    </section>
  );
}

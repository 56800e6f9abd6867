import { client, read } from './api';
import { useNow, useResource } from './live';
import { Link } from './router';

const DAY = 86_400_000;

/** "in 3 days", "in 5 hours", "in 12 minutes" until an instant (never a negative). */
export function until(iso: string, now: number): string {
  const ms = Math.max(0, Date.parse(iso) - now);
  if (ms >= 2 * DAY) return `in ${Math.floor(ms / DAY)} days`;
  if (ms >= 2 * 3_600_000) return `in ${Math.floor(ms / 3_600_000)} hours`;
  return `in ${Math.max(1, Math.ceil(ms / 60_000))} minutes`;
}

/** `2026-09-22 15:00 UTC`. */
export const utcMinute = (iso: string) =>
  `${new Date(iso).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/**
 * The deadline banner, on every page: a network upgrade within UPGRADE_WARNING_DAYS that some of the
 * project's validators will not survive, which ones and why. Validators whose running version is
 * unknown are counted as unknown, never as safe. Refreshed by the warning events and every minute.
 */
export function UpgradeBanner() {
  const now = useNow(30_000);
  const upgrades = useResource(
    (signal) => read(client.GET('/v1/network-upgrades', { signal })),
    [],
    {
      refreshOn: (e) => e.type === 'version.upgrade_required' || e.type.startsWith('validator.'),
      pollMs: 60_000,
    },
  );
  const due = (upgrades.data?.items ?? []).filter(
    (u) => u.warning && u.validatorsAtRisk.length > 0,
  );
  if (!due.length) return null;
  return (
    <section className="banner banner-warn" aria-label="Network upgrade deadline">
      {due.map((u) => (
        <div key={`${u.network}/${u.name}`}>
          <p>
            <strong>
              {u.name} activates on {u.network} {until(u.activatesAt, now)}
            </strong>{' '}
            (<time dateTime={u.activatesAt}>{utcMinute(u.activatesAt)}</time>) and needs AvalancheGo{' '}
            {u.minVersion} or later.{' '}
            {u.validatorsAtRisk.length === 1
              ? '1 validator will not survive it'
              : `${u.validatorsAtRisk.length} validators will not survive it`}
            : a node below the minimum stops validating at activation.
            {u.validatorsUnknown ? ` ${u.validatorsUnknown} more run a version not known yet.` : ''}
          </p>
          <ul>
            {u.validatorsAtRisk.slice(0, 10).map((v) => (
              <li key={v.id}>
                <Link to={`/validators/${v.id}`}>{v.name}</Link>:{' '}
                {v.cause === 'spec'
                  ? `its spec names ${v.version}`
                  : `it runs ${v.runningVersion} (its spec asks for ${v.version})`}
              </li>
            ))}
            {u.validatorsAtRisk.length > 10 ? (
              <li>and {u.validatorsAtRisk.length - 10} more</li>
            ) : null}
          </ul>
        </div>
      ))}
    </section>
  );
}

import { parseUtcWindow } from '@snowline/domain';
import type { FailoverService } from '../../apps/worker/src/failover/failover.service';
import { RolloutLoop } from '../../apps/worker/src/upgrade/rollout-loop.service';
import { startApiApp, type ApiApp } from '../support/api-app';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test bodies

const DAY = 86_400_000;

/**
 * `upgrade: before-deadline` (issue 23, point 4): with a test activation three days out needing
 * 1.15.3, inside UPGRADE_AUTO_DAYS, the rollout loop gives each such validator on 1.15.2 a version
 * that survives it (the fleet default 1.15.3), once, with an `upgrade.scheduled` event; a manual one
 * is left as it is (it is only warned), and nothing happens outside the daily window.
 */
describe('before-deadline upgrades', () => {
  let h: ApiApp;
  let t: { projectId: string; key: string };
  const activation = new Date(Math.ceil((Date.now() + 3 * DAY) / 1000) * 1000);
  const loop = (window = '') =>
    new RolloutLoop(
      h.repos,
      // schedule() never moves anything; the planned moves are the rollout's round (the e2e).
      {} as FailoverService,
      {
        ...h.config,
        avalanchego: { ...h.config.avalanchego, window: parseUtcWindow(window) },
      },
    );

  const create = async (name: string, upgrade: string) => {
    const r = await h.api('/v1/validators', {
      method: 'POST',
      key: t.key,
      json: { network: 'fuji', name, version: '1.15.2', upgrade },
    });
    expect(r.status).toBe(202);
    return ((await r.json()) as Json).id as string;
  };
  const get = async (id: string) =>
    (await (await h.api(`/v1/validators/${id}`, { key: t.key })).json()) as Json;
  const scheduled = async (id: string) =>
    (
      (await h.repos.ds.query(
        `SELECT data FROM events WHERE validator_id = $1 AND type = 'upgrade.scheduled'`,
        [id],
      )) as { data: Json }[]
    ).map((e) => e.data);

  beforeAll(async () => {
    h = await startApiApp('rollout_schedule', {
      NETWORK_UPGRADES: `fuji/Testicon/${activation.toISOString()}/1.15.3`,
      AVALANCHEGO_VERSION: '1.15.3',
      UPGRADE_AUTO_DAYS: '7',
    });
    t = await h.tenant('rollout', ['admin']);
  }, 60_000);
  afterAll(async () => h?.stop());

  it('should give a before-deadline validator a surviving version once, and leave a manual one', async () => {
    const auto = await create('auto', 'before-deadline');
    const manual = await create('manual', 'manual');
    // Outside the daily window: nothing yet.
    const now = Date.now();
    const hour = new Date(now).getUTCHours();
    const closed = `${String((hour + 2) % 24).padStart(2, '0')}:00-${String((hour + 3) % 24).padStart(2, '0')}:00`;
    expect(await loop(closed).schedule(now)).toBe(0);
    expect((await get(auto)).version).toBe('1.15.2');

    expect(await loop().schedule(now)).toBe(1);
    expect(await loop().schedule(now)).toBe(0); // once: it now survives
    expect((await get(auto)).version).toBe('1.15.3');
    expect((await get(manual)).version).toBe('1.15.2');
    expect(await scheduled(auto)).toEqual([
      {
        fromVersion: '1.15.2',
        toVersion: '1.15.3',
        upgrade: 'Testicon',
        deadline: activation.toISOString(),
      },
    ]);
    expect(await scheduled(manual)).toEqual([]);
  });
});

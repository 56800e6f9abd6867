import { createHash } from 'node:crypto';
import { SIM_RELEASES } from '@snowline/config';
import { simulatedRelease } from '../../apps/ecs-sim/src/releases';
import { watchDowntime, watchDuplicates } from '../../scripts/support/ground-truth';
import { FAST_CLOCKS, validatorEvents } from '../support/e2e';
import { startStack, waitFor, type Stack } from '../support/stack';

jest.setTimeout(300_000);

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test bodies

/** 1.15.4 is a bad build in this run: its nodes start but never bootstrap (SIM_BROKEN_RELEASES). */
const BAD = '1.15.4';
const sha = (v: string) => createHash('sha256').update(simulatedRelease(v)).digest('hex');

/**
 * A rolling upgrade end to end (issue 23): three validators on 1.15.2 move one by one per zone onto
 * upgraded standbys through planned moves — the old agent stops its node and acknowledges, the keys
 * move on the acknowledgment — with their downtime measured on the simulator's nodes and no NodeID
 * ever running twice. Then a rollout to a bad build: the first move's new node never comes up by the
 * deadline, so it moves back onto 1.15.3 and the rollout halts: the next validator asked for the bad
 * build stays where it is.
 */
describe('rolling upgrade end to end', () => {
  let stack: Stack | undefined;
  afterAll(async () => stack?.stop());

  const get = async (id: string) =>
    (await (await stack!.api(`/v1/validators/${id}`)).json()) as Json;
  const types = async (id: string) => (await validatorEvents(stack!, id)).map((e) => e.type);
  const patch = async (id: string, version: string) => {
    const r = await stack!.api(`/v1/validators/${id}`, { method: 'PATCH', json: { version } });
    expect(r.status).toBe(200);
  };

  it('should roll three validators to 1.15.3 via standbys, then roll a bad build back and halt', async () => {
    stack = await startStack('rolling-upgrade', {
      ...FAST_CLOCKS,
      STANDBY_POOL: 'fuji=1',
      AVALANCHEGO_VERSION: '1.15.2',
      AVALANCHEGO_RELEASES: `${SIM_RELEASES},${BAD}=${sha(BAD)}`,
      SIM_BROKEN_RELEASES: BAD,
      UPGRADE_MAX_IN_FLIGHT_PER_ZONE: '1',
      UPGRADE_MOVE_DEADLINE_SECONDS: '12',
    });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await stack.api('/v1/validators', {
        method: 'POST',
        json: { network: 'fuji', name: `roll-${i}` },
      });
      expect(r.status).toBe(202);
      ids.push(((await r.json()) as Json).id as string);
    }
    const before = await waitFor(
      'three validators active on 1.15.2',
      async () => {
        const vs = await Promise.all(ids.map(get));
        return vs.every((v) => v.state === 'active' && v.runningVersion === '1.15.2')
          ? vs
          : undefined;
      },
      90_000,
      300,
    );
    const dups = watchDuplicates(stack.simUrl, 200);
    const down = watchDowntime(stack.simUrl, 200);

    // The first rollout: every validator asked for 1.15.3.
    for (const id of ids) await patch(id, '1.15.3');
    const after = await waitFor(
      'all three running 1.15.3, active',
      async () => {
        const vs = await Promise.all(ids.map(get));
        return vs.every((v) => v.state === 'active' && v.runningVersion === '1.15.3')
          ? vs
          : undefined;
      },
      150_000,
      300,
    ).catch(async (err: Error) => {
      throw new Error(
        `${err.message}\n${JSON.stringify(await Promise.all(ids.map(get)))}\nworker: ${stack!.logs.worker!.slice(-30).join('\n')}`,
      );
    });
    for (const [i, v] of after.entries()) {
      // Moved, not restarted in place: another instance, a new generation.
      expect(v.instanceId).not.toBe(before[i]!.instanceId);
      expect(v.generation).toBeGreaterThan(before[i]!.generation);
      const t = await types(v.id as string);
      expect(t).toEqual(
        expect.arrayContaining(['upgrade.started', 'host.stop_acknowledged', 'upgrade.completed']),
      );
      expect(t).not.toContain('failover.started');
    }
    // Standbys' throwaway identities come and go; the validators' NodeIDs are what must stay up.
    const downtimeOf = () => before.map((v) => down.downtimeMs().get(v.nodeId as string));
    const firstDowntime = downtimeOf();
    expect(firstDowntime.every((ms) => ms !== undefined)).toBe(true);
    // The keys moved on the acknowledgment, not on the old lease (TTL 6 s + margin 1 s): seconds.
    for (const ms of firstDowntime) expect(ms).toBeLessThan(10_000);
    process.stderr.write(
      `rolling upgrade downtime (ms, ground truth): ${firstDowntime.join(', ')}\n`,
    );

    // The second rollout: roll-0 asked for the bad build. Its move rolls back; the rollout halts.
    down.reset();
    await patch(ids[0]!, BAD);
    const rolled = await waitFor(
      'the bad upgrade to roll back',
      async () => ((await types(ids[0]!)).includes('upgrade.rolled_back') ? true : undefined),
      90_000,
      300,
    );
    expect(rolled).toBe(true);
    await patch(ids[1]!, BAD); // asked for a halted version: it must not move
    const back = await waitFor(
      'roll-0 back on 1.15.3, active',
      async () => {
        const v = await get(ids[0]!);
        return v.state === 'active' && v.runningVersion === '1.15.3' ? v : undefined;
      },
      90_000,
      300,
    );
    expect(back.version).toBe('1.15.3'); // its spec went back to the version it left
    const events = await validatorEvents(stack, ids[0]!);
    expect(events.find((e) => e.type === 'upgrade.rolled_back')!.data).toMatchObject({
      fromVersion: BAD,
      toVersion: '1.15.3',
    });
    await new Promise((r) => setTimeout(r, 4_000)); // four rollout rounds
    const held = await get(ids[1]!);
    expect(held).toMatchObject({ version: BAD, runningVersion: '1.15.3', state: 'active' });
    expect(held.instanceId).toBe(after[1]!.instanceId);
    expect((await types(ids[1]!)).filter((t) => t === 'upgrade.started')).toHaveLength(1);

    dups.stop();
    down.stop();
    expect(dups.samples()).toBeGreaterThan(20);
    expect([...dups.duplicated]).toEqual([]);
  });
});

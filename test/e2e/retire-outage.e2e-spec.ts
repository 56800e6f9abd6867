import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { watchDuplicates } from '../../scripts/support/ground-truth';
import { runCli } from '../support/cli';
import {
  FAST_CLOCKS,
  getValidator,
  injectFault,
  validatorEvents,
  type ValidatorView,
} from '../support/e2e';
import { startStack, waitFor, type Stack } from '../support/stack';

jest.setTimeout(300_000);

const RECONCILE_S = 3;
const FAST = {
  ...FAST_CLOCKS,
  RECONCILE_INTERVAL_SECONDS: String(RECONCILE_S),
  STANDBY_POOL: 'fuji=0',
};

type V = ValidatorView;
interface HostRow {
  instanceId: string | null;
  zone: string;
  status: string;
  deletedAt: string | null;
  deletionPending: boolean;
}
/**
 * Issue 17: retiring a validator while the zone of one of its old instances is dark completes once
 * the identity is fenced and every reachable instance is deleted; the unreachable one is "deletion
 * pending" until its zone returns, then the reaper deletes it. Over REST and through the CLI.
 */
describe('retire during a zone outage', () => {
  let stack: Stack;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    stack = await startStack('retire-outage', FAST);
    dir = mkdtempSync(join(tmpdir(), 'snowline-retire-e2e-'));
    env = {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      NO_COLOR: '1',
      SNOWLINE_URL: stack.apiUrl,
      SNOWLINE_API_KEY: stack.adminKey,
    };
  });
  afterAll(async () => {
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const get = (id: string) => getValidator(stack, id);
  const hosts = async (id: string) =>
    ((await (await stack.api(`/v1/validators/${id}/hosts`)).json()) as { items: HostRow[] }).items;
  const events = (id: string) => validatorEvents(stack, id);
  const byName = async (name: string) =>
    ((await (await stack.api('/v1/validators?limit=100')).json()) as { items: V[] }).items.find(
      (v) => v.name === name && v.state !== 'retired',
    );
  let last: V | null = null;
  const activeOn = (id: string, not?: string[]) =>
    waitFor(
      `validator ${id} active${not ? ` outside ${not.join(', ')}` : ''}`,
      async () => {
        const v = await get(id);
        last = v;
        if (v.state === 'failed') throw new Error(`failed: ${JSON.stringify(v)}`);
        return v.state === 'active' && (!not || !not.includes(v.zone!)) ? v : undefined;
      },
      120_000,
      300,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last seen ${JSON.stringify(last)}`);
    });
  const fault = (body: object) => injectFault(stack, body);

  it('should retire at once with the dark instance pending deletion, then reap it when the zone returns', async () => {
    const dup = watchDuplicates(stack.simUrl, 250);
    try {
      // One validator from snowline.yaml, then one over REST (an apply retires what the file
      // does not name, so the file goes first).
      const file = join(dir, 'snowline.yaml');
      writeFileSync(
        file,
        ['version: 1', 'validators:', '  file-1:', '    network: fuji', ''].join('\n'),
      );
      const applied = await runCli(['apply', '--auto-approve'], dir, env);
      expect({ code: applied.code, err: applied.err }).toEqual({ code: 0, err: '' });
      const fileId = (await byName('file-1'))!.id;
      const res = await stack.api('/v1/validators', {
        method: 'POST',
        json: { network: 'fuji', name: 'rest-1' },
      });
      expect(res.status).toBe(202);
      const restId = ((await res.json()) as V).id;
      const before = [await activeOn(restId), await activeOn(fileId)];

      // Their zones go dark (one or two of the three): both move to a zone still lit.
      const dark = [...new Set(before.map((v) => v.zone!))];
      const faultIds: string[] = [];
      for (const zone of dark) faultIds.push(await fault({ kind: 'zone-power-loss', zone }));
      const [rest, fileV] = [await activeOn(restId, dark), await activeOn(fileId, dark)];
      expect(rest.instanceId).not.toBe(before[0]!.instanceId);
      expect(fileV.instanceId).not.toBe(before[1]!.instanceId);

      // 1. Retire over REST: retired within one reconcile interval (plus the retire itself).
      const retireAt = Date.now();
      expect((await stack.api(`/v1/validators/${restId}`, { method: 'DELETE' })).status).toBe(202);
      await waitFor(
        'rest-1 retired',
        async () => ((await get(restId)).state === 'retired' ? true : undefined),
        (RECONCILE_S + 10) * 1000,
        250,
      );
      expect(Date.now() - retireAt).toBeLessThan((RECONCILE_S + 10) * 1000);
      const old = before[0]!.instanceId!;
      expect(await hosts(restId)).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ instanceId: old, deletionPending: true, deletedAt: null }),
          expect.objectContaining({
            instanceId: rest.instanceId,
            deletionPending: false,
            deletedAt: expect.any(String),
          }),
        ]),
      );
      const retired = (await events(restId)).find((e) => e.type === 'validator.retired')!;
      expect(retired.message).toContain(`Deletion pending for ${old} (${before[0]!.zone})`);
      expect(retired.data).toEqual(
        expect.objectContaining({
          deleted: [rest.instanceId],
          pendingDeletion: [expect.objectContaining({ instanceId: old })],
        }),
      );

      // 2. Through a plan: destroy the file's validator; the CLI exits 0 and names what is pending.
      const destroyed = await runCli(['destroy', '--auto-approve', '--timeout', '60'], dir, env);
      expect(destroyed.code).toBe(0);
      expect(destroyed.err).toContain(
        `Warning: file-1 is retired, but deletion is pending for ${before[1]!.instanceId} (${before[1]!.zone})`,
      );
      expect((await get(fileId)).state).toBe('retired');
      // The apply lock is released: a new plan can be made at once.
      const plan = await runCli(['plan'], dir, env);
      expect(plan.code).toBe(0);

      // 3. The zones return: the reaper deletes the pending instances.
      for (const id of faultIds)
        expect(
          (await fetch(`${stack.simUrl}/_sim/faults/${id}`, { method: 'DELETE' })).status,
        ).toBeLessThan(300);
      for (const [id, inst] of [
        [restId, old],
        [fileId, before[1]!.instanceId!],
      ] as const) {
        await waitFor(
          `${inst} reaped`,
          async () => {
            const h = (await hosts(id)).find((x) => x.instanceId === inst);
            const reaped = (await events(id)).some(
              (e) => e.type === 'host.reaped' && e.message.includes(inst),
            );
            return h && h.deletedAt && !h.deletionPending && reaped ? true : undefined;
          },
          60_000,
          500,
        );
      }
      const state = (await (await fetch(`${stack.simUrl}/_sim/nodes`)).json()) as {
        instanceId: string;
      }[];
      expect(state.map((n) => n.instanceId)).not.toContain(old);
      expect(dup.samples()).toBeGreaterThan(20);
      expect([...dup.duplicated]).toEqual([]);
    } finally {
      dup.stop();
    }
  });

  it('should bound the CLI wait: past --timeout it names what is in progress and exits 1', async () => {
    writeFileSync(
      join(dir, 'snowline.yaml'),
      ['version: 1', 'validators:', '  slow-1:', '    network: fuji', ''].join('\n'),
    );
    const run = await runCli(['apply', '--auto-approve', '--timeout', '1'], dir, env);
    expect(run.code).toBe(1);
    expect(run.err).toMatch(
      /Gave up waiting after 1 s; still in progress: slow-1 \(create[^)]*\)\. The apply goes on/,
    );
    const bad = await runCli(['apply', '--auto-approve', '--timeout', 'soon'], dir, env);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('--timeout: a number of seconds > 0, got "soon"');
  });
});

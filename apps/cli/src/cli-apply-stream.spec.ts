import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { diffValidators, hasChanges, summarize, summarizeConfig } from '@snowline/domain';
import { EXIT, run, type Io } from './cli';
import type { PlanBody } from './render';

/**
 * `snowline apply` follows progress on the event stream but takes its outcome from the plan. A stream
 * that drops mid-apply (a proxy, a restarted API replica) must not turn a successful apply into an
 * unhandled rejection and exit 1. A loopback stand-in for the API answers the three calls apply makes.
 */
describe('snowline apply when the event stream drops', () => {
  const PLAN_ID = '3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b';
  const VALIDATOR = '00000000-0000-4000-8000-000000000001';
  let server: Server;
  let url: string;
  let polls = 0;

  const actions = diffValidators({
    mode: 'apply',
    desired: [{ name: 'fuji-a', network: 'fuji' }],
    current: [],
    defaultInstanceType: 'ecs.g7.2xlarge',
  });
  const plan = (status: PlanBody['status'], outcome: 'pending' | 'done'): PlanBody => ({
    id: PLAN_ID,
    mode: 'apply',
    status,
    serial: 1,
    changes: hasChanges(actions),
    summary: summarize(actions),
    // The JSON the API sends, read by its declared type.
    actions: JSON.parse(JSON.stringify(actions)) as PlanBody['actions'],
    unmanagedValidators: [],
    webhooks: null,
    unmanagedWebhooks: [],
    webhooksHidden: false,
    standbyPools: null,
    configSummary: summarizeConfig([], []),
    results: [{ name: 'fuji-a', action: 'create', validatorId: VALIDATOR, outcome }],
    createdAt: '2025-11-26T10:00:00.000Z',
    appliedAt: null,
    settledAt: null,
  });

  beforeAll(async () => {
    server = createServer((req, res) => {
      const send = (body: unknown) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.url === '/v1/events/stream') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`id: 1\ndata: ${JSON.stringify({ type: 'plan.applying', message: 'go' })}\n\n`);
        // Then the connection dies without a proper end of the chunked body.
        setTimeout(() => res.socket?.destroy(), 200);
        return;
      }
      if (req.method === 'POST' && req.url === `/v1/plans/${PLAN_ID}/apply`) {
        req.resume();
        return send(plan('applying', 'pending'));
      }
      if (req.url === `/v1/plans/${PLAN_ID}`) {
        // planned (before apply), then applying for a poll that outlives the stream, then applied
        polls++;
        if (polls === 1) return send(plan('planned', 'pending'));
        return send(polls < 3 ? plan('applying', 'pending') : plan('applied', 'done'));
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => server.close());

  it('should exit 0 with the apply results, not crash on the dropped stream', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const io: Io = {
        out: (s) => out.push(s),
        err: (s) => err.push(s),
        env: {
          SNOWLINE_URL: url,
          SNOWLINE_API_KEY: 'sl_test_key_for_a_fake_api_0123',
          NO_COLOR: '1',
        },
        stdoutIsTTY: false,
        stdinIsTTY: false,
        readLine: () => Promise.resolve(''),
      };
      const code = await run(['apply', '--plan', PLAN_ID, '--auto-approve'], io);
      await new Promise((r) => setImmediate(r));
      expect({ code, err: err.join(''), unhandled }).toEqual({
        code: EXIT.ok,
        err: '',
        unhandled: [],
      });
      expect(out.join('')).toContain('Apply complete');
      expect(polls).toBeGreaterThanOrEqual(3);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  }, 20_000);
});

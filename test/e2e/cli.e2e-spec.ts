import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SIGNATURE_HEADER, verifySignature } from '../../apps/api/src/webhooks/signature';
import { runCli, type CliRun } from '../support/cli';
import { startStack, waitFor, type Stack } from '../support/stack';

jest.setTimeout(300_000);

interface Plan {
  changes: boolean;
  actions: { action: string; name: string }[];
  webhooks: { action: string; name: string; reason: string; changes: unknown[] }[] | null;
  standbyPools: unknown[] | null;
}
/** A plan without its id and serial: what two files that mean the same must share. */
const shape = (p: Plan) => ({
  changes: p.changes,
  actions: p.actions,
  webhooks: p.webhooks,
  standbyPools: p.standbyPools,
});

type Run = CliRun;

describe('snowline CLI against the running stack', () => {
  let stack: Stack;
  let dir: string;
  let file: string;
  let env: Record<string, string>;

  const cli = (args: string[], extraEnv: Record<string, string> = {}): Promise<Run> =>
    runCli(args, dir, { ...env, ...extraEnv });
  const write = (text: string) => writeFileSync(file, text);
  const validators = async () =>
    (
      (await (await stack.api('/v1/validators?limit=100')).json()) as {
        items: { id: string; name: string; state: string; labels: Record<string, string> }[];
      }
    ).items;
  const yaml = (opts: { team: string; protect: boolean; extra?: boolean }) =>
    [
      'version: 1',
      'validators:',
      '  fuji-a:',
      '    network: fuji',
      '    labels:',
      `      team: ${opts.team}`,
      ...(opts.protect ? ['    prevent_destroy: true'] : []),
      '  fuji-b:',
      '    network: fuji',
      '    zones: [cn-hongkong-b, cn-hongkong-c]',
      ...(opts.extra ? ['  fuji-c:', '    network: fuji'] : []),
      '',
    ].join('\n');

  beforeAll(async () => {
    stack = await startStack('cli', { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' }); // its webhook receiver is on 127.0.0.1
    dir = mkdtempSync(join(tmpdir(), 'snowline-cli-e2e-'));
    file = join(dir, 'snowline.yaml');
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

  it('should plan, apply, converge, update a label, refuse a stale plan and a locked project, and destroy', async () => {
    write(yaml({ team: 'core', protect: true }));

    // plan → exit 2 (changes)
    const p1 = await cli(['plan', '--detailed-exitcode']);
    expect(p1.err).toBe('');
    expect(p1.code).toBe(2);
    expect(p1.out).toMatch(/\+ create {2}fuji-a/);
    expect(p1.out).toMatch(/\+ create {2}fuji-b/);
    expect(p1.out).toContain('Plan: 2 to create, 0 to update in place, 0 to replace, 0 to delete');
    expect(p1.out).not.toContain('\u001b['); // NO_COLOR

    // apply → progress from the event stream until both are active
    const a1 = await cli(['apply', '--auto-approve']);
    expect({ code: a1.code, err: a1.err }).toEqual({ code: 0, err: '' });
    expect(a1.out).toMatch(/validator\.active/);
    expect(a1.out).toContain('Apply complete: 2 action(s) settled.');
    expect((await validators()).map((v) => [v.name, v.state]).sort()).toEqual([
      ['fuji-a', 'active'],
      ['fuji-b', 'active'],
    ]);

    // plan → exit 0 (no changes)
    const p2 = await cli(['plan', '--detailed-exitcode']);
    expect(p2.code).toBe(0);
    expect(p2.out).toContain('No changes.');

    // edit a label → exactly one update
    write(yaml({ team: 'ops', protect: true }));
    const p3 = await cli(['plan', '--detailed-exitcode', '--json']);
    expect(p3.code).toBe(2);
    const plan3 = JSON.parse(p3.out) as { actions: { action: string; name: string }[] };
    expect(plan3.actions.map((a) => `${a.action} ${a.name}`)).toEqual([
      'update fuji-a',
      'no-op fuji-b',
    ]);
    const a3 = await cli(['apply', '--auto-approve']);
    expect(a3.code).toBe(0);
    expect(a3.out).toContain('labels.team: "core" → "ops"');
    expect((await validators()).find((v) => v.name === 'fuji-a')!.labels).toEqual({ team: 'ops' });

    // a stale plan is refused, saying what changed; the next plan shows the drift
    write(yaml({ team: 'ops', protect: true, extra: true }));
    const stale = JSON.parse((await cli(['plan', '--json'])).out) as { id: string };
    const b = (await validators()).find((v) => v.name === 'fuji-b')!;
    const patch = await stack.api(`/v1/validators/${b.id}`, {
      method: 'PATCH',
      json: { labels: { owner: 'console' } },
    });
    expect(patch.status).toBe(200);
    const s1 = await cli(['apply', '--plan', stale.id, '--auto-approve']);
    expect(s1.code).toBe(1);
    expect(s1.err).toMatch(/stale.*What changed: fuji-b: labels \{\} → owner=console/);
    const drift = await cli(['plan']);
    expect(drift.out).toMatch(/~ update {2}fuji-b[\s\S]*drift: changed outside snowline\.yaml/);

    // two concurrent applies of plans made at the same serial: one applies, the other is refused clearly
    const [x, y] = await Promise.all([cli(['plan', '--json']), cli(['plan', '--json'])]);
    const ids = [x, y].map((r) => (JSON.parse(r.out) as { id: string }).id);
    const both = await Promise.all(ids.map((id) => cli(['apply', '--plan', id, '--auto-approve'])));
    const codes = both.map((r) => r.code).sort();
    // toEqual (not toMatchObject): a failure then prints both runs' stderr, to tell why.
    expect({ codes, errs: both.map((r) => r.err) }).toEqual({
      codes: [0, 1],
      errs: expect.any(Array),
    });
    const loser = both.find((r) => r.code === 1)!;
    expect(loser.err).toMatch(
      /locked by \S+@\S+ \(key [^)]+\) since .* \(plan [0-9a-f-]{36}\)|stale/,
    );
    expect((await validators()).find((v) => v.name === 'fuji-c')?.state).toBe('active');
    expect((await cli(['plan', '--detailed-exitcode'])).code).toBe(0);

    // destroy is refused for a prevent_destroy validator and changes nothing
    const d1 = await cli(['destroy', '--auto-approve']);
    expect(d1.code).toBe(1);
    expect(d1.out).toContain('refused: fuji-a has prevent_destroy: true in snowline.yaml');
    expect(d1.err).toMatch(/cannot be applied: delete fuji-a/);
    expect((await validators()).every((v) => v.state === 'active')).toBe(true);

    // remove the flag → destroy retires all three
    write(yaml({ team: 'ops', protect: false, extra: true }));
    const d2 = await cli(['destroy', '--auto-approve']);
    expect(d2.err).toBe('');
    expect(d2.code).toBe(0);
    expect(d2.out).toContain('prevent_destroy was removed, so its protection is dropped first');
    expect(d2.out).toContain('Destroy complete: 3 action(s) settled.');
    expect((await validators()).map((v) => v.state)).toEqual(['retired', 'retired', 'retired']);

    const ls = await cli(['validators', 'ls']);
    expect(ls.code).toBe(0);
    expect(ls.out).toMatch(/^NAME\s+STATE\s+NETWORK/);
    expect(ls.out).toMatch(/fuji-a\s+retired\s+fuji/);
    const status = await cli(['status']);
    expect(status.out).toContain('Validators: 3 (3 retired)');
    expect(status.out).toContain('Apply lock: free');
    const ev = await cli(['events', '--limit', '100']);
    expect(ev.out).toMatch(/plan\.applied/);
    // --limit N: the newest N, oldest of them first (the last line is the latest event).
    const all = (await cli(['events', '--limit', '100', '--json'])).out.trim().split('\n');
    const last = (await cli(['events', '--limit', '2', '--json'])).out.trim().split('\n');
    const id = (l: string) => Number((JSON.parse(l) as { id: string }).id);
    // (later events may land between the two calls, never earlier ones)
    expect(id(last[0]!)).toBeGreaterThanOrEqual(id(all.at(-2)!));
    expect(id(last[0]!)).toBeLessThan(id(last[1]!));
  });

  it('should leave a REST validator alone, adopt it on import, and retire one only with --prune', async () => {
    const post = (name: string) =>
      stack.api('/v1/validators', {
        method: 'POST',
        headers: { 'idempotency-key': randomBytes(8).toString('hex') },
        json: { name, network: 'fuji' },
      });
    expect((await post('rest-own')).status).toBe(202);
    expect((await post('rest-other')).status).toBe(202);
    const own = join(dir, 'own.yaml');
    writeFileSync(own, 'version: 1\nvalidators:\n  rest-own:\n    network: fuji\n');

    // Named but not adopted: left alone, with the hint; the other is listed, never deleted.
    const p = await cli(['plan', '-f', own, '--detailed-exitcode']);
    expect(p.code).toBe(0);
    expect(p.out).toContain('Validators left alone (made outside snowline.yaml');
    expect(p.out).toContain('rest-own');
    expect(p.out).toContain('`snowline import rest-own` adopts it');
    expect(p.out).not.toMatch(/delete\s+rest-other/);

    const imp = await cli(['import', 'rest-own', '-f', own, '--auto-approve']);
    expect({ code: imp.code, err: imp.err }).toEqual({ code: 0, err: '' });
    expect(imp.out).toMatch(/<= adopt\s+rest-own/);
    expect(imp.out).toMatch(/ok\s+adopt rest-own/);

    // --prune lists what it retires before asking; without a terminal it needs --auto-approve.
    const pruned = await cli(['apply', '-f', own, '--prune', '--auto-approve', '--timeout', '120']);
    expect(pruned.out).toMatch(/- delete\s+rest-other/);
    expect(pruned.out).toContain('--prune retires it');
    expect(pruned.code).toBe(0);
    const byName = new Map((await validators()).map((v) => [v.name, v.state]));
    expect(byName.get('rest-other')).toBe('retired');
    expect(byName.get('rest-own')).not.toBe('retired');

    // An error the API finds in a field names the file's line:column.
    writeFileSync(
      own,
      'version: 1\nvalidators:\n  rest-own:\n    network: fuji\n    zones: [cn-nowhere-z]\n',
    );
    const bad = await cli(['plan', '-f', own]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain(`${own}:5:12: 400 validators.rest-own.zones: cn-nowhere-z`);
  });

  it('should give file:line:column and exit 1 for a bad file', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'validators:\n  fuji-a:\n    network: fuji\n    lables: {}\n');
    const r = await cli(['plan', '-f', bad]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      `${bad}:4:5: unknown field "lables" in validators.fuji-a; did you mean "labels"?`,
    );
    writeFileSync(bad, 'validators:\n  fuji-a:\n    network: "fuji\n');
    const s = await cli(['plan', '-f', bad]);
    expect(s.code).toBe(1);
    expect(s.err).toMatch(new RegExp(`${bad.replace(/[.]/g, '\\.')}:\\d+:\\d+: YAML syntax error`));
  });

  it('should manage a webhook from the file (secret from the environment only), plan .hcl like .yaml, and refuse standby_pools without admin', async () => {
    // A project of its own, with a key that is not admin.
    const proj = await stack.api('/v1/projects', { method: 'POST', json: { name: 'cli-hooks' } });
    expect(proj.status).toBe(201);
    const { id: projectId } = (await proj.json()) as { id: string };
    const k = await stack.api(`/v1/projects/${projectId}/api-keys`, {
      method: 'POST',
      json: {
        name: 'ci',
        scopes: ['validators:read', 'validators:write', 'webhooks:write', 'events:read'],
      },
    });
    expect(k.status).toBe(201);
    const key = ((await k.json()) as { key: string }).key;
    const as = { SNOWLINE_API_KEY: key };

    // A receiver that checks each delivery's signature with the secret the user keeps.
    const secret = randomBytes(32).toString('hex');
    const got: { path: string; verified: boolean; type: string }[] = [];
    const server: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (b: Buffer) => (body += b.toString()));
      req.on('end', () => {
        const sig = String(req.headers[SIGNATURE_HEADER.toLowerCase()] ?? '');
        got.push({
          path: req.url ?? '',
          verified: verifySignature(secret, body, sig),
          type: (JSON.parse(body) as { type: string }).type,
        });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const hooksYaml = join(dir, 'hooks.yaml');
      const hooksHcl = join(dir, 'hooks.hcl');
      const writeHooks = (path: string) => {
        writeFileSync(
          hooksYaml,
          [
            'version: 1',
            'validators: {}',
            'webhooks:',
            '  pager:',
            `    url: http://127.0.0.1:${port}${path}`,
            '    events: [webhook.test, validator.failed]',
            '    description: on-call',
            '    secret_env: E2E_WEBHOOK_SECRET',
            '',
          ].join('\n'),
        );
        writeFileSync(
          hooksHcl,
          [
            '# the same file, in HCL',
            'version = 1',
            'webhook "pager" {',
            `  url         = "http://127.0.0.1:${port}${path}"`,
            '  events      = ["webhook.test", "validator.failed"]',
            '  description = "on-call" // shown in the console',
            '  secret_env  = "E2E_WEBHOOK_SECRET"',
            '}',
            '',
          ].join('\n'),
        );
      };
      writeHooks('/hook');

      // plan → exit 2, one webhook to create, the secret only by its variable
      const p1 = await cli(['plan', '-f', hooksYaml, '--detailed-exitcode'], as);
      expect({ code: p1.code, err: p1.err }).toEqual({ code: 2, err: '' });
      expect(p1.out).toMatch(/Webhooks:\n {2}\+ create {2}pager\n/);
      expect(p1.out).toContain(
        'secret: read from $E2E_WEBHOOK_SECRET by the CLI at apply (never stored in a plan)',
      );
      expect(p1.out).toContain('Webhooks: 1 to create, 0 to update, 0 to delete; 0 unchanged.');

      // apply without the variable → exit 1 before anything changes, naming the variable
      const noSecret = await cli(['apply', '-f', hooksYaml, '--auto-approve'], as);
      expect(noSecret.code).toBe(1);
      expect(noSecret.err).toContain(
        'needs its signing secret in $E2E_WEBHOOK_SECRET, which is not set',
      );

      // apply with it → the webhook exists; the secret is printed nowhere
      const withSecret = { ...as, E2E_WEBHOOK_SECRET: secret };
      const a1 = await cli(['apply', '-f', hooksYaml, '--auto-approve'], withSecret);
      expect({ code: a1.code, err: a1.err }).toEqual({ code: 0, err: '' });
      expect(a1.out).toMatch(/ok +create webhook pager/);
      expect(a1.out + a1.err).not.toContain(secret);
      const list = async () =>
        (
          (await (await stack.api('/v1/webhooks', { key })).json()) as {
            items: { id: string; url: string; configName: string | null; secretPrefix: string }[];
          }
        ).items;
      const [hook] = await list();
      expect(hook).toMatchObject({
        url: `http://127.0.0.1:${port}/hook`,
        configName: 'pager',
        secretPrefix: '$E2E_WEBHOOK_SECRET',
      });

      // plan → exit 0; the .hcl twin plans exactly the same
      const p2 = await cli(['plan', '-f', hooksYaml, '--detailed-exitcode'], as);
      expect(p2.code).toBe(0);
      expect(p2.out).toContain('No changes. The project matches');
      const j1 = JSON.parse((await cli(['plan', '-f', hooksYaml, '--json'], as)).out) as Plan;
      const hcl = await cli(['plan', '-f', hooksHcl, '--json', '--detailed-exitcode'], as);
      expect({ code: hcl.code, err: hcl.err }).toEqual({ code: 0, err: '' });
      const j2 = JSON.parse(hcl.out) as Plan;
      expect(shape(j2)).toEqual(shape(j1));

      // the receiver verifies a signed test delivery with the secret from the environment
      const test = await stack.api(`/v1/webhooks/${hook!.id}/test`, { method: 'POST', key });
      expect(test.status).toBe(202);
      await waitFor('the signed test delivery', async () =>
        got.find((g) => g.type === 'webhook.test'),
      );
      expect(got.filter((g) => g.type === 'webhook.test')).toEqual([
        { path: '/hook', verified: true, type: 'webhook.test' },
      ]);

      // change the url → one update, in place; the .hcl shows the same update
      writeHooks('/hook2');
      const p3 = await cli(['plan', '-f', hooksHcl, '--detailed-exitcode'], as);
      expect(p3.code).toBe(2);
      expect(p3.out).toMatch(/~ update {2}pager\n/);
      expect(p3.out).toContain(
        `url: "http://127.0.0.1:${port}/hook" → "http://127.0.0.1:${port}/hook2"`,
      );
      expect(p3.out).toContain('why: update in place: url');
      const a3 = await cli(['apply', '-f', hooksYaml, '--auto-approve'], as); // no secret needed
      expect({ code: a3.code, err: a3.err }).toEqual({ code: 0, err: '' });
      expect(a3.out).toMatch(/ok +update webhook pager/);
      expect((await list()).map((w) => [w.id, w.url])).toEqual([
        [hook!.id, `http://127.0.0.1:${port}/hook2`],
      ]);
      expect((await cli(['plan', '-f', hooksHcl, '--detailed-exitcode'], as)).code).toBe(0);

      // standby_pools need the operator's admin key: a plan that changes them is refused, saying so
      writeFileSync(join(dir, 'pools.hcl'), 'standby_pool "fuji" {\n  cn-hongkong-b = 3\n}\n');
      const pools = await cli(['plan', '-f', join(dir, 'pools.hcl')], as);
      expect(pools.code).toBe(1);
      expect(pools.err).toMatch(
        /standby_pools, which needs an admin key of the operator \(default\) project/,
      );

      // a bad .hcl → file:line:column, exit 1
      const bad = join(dir, 'bad.hcl');
      writeFileSync(bad, 'webhook "pager" {\n  url = "http://x"\n  secret_env = E2E\n}\n');
      const b = await cli(['plan', '-f', bad], as);
      expect(b.code).toBe(1);
      expect(b.err).toContain(`${bad}:3:16: HCL syntax error: E2E is not a value`);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('should log in to a 0600 config file that later commands use', async () => {
    const home = mkdtempSync(join(tmpdir(), 'snowline-login-'));
    const bare = { PATH: env.PATH!, HOME: home, NO_COLOR: '1' };
    const login = await cli(['login', '--url', stack.apiUrl, '--key', stack.adminKey], bare);
    expect(login.code).toBe(0);
    const path = join(home, '.config', 'snowline', 'config.json');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const ls = await cli(['validators', 'ls', '--json'], bare);
    expect({ code: ls.code, err: ls.err }).toEqual({ code: 0, err: '' });
    expect(Array.isArray(JSON.parse(ls.out))).toBe(true);
    const me = await cli(['whoami', '--json'], bare);
    expect({ code: me.code, err: me.err }).toEqual({ code: 0, err: '' });
    expect(JSON.parse(me.out)).toMatchObject({ scopes: ['admin'], projectName: 'default' });
    const meText = await cli(['whoami'], bare);
    expect(meText.out).toMatch(/^project default \([0-9a-f-]{36}\)\n/);
    expect(login.out).toMatch(/\(project default \([0-9a-f-]{36}\); admin\)/);
    expect(me.out).not.toContain(stack.adminKey);
    // A key without validators:read may log in too (login asks /v1/whoami, which any key may).
    const project = (await (await stack.api('/v1/projects')).json()) as { items: { id: string }[] };
    const narrow = (await (
      await stack.api(`/v1/projects/${project.items[0]!.id}/api-keys`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'events only', scopes: ['events:read'] }),
      })
    ).json()) as { key: string };
    const eventsOnly = await cli(['login', '--url', stack.apiUrl, '--key', narrow.key], bare);
    expect({ code: eventsOnly.code, err: eventsOnly.err }).toEqual({ code: 0, err: '' });
    expect(eventsOnly.out).toContain('events:read');
    const wrong = await cli(
      ['login', '--url', stack.apiUrl, '--key', 'sl_not_a_real_key_0000'],
      bare,
    );
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/401/);
    rmSync(home, { recursive: true, force: true });
  });
});

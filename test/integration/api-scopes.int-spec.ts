import { randomUUID } from 'node:crypto';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import {
  hasScope,
  PUBLIC_ROUTE,
  REQUIRED_SCOPE,
  SCOPES,
  type Scope,
} from '../../apps/api/src/auth/principal';
import { startApiApp, type ApiApp } from '../support/api-app';

jest.setTimeout(120_000);

const VERBS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'ALL', 'OPTIONS', 'HEAD', 'SEARCH'];

interface Route {
  method: string;
  path: string;
  scope: Scope | null;
  public: boolean;
}

/** Every route of the running app, read from Nest's own metadata: a new route cannot hide. */
function routesOf(h: ApiApp): Route[] {
  const out: Route[] = [];
  for (const mod of h.app.get(ModulesContainer).values()) {
    for (const wrapper of mod.controllers.values()) {
      const ctrl = wrapper.metatype as (new (...a: unknown[]) => unknown) | null;
      if (!ctrl) continue;
      const base = String(Reflect.getMetadata(PATH_METADATA, ctrl) ?? '');
      const proto = ctrl.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(proto)) {
        const handler = proto[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        const verb = Reflect.getMetadata(METHOD_METADATA, handler) as number | undefined;
        if (verb === undefined) continue;
        const sub = String(Reflect.getMetadata(PATH_METADATA, handler) ?? '');
        const path = `/${[base, sub].filter((x) => x && x !== '/').join('/')}`.replace(/\/+/g, '/');
        const meta = <T>(key: string) =>
          (Reflect.getMetadata(key, handler) ?? Reflect.getMetadata(key, ctrl)) as T | undefined;
        out.push({
          method: VERBS[verb]!,
          path,
          scope: meta<Scope>(REQUIRED_SCOPE) ?? null,
          public: meta<boolean>(PUBLIC_ROUTE) === true,
        });
      }
    }
  }
  return out;
}

/**
 * Issue 18, point 3: every route keeps the scope of what it touches. The table is generated from the
 * app's route list: each route is public or names a scope; a key with every scope but that one (and
 * those implying it) gets 403; a key with it gets past the guard.
 */
describe('route × scope', () => {
  let h: ApiApp;
  let routes: Route[];
  const keys = new Map<string, string>();
  /** A key of its own project with exactly these scopes (admin: the operator's key). */
  const keyWith = async (scopes: Scope[]) => {
    if (scopes.includes('admin')) return h.adminKey;
    const tag = [...scopes].sort().join(',') || 'none';
    if (!keys.has(tag)) keys.set(tag, (await h.tenant(`scopes ${keys.size}`, scopes)).key);
    return keys.get(tag)!;
  };
  const call = async (r: Route, key: string) => {
    const path = r.path.replace(/:[A-Za-z]+/g, randomUUID());
    const res = await h.api(path, {
      method: r.method,
      key,
      ...(r.method === 'GET' || r.method === 'DELETE' ? {} : { json: {} }),
      signal: AbortSignal.timeout(5_000),
    });
    await res.body?.cancel().catch(() => undefined); // SSE routes: headers are enough
    return res.status;
  };

  beforeAll(async () => {
    // This machine has no DNS: with the SSRF guard on, hooks.example.com would not resolve (the
    // guard is tested in api-webhook-ssrf; here only the scopes are).
    h = await startApiApp('scopes', { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' });
    routes = routesOf(h);
  });
  afterAll(async () => h?.stop());

  it('should find the routes, and every one of them public or scoped', () => {
    expect(routes.length).toBeGreaterThan(30);
    // Any valid key, whatever its scopes: the route that says which scopes a key has.
    const anyKey = ['GET /v1/whoami'];
    expect(routes.filter((r) => !r.public && !r.scope).map((r) => `${r.method} ${r.path}`)).toEqual(
      anyKey,
    );
    expect(routes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ method: 'GET', path: '/v1/webhooks', scope: 'webhooks:read' }),
        expect.objectContaining({ method: 'POST', path: '/v1/webhooks', scope: 'webhooks:write' }),
      ]),
    );
  });

  it('should refuse each scoped route to a key without its scope, and let a key with it past', async () => {
    const wrong: string[] = [];
    let checked = 0;
    for (const r of routes.filter((x) => x.scope)) {
      const without = SCOPES.filter((s) => s !== 'admin' && !hasScope([s], r.scope!));
      const denied = await call(r, await keyWith(without));
      const allowed = await call(r, await keyWith([r.scope!]));
      checked++;
      if (denied !== 403 || allowed === 401 || allowed === 403)
        wrong.push(`${r.method} ${r.path} (${r.scope}): without ${denied}, with ${allowed}`);
    }
    expect(wrong).toEqual([]);
    expect(checked).toBe(routes.filter((x) => x.scope).length);
    expect(checked).toBeGreaterThan(25);
  });

  it('should keep webhook URLs and changes behind the webhook scopes in plans', async () => {
    const hook = {
      name: 'pager',
      url: 'https://hooks.example.com/x',
      events: ['validator.failed'],
      secretEnv: 'PAGER_SECRET',
    };
    const plan = (key: string, webhooks?: unknown[]) =>
      h.api('/v1/plans', {
        method: 'POST',
        key,
        json: { validators: [], ...(webhooks ? { webhooks } : {}) },
      });
    // validators:read alone may plan validators, not webhooks.
    const reader = await keyWith(['validators:read']);
    expect((await plan(reader)).status).toBe(201);
    const refused = await plan(reader, [hook]);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { detail: string }).detail).toContain('webhooks:read');

    // webhooks:read sees the plan; applying its webhook create needs webhooks:write.
    const { projectId, key: readWrite } = await h.tenant('plans rw', [
      'validators:read',
      'validators:write',
      'webhooks:read',
    ]);
    const made = await plan(readWrite, [hook]);
    expect(made.status).toBe(201);
    const body = (await made.json()) as { id: string; webhooks: { action: string }[] };
    expect(body.webhooks).toEqual([expect.objectContaining({ action: 'create' })]);
    const apply = await h.api(`/v1/plans/${body.id}/apply`, {
      method: 'POST',
      key: readWrite,
      json: {},
    });
    expect(apply.status).toBe(403);
    expect(((await apply.json()) as { detail: string }).detail).toContain('webhooks:write');

    // A validators-only key of the same project reading that plan sees no webhook URL.
    const k = await h.api(`/v1/projects/${projectId}/api-keys`, {
      method: 'POST',
      json: { name: 'ro', scopes: ['validators:read'] },
    });
    expect(k.status).toBe(201);
    const ro = ((await k.json()) as { key: string }).key;
    const seen = await h.api(`/v1/plans/${body.id}`, { key: ro });
    expect(seen.status).toBe(200);
    const text = await seen.text();
    expect(text).not.toContain('hooks.example.com');
    expect(JSON.parse(text)).toEqual(
      expect.objectContaining({ webhooks: null, webhooksHidden: true }),
    );
  });
});

import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Repositories, sha256Hex } from '@snowline/persistence';
import { Problem } from '../common/problem';
import { ApiKeyCache } from './api-key-cache';
import { hasScope, PUBLIC_ROUTE, REQUIRED_SCOPE, type Principal, type Scope } from './principal';

/** `Authorization: Bearer <key>` → the caller's project and scopes. 401 without a valid key, 403 without the scope. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly repos: Repositories,
    private readonly cache: ApiKeyCache,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const req = ctx
      .switchToHttp()
      .getRequest<{ headers: Record<string, string | undefined>; principal?: Principal }>();
    const header = req.headers['authorization'];
    if (!header?.trim())
      throw new Problem(401, 'Unauthorized', 'Send an API key as `Authorization: Bearer <key>`.');
    const bearer = /^Bearer\s+(\S+)$/i.exec(header.trim());
    if (!bearer?.[1])
      throw new Problem(
        401,
        'Unauthorized',
        'The Authorization header must be `Bearer <key>` (one word after `Bearer`).',
      );
    // A key of the wrong length is no key of ours: the same answer as an unknown one, no lookup.
    const secret = bearer[1];
    const key = secret.length >= 16 && secret.length <= 512 ? await this.lookup(secret) : null;
    if (!key)
      throw new Problem(
        401,
        'Unauthorized',
        'API key not recognised: it is unknown or revoked; check the key you sent (`snowline login`).',
      );
    req.principal = { projectId: key.projectId, keyId: key.keyId, scopes: key.scopes };
    const needed = this.reflector.getAllAndOverride<Scope | undefined>(REQUIRED_SCOPE, targets);
    if (needed && !hasScope(key.scopes, needed)) {
      throw new Problem(403, 'Forbidden', `This API key lacks the \`${needed}\` scope.`);
    }
    return true;
  }

  private async lookup(secret: string) {
    const hash = sha256Hex(secret);
    const hit = this.cache.get(hash);
    if (hit) return hit;
    const row = await this.repos.apiKeys.findActiveByHash(hash);
    if (!row) return null;
    const key = { keyId: row.id, projectId: row.projectId, scopes: row.scopes as Scope[] };
    this.cache.set(hash, key);
    return key;
  }
}

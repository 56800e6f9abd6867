import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { badRequest } from './problem';
import { findHostileKey } from './hostile-keys';

/** Refuses prototype-pollution keys (`__proto__`, `constructor`, `prototype`) anywhere in a JSON body. */
@Injectable()
export class HostileBodyGuard implements CanActivate {
  canActivate(ctx: ExecutionContext): boolean {
    if (ctx.getType() !== 'http') return true;
    const hit = findHostileKey(ctx.switchToHttp().getRequest<{ body?: unknown }>().body);
    if (hit) throw badRequest(`${hit}: this key is not allowed in a request body.`);
    return true;
  }
}

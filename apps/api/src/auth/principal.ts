import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';

export const SCOPES = [
  'validators:read',
  'validators:write',
  'events:read',
  'webhooks:read',
  'webhooks:write',
  'admin',
] as const;
export type Scope = (typeof SCOPES)[number];

export interface Principal {
  projectId: string;
  keyId: string;
  scopes: Scope[];
}

/** What a key's scopes allow: `admin` every scope, `webhooks:write` also `webhooks:read`. */
export function hasScope(scopes: readonly Scope[], needed: Scope): boolean {
  if (scopes.includes(needed) || scopes.includes('admin')) return true;
  return needed === 'webhooks:read' && scopes.includes('webhooks:write');
}

export const REQUIRED_SCOPE = 'snowline:scope';
export const PUBLIC_ROUTE = 'snowline:public';
/** The scope a route needs (see `hasScope` for what implies what). */
export const RequireScope = (scope: Scope) => SetMetadata(REQUIRED_SCOPE, scope);
/** No API key needed (health checks; the agent protocol authenticates itself). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

export const CurrentPrincipal = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Principal =>
    ctx.switchToHttp().getRequest<{ principal: Principal }>().principal,
);

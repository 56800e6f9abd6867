import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';

export const SCOPES = [
  'validators:read',
  'validators:write',
  'events:read',
  'webhooks:write',
  'admin',
] as const;
export type Scope = (typeof SCOPES)[number];

export interface Principal {
  projectId: string;
  keyId: string;
  scopes: Scope[];
}

export const REQUIRED_SCOPE = 'snowline:scope';
export const PUBLIC_ROUTE = 'snowline:public';
/** The scope a route needs (`admin` satisfies every scope). */
export const RequireScope = (scope: Scope) => SetMetadata(REQUIRED_SCOPE, scope);
/** No API key needed (health checks; the agent protocol authenticates itself). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

export const CurrentPrincipal = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Principal =>
    ctx.switchToHttp().getRequest<{ principal: Principal }>().principal,
);

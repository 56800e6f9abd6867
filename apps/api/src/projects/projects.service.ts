import { Injectable } from '@nestjs/common';
import { Repositories, type ApiKeyEntity, type ProjectEntity } from '@snowline/persistence';
import { ApiKeyCache } from '../auth/api-key-cache';
import type { Principal, Scope } from '../auth/principal';
import { newApiKeySecret } from '../bootstrap/default-project';
import { notFound, Problem } from '../common/problem';

export const projectView = (p: ProjectEntity) => ({
  id: p.id,
  name: p.name,
  createdAt: p.createdAt.toISOString(),
});

/** Never the secret or its hash: the prefix is enough to recognise a key. */
export const apiKeyView = (k: ApiKeyEntity) => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  scopes: k.scopes,
  createdAt: k.createdAt.toISOString(),
  revokedAt: k.revokedAt?.toISOString() ?? null,
});

/**
 * Projects are tenants. The operator (an admin key of the default project) creates projects and their
 * first key; a project's own admin keys manage that project's keys. Any other project id is a 404.
 */
@Injectable()
export class ProjectsService {
  constructor(
    private readonly repos: Repositories,
    private readonly keyCache: ApiKeyCache,
  ) {}

  async create(p: Principal, name: string) {
    await this.requireOperator(p);
    return projectView(await this.repos.projects.create(name));
  }

  async list(p: Principal) {
    const items = (await this.isOperator(p))
      ? await this.repos.tenancy.listProjects()
      : [await this.visibleProject(p, p.projectId)];
    return { items: items.map(projectView), nextCursor: null };
  }

  async get(p: Principal, id: string) {
    return projectView(await this.visibleProject(p, id));
  }

  async createKey(p: Principal, projectId: string, input: { name: string; scopes: Scope[] }) {
    await this.visibleProject(p, projectId);
    const secret = newApiKeySecret('key');
    const key = await this.repos.apiKeys.create({
      projectId,
      name: input.name,
      scopes: input.scopes,
      secret,
    });
    // The only response that ever carries the secret.
    return { ...apiKeyView(key), key: secret };
  }

  async listKeys(p: Principal, projectId: string) {
    await this.visibleProject(p, projectId);
    const keys = await this.repos.apiKeys.listForProject(projectId);
    return { items: keys.map(apiKeyView), nextCursor: null };
  }

  async revokeKey(p: Principal, projectId: string, keyId: string) {
    await this.visibleProject(p, projectId);
    const key = await this.repos.tenancy.revokeKey(projectId, keyId);
    if (!key) throw notFound('API key', keyId);
    // Immediate here; other replicas drop it within API_KEY_CACHE_TTL_MS.
    this.keyCache.evictKey(keyId);
    return apiKeyView(key);
  }

  /** The operator: an admin key of the default project (shared infrastructure is theirs alone). */
  async isOperator(p: Principal): Promise<boolean> {
    if (!p.scopes.includes('admin')) return false;
    const own = await this.repos.projects.findById(p.projectId);
    return !!own?.isDefault;
  }

  private async requireOperator(p: Principal): Promise<void> {
    if (!(await this.isOperator(p))) {
      throw new Problem(
        403,
        'Forbidden',
        'Only an admin key of the operator (default) project can create projects.',
      );
    }
  }

  /** The caller's own project, or any project for the operator; otherwise 404 (never confirm it exists). */
  private async visibleProject(p: Principal, id: string): Promise<ProjectEntity> {
    if (id !== p.projectId && !(await this.isOperator(p))) throw notFound('Project', id);
    const project = await this.repos.projects.findById(id);
    if (!project) throw notFound('Project', id);
    return project;
  }
}

import { API_KEY_CACHE_TTL_MS, ApiKeyCache } from './api-key-cache';

describe(ApiKeyCache.name, () => {
  const key = { keyId: 'k1', projectId: 'p1', scopes: ['admin' as const] };

  it('should serve a key until its TTL, then forget it', () => {
    const cache = new ApiKeyCache();
    let now = 1_000;
    cache.now = () => now;
    cache.set('h1', key);
    expect(cache.get('h1')).toMatchObject(key);
    now += API_KEY_CACHE_TTL_MS - 1;
    expect(cache.get('h1')).toMatchObject(key);
    now += 1;
    expect(cache.get('h1')).toBeUndefined();
  });

  it('should evict a revoked key at once', () => {
    const cache = new ApiKeyCache();
    cache.set('h1', key);
    cache.set('h2', { ...key, keyId: 'k2' });
    cache.evictKey('k1');
    expect(cache.get('h1')).toBeUndefined();
    expect(cache.get('h2')).toMatchObject({ keyId: 'k2' });
  });
});

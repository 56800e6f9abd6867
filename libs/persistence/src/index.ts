export * from './entities';
export * from './data-source';
export * from './repositories';
export * from './public-api.repositories';
export * from './plan.repositories';
export { SnakeNamingStrategy } from './naming';
export type { EntityManager } from 'typeorm';
export * from './persistence.module';
export * from './host-history.repository';

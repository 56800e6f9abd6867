export * from './contract';
export * from './errors';
export * from './lifecycle-queue';
export * from './redis';

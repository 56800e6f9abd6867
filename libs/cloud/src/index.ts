export * from './cloud-provider';
export * from './errors';

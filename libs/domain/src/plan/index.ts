export * from './spec';
export * from './parse';
export * from './diff';
export * from './config-diff';
export * from './hcl';

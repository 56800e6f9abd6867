export * from './spec';
export * from './parse';
export * from './diff';

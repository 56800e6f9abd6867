export * from './validator-state';
export * from './placement';
export * from './envelope';
export * from './health';
export * from './plan';
export * from './host-checks';
export * from './moves';
export * from './response-seal';

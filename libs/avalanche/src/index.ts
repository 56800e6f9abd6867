export * from './cb58';
export * from './node-id';
export * from './bls';
export * from './identity';
export * from './node-schemas';
export * from './node-client';

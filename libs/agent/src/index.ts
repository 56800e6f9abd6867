export * from './protocol';
export * from './node-driver';
export * from './simulated-node-driver';
export * from './process-node-driver';
export * from './agent';
export * from './fencing';
export * from './lease';
export * from './host-credential';

import { Initial1764096000000 } from './1764096000000-Initial';

/** Every migration, in order. New ones are appended here. */
export const MIGRATIONS = [Initial1764096000000];

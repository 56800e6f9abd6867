export * from '../../scripts/support/db';

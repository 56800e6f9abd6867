// The stack launcher lives in scripts/support so that scripts (chaos, benches) and tests share it.
export * from '../../scripts/support/stack';

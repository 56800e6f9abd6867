import { parseLabelFilter, validateLabels } from './labels';

describe(validateLabels.name, () => {
  it.each([
    [{ team: 'core', 'env/tier': 'prod' }, true],
    [{}, true],
    [{ Team: 'x' }, false],
    [{ team: 1 }, false],
    [[], false],
    [null, false],
    [{ k: 'x'.repeat(129) }, false],
  ])('should accept %j: %s', (input, ok) => {
    if (ok) expect(validateLabels(input)).toEqual(input);
    else expect(() => validateLabels(input)).toThrow();
  });
});

describe(parseLabelFilter.name, () => {
  it('should parse repeated and comma-separated pairs', () => {
    expect(parseLabelFilter(['team=core', 'env=prod,tier=a'])).toEqual({
      team: 'core',
      env: 'prod',
      tier: 'a',
    });
    expect(parseLabelFilter(undefined)).toBeUndefined();
  });
  it('should refuse a pair without =', () => {
    expect(() => parseLabelFilter('team')).toThrow(/key=value/);
  });
});

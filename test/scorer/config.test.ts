/**
 * The scorer's drift monitoring and rollout settings (scorer/config.ts): their defaults, and the values refused, by
 * variable.
 */
import { SCORER_ENV } from '../../contract/env.js';
import { ConfigError } from '../../contract/settings.js';
import { loadScorerConfig } from '../../scorer/config.js';

const MODEL = { MODEL_URI: 'identity' };

describe('the MONITOR_* settings', () => {
  it('default to no baseline, a 600 s window, 500 rows before a PSI and at most 200 histograms', () => {
    const config = loadScorerConfig(MODEL);
    expect(config.monitorBaseline).toBeUndefined();
    expect(config.monitorBaselineSha256).toBeUndefined();
    expect(config).toMatchObject({
      monitorWindowSeconds: 600,
      monitorMinRows: 500,
      monitorMaxHistograms: 200,
    });
  });

  it('take a baseline URI as MODEL_URI does, and its digest in any case', () => {
    const sha256 = 'AB'.repeat(32);
    expect(
      loadScorerConfig({ ...MODEL, MONITOR_BASELINE: 's3://bucket/drift.json', MONITOR_BASELINE_SHA256: sha256 }),
    ).toMatchObject({ monitorBaseline: 's3://bucket/drift.json', monitorBaselineSha256: sha256.toLowerCase() });
  });

  it.each([
    ['MONITOR_BASELINE', 'ftp://host/b.json', 'must be a path, file://, http://, https:// or s3://bucket/key'],
    ['MONITOR_BASELINE', 'identity', 'must name a baseline file'],
    ['MONITOR_BASELINE_SHA256', 'abc', 'must be 64 hexadecimal digits'],
    ['MONITOR_WINDOW_SECONDS', '0', 'Too small'],
    ['MONITOR_MIN_ROWS', '1.5', 'expected int'],
    ['MONITOR_MAX_HISTOGRAMS', 'many', 'expected number'],
  ])('refuse %s=%s, naming the variable', (variable, value, problem) => {
    const load = () => loadScorerConfig({ ...MODEL, [variable]: value });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(new RegExp(`^invalid ${variable} \\(--[a-z0-9-]+\\): .*${problem}`, 'i'));
  });
});

describe('ROUTING_URL', () => {
  it('is unset by default: no rollout, every request answered by this scorer', () => {
    expect(loadScorerConfig(MODEL).routingUrl).toBeUndefined();
  });

  it("takes the operator's routing endpoint, query included", () => {
    const url = 'http://scoring-operator.scoring-system.svc:8081/routing/v1/default/churn?uid=1234';
    expect(loadScorerConfig({ ...MODEL, ROUTING_URL: url }).routingUrl).toBe(url);
  });

  it.each(['ftp://operator/routing', 'operator:8081/routing'])('refuses %j, naming the variable', (value) => {
    const load = () => loadScorerConfig({ ...MODEL, ROUTING_URL: value });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/^invalid ROUTING_URL \(--[a-z0-9-]+\): /);
  });
});

describe('an empty variable', () => {
  it('is unset: the operator sets the names it has no value for empty beside a Secret loaded whole', () => {
    const empty = Object.fromEntries(Object.values(SCORER_ENV).map((name) => [name, '']));
    expect(loadScorerConfig({ ...empty, ...MODEL })).toEqual(loadScorerConfig(MODEL));
  });
});

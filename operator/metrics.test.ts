import { OperatorMetrics } from './metrics.js';

describe('OperatorMetrics', () => {
  it('reads the queue depth at each scrape, however the queue changed', async () => {
    let depth = 3;
    const metrics = new OperatorMetrics(() => depth);
    expect(await metrics.registry.metrics()).toMatch(/^scoring_operator_queue_depth 3$/m);
    depth = 0;
    expect(await metrics.registry.metrics()).toMatch(/^scoring_operator_queue_depth 0$/m);
  });
});

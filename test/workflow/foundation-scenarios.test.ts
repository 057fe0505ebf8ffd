/**
 * Each built-in scenario of the foundation, run through the rehearsal: the real ASL on the local engine,
 * the real handlers, the simulated AWS. Assertions are on the endpoint's final state, not only the status.
 */
import { rehearseBuiltIn, variantsOf } from './helpers';

const BLUE_CONFIG = 'fraud-detector-prod-v6-00000000';
const BLUE_VARIANT = 'v6-00000000';

describe('happy-path', () => {
  it('promotes version 7: green alone serves 100% on its own config, blue and its resources are gone', async () => {
    const report = await rehearseBuiltIn('happy-path');
    expect(report.outcome).toBe('PROMOTED');
    expect(report.execution?.status).toBe('SUCCEEDED');
    expect(report.endpoint?.status).toBe('InService');
    const variants = report.endpoint!.variants;
    expect(variants).toHaveLength(1);
    expect(variants[0].variantName).toMatch(/^v7-[0-9a-f]{8}$/);
    expect(variants[0].modelName).toMatch(/^fraud-detector-v7-[0-9a-f]{8}$/);
    expect(variants[0]).toMatchObject({ weight: 1, instanceType: 'ml.g5.xlarge', instanceCount: 2 });
    expect(report.endpoint!.endpointConfigName).toBe(`fraud-detector-prod-${variants[0].variantName}`);
    expect(report.orphans).toEqual({ models: [], endpointConfigs: [], alarms: [], activeRollouts: [], scalableTargets: [] });
    expect(report.awsCalls.byOperation['sagemaker:DeleteEndpointConfig']).toBeGreaterThanOrEqual(2);
    expect(report.awsCalls.byOperation['sagemaker:DeleteModel']).toBe(1);
  });

  it('bakes the configured hour with blue still provisioned, at more than 100x real time', async () => {
    const report = await rehearseBuiltIn('happy-path');
    const bake = report.timeline.find((e) => e.kind === 'state' && e.state === 'Check 100% step')!;
    const removal = report.timeline.find((e) => e.kind === 'state' && e.state === 'Remove blue variant')!;
    expect(removal.t - bake.t).toBeGreaterThanOrEqual(3600);
    expect(report.metrics.virtualSeconds).toBeGreaterThan(3600);
    // Compression: over an hour of AWS time (with validation traffic) in seconds of wall time.
    expect(report.metrics.virtualSeconds / (report.metrics.wallMs / 1000)).toBeGreaterThan(100);
  });

  it('is deterministic: the same scenario gives the same timeline', async () => {
    const first = await rehearseBuiltIn('happy-path');
    const second = await rehearseBuiltIn('happy-path');
    expect(second.timeline).toEqual(first.timeline);
    expect(second.awsCalls).toEqual(first.awsCalls);
    // Two full rehearsals: twice the default timeout, for a loaded machine.
  }, 120_000);
});

describe('first-deployment', () => {
  it('creates the endpoint with green alone and leaves nothing else', async () => {
    const report = await rehearseBuiltIn('first-deployment');
    expect(report.outcome).toBe('PROMOTED');
    expect(report.endpoint?.status).toBe('InService');
    expect(report.endpoint!.variants).toHaveLength(1);
    expect(report.endpoint!.variants[0]).toMatchObject({ weight: 1, instanceType: 'ml.g5.xlarge', instanceCount: 2 });
    expect(report.endpoint!.variants[0].variantName).toMatch(/^v1-[0-9a-f]{8}$/);
    expect(report.awsCalls.byOperation['sagemaker:CreateEndpoint']).toBe(1);
    expect(report.awsCalls.byOperation['sagemaker:UpdateEndpoint']).toBeUndefined();
    expect(report.orphans).toEqual({ models: [], endpointConfigs: [], alarms: [], activeRollouts: [], scalableTargets: [] });
  });
});

describe('update-rolled-back', () => {
  it('fails with EndpointUpdateRolledBack, blue alone on its own config, green deleted', async () => {
    const report = await rehearseBuiltIn('update-rolled-back');
    expect(report.outcome).toBe('ROLLED_BACK');
    expect(report.execution).toMatchObject({ status: 'FAILED', error: 'EndpointUpdateRolledBack', finalState: 'Rollout failed' });
    expect(report.execution!.cause).toMatch(/InService on config fraud-detector-prod-v6-00000000/);
    expect(report.endpoint).toMatchObject({ status: 'InService', endpointConfigName: BLUE_CONFIG });
    expect(variantsOf(report)).toEqual([[BLUE_VARIANT, 1]]);
    expect(report.endpoint!.variants[0].instanceCount).toBe(2);
    expect(report.orphans).toEqual({ models: [], endpointConfigs: [], alarms: [], activeRollouts: [], scalableTargets: [] });
    // SageMaker already restored blue: no second fleet redeploy to get there.
    expect(report.awsCalls.byOperation['sagemaker:UpdateEndpoint']).toBe(1);
  });
});

describe('smoke-check-fails', () => {
  it('never shifts traffic, returns the endpoint to blue alone at its instance count, deletes green', async () => {
    const report = await rehearseBuiltIn('smoke-check-fails');
    expect(report.outcome).toBe('ROLLED_BACK');
    expect(report.execution).toMatchObject({ status: 'FAILED', error: 'SmokeCheckFailed' });
    expect(report.execution!.cause).toMatch(/Blue restored/);
    expect(report.awsCalls.byOperation['sagemaker:UpdateEndpointWeightsAndCapacities']).toBeUndefined();
    expect(report.endpoint).toMatchObject({ status: 'InService', endpointConfigName: BLUE_CONFIG });
    expect(variantsOf(report)).toEqual([[BLUE_VARIANT, 1]]);
    expect(report.endpoint!.variants[0].instanceCount).toBe(2);
    expect(report.orphans).toEqual({ models: [], endpointConfigs: [], alarms: [], activeRollouts: [], scalableTargets: [] });
  });
});

describe.each(['not-approved', 'unknown-group'])('%s', (name) => {
  it('starts no rollout and makes no AWS call at all', async () => {
    const report = await rehearseBuiltIn(name);
    expect(report.outcome).toBe('IGNORED');
    expect(report.execution).toBeNull();
    expect(report.rollouts).toBe(0);
    expect(report.awsCalls).toMatchObject({ total: 0, mutating: 0 });
    expect(report.endpoint).toMatchObject({ status: 'InService', endpointConfigName: BLUE_CONFIG });
    expect(variantsOf(report)).toEqual([[BLUE_VARIANT, 1]]);
  });
});

/** User-written scenarios, raw events and the command line, end to end. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { approvalEvent } from '../../rehearsal/runner';
import { rehearseBuiltIn, rehearseScenario, variantsOf } from './helpers';

const ROOT = join(__dirname, '..', '..');

describe('scenario files', () => {
  it('applies target overrides and injected API faults: throttled UpdateEndpoint is retried and the rollout still promotes', async () => {
    const report = await rehearseScenario({
      name: 'throttled-update',
      description: 'UpdateEndpoint is throttled five times',
      target: { policy: { bakeSeconds: 60 }, green: { instanceType: 'ml.g6.2xlarge', initialInstanceCount: 1 } },
      modelPackages: [{ version: 6 }, { version: 7 }],
      endpoint: { liveVersion: 6 },
      faults: [{ kind: 'api-error', service: 'sagemaker', operation: 'UpdateEndpoint', error: 'ThrottlingException', times: 5 }],
    });
    expect(report.outcome).toBe('PROMOTED');
    expect(report.endpoint!.variants).toHaveLength(1);
    expect(report.endpoint!.variants[0]).toMatchObject({ instanceType: 'ml.g6.2xlarge', instanceCount: 1, weight: 1 });
    expect(report.awsCalls.byOperation['sagemaker:UpdateEndpoint']).toBe(7); // provisioning: 5 throttled (the SDK retries twice, then the state's Retry reruns the idempotent step) + 1 accepted; then 1 to remove blue
    const bake = report.timeline.find((e) => e.state === 'Check 100% step')!;
    const next = report.timeline.find((e) => e.state === "Give green blue's auto scaling")!;
    expect(next.t - bake.t).toBeGreaterThanOrEqual(60);
    expect(next.t - bake.t).toBeLessThan(120);
  });

  it('a first deployment whose green never becomes healthy leaves no endpoint, model or config behind', async () => {
    const report = await rehearseScenario({
      name: 'first-deployment-fails',
      description: 'CreateEndpoint ends Failed: the endpoint this rollout created is deleted',
      modelPackages: [{ version: 1, behaviour: { failsHealthCheck: true } }],
      endpoint: null,
    });
    expect(report.outcome).toBe('ROLLED_BACK');
    expect(report.execution).toMatchObject({ status: 'FAILED', error: 'EndpointUpdateFailed', finalState: 'Rollout failed' });
    expect(report.execution!.cause).toMatch(/created by this rollout, was deleted/);
    expect(report.endpoint).toBeNull();
    expect(report.awsCalls.byOperation['sagemaker:DeleteEndpoint']).toBe(1);
    expect(report.orphans).toEqual({ models: [], endpointConfigs: [], alarms: [], activeRollouts: [], scalableTargets: [] });
  });

  it('rejects a scenario whose overrides make the configuration invalid, naming the field', async () => {
    await expect(
      rehearseScenario({ name: 'bad', description: 'd', target: { green: { instanceType: 'g5' } }, modelPackages: [{ version: 1 }], endpoint: null }),
    ).rejects.toThrow(/targets\[0\] \(fraud-detector\)\.green\.instanceType/);
  });

  it('starts from a raw EventBridge event with --event semantics', async () => {
    const rawEvent = approvalEvent({ id: 'raw', timeMs: Date.UTC(2026, 0, 1), groupName: 'fraud-detector', version: 7, arn: 'arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud-detector/7', approvalStatus: 'Approved' });
    const report = await rehearseBuiltIn('happy-path', { rawEvent });
    expect(report.outcome).toBe('PROMOTED');
    expect(report.modelPackageArn).toBe(rawEvent.resources && (rawEvent.resources as string[])[0]);
    expect(variantsOf(report)[0][0]).toMatch(/^v7-/);
  });

  it('a raw event that is not an approval starts nothing', async () => {
    const rawEvent = { source: 'aws.sagemaker', 'detail-type': 'SageMaker Endpoint State Change', detail: { EndpointName: 'x' } };
    const report = await rehearseBuiltIn('happy-path', { rawEvent });
    expect(report.outcome).toBe('IGNORED');
    expect(report.awsCalls.total).toBe(0);
  });
});

describe('npm run rehearse', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rehearse-'));
  const run = (...args: string[]) =>
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, 'bin', 'rehearse.ts'), ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });

  it('--json prints exactly one JSON document with the documented fields, and --record-calls writes JSON Lines', () => {
    const callsFile = join(dir, 'calls.jsonl');
    const stdout = run('--scenario', 'smoke-check-fails', '--json', '--record-calls', callsFile);
    const report = JSON.parse(stdout);
    expect(Object.keys(report)).toEqual(expect.arrayContaining(['scenario', 'outcome', 'target', 'modelPackageArn', 'execution', 'endpoint', 'timeline', 'awsCalls']));
    expect(report).toMatchObject({ scenario: 'smoke-check-fails', outcome: 'ROLLED_BACK', target: { modelPackageGroupName: 'fraud-detector', endpointName: 'fraud-detector-prod' } });
    expect(report.execution).toMatchObject({ status: 'FAILED', error: 'SmokeCheckFailed' });
    expect(report.execution.stateTransitions).toBeGreaterThan(5);
    const calls = readFileSync(callsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(calls).toHaveLength(report.awsCalls.total);
    expect(calls[0]).toEqual({ service: 'sagemaker', operation: 'DescribeModelPackage', input: expect.objectContaining({ ModelPackageName: report.modelPackageArn }) });
    expect(calls.some((c) => c.service === 'sagemaker-runtime' && c.operation === 'InvokeEndpoint')).toBe(true);
  });

  it('--scenario-file runs a user scenario; --list lists the built-ins; a bad option exits 2 with usage', () => {
    const file = join(dir, 'mine.json');
    writeFileSync(file, JSON.stringify({ name: 'mine', description: 'first deployment with a short bake', target: { policy: { bakeSeconds: 30 } }, modelPackages: [{ version: 1 }], endpoint: null }));
    expect(JSON.parse(run('--scenario-file', file, '--json')).outcome).toBe('PROMOTED');
    expect(run('--list')).toMatch(/happy-path\s+Version 7 is approved/);
    let status = 0;
    let stderr = '';
    try {
      run('--bogus');
    } catch (e) {
      status = (e as { status: number }).status;
      stderr = (e as { stderr: string }).stderr;
    }
    expect(status).toBe(2);
    expect(stderr).toMatch(/Usage: npm run rehearse/);
  });
});

import 'aws-sdk-client-mock-jest';
import {
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  SageMakerClient,
  UpdateEndpointCommand,
  CreateEndpointCommand,
} from '@aws-sdk/client-sagemaker';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambdas/check-capacity';
import { checkCapacity, CheckCapacityInputSchema, type CapacityChoice } from '../../lambdas/check-capacity/capacity';
import { RolloutConfigSchema } from '../../lambdas/shared/config';
import type { RolloutPlan } from '../../lambdas/shared/plan';
import { INSUFFICIENT_CAPACITY_REASON } from '../../rehearsal/sim/faults';
import {
  endpointQuota,
  fakeAccount,
  quotaCode,
  serveAccount,
  serveQuotas,
  UNRELATED_QUOTAS,
  type FakeAccount,
  type FakeAccountEndpoint,
  type FakeConfig,
} from './support/capacity';
import { BLUE, ENDPOINT, makeFirstDeploymentPlan, makePlan, managedTags, NAMES, REGION, TARGET_CONFIG } from './support/fixtures';

const sageMaker = mockClient(SageMakerClient);
const serviceQuotas = mockClient(ServiceQuotasClient);

const G5 = 'ml.g5.xlarge';
const G5_2X = 'ml.g5.2xlarge';
const G6_2X = 'ml.g6.2xlarge';
const code = (type: string) => quotaCode(`${type} for endpoint usage`);

/** The plan with fallbacks [ml.g5.2xlarge, ml.g6.2xlarge] (green: 2 instances of ml.g5.xlarge). */
function planWithFallbacks(base: RolloutPlan = makePlan(), fallbacks = [G5_2X, G6_2X]): RolloutPlan {
  return { ...base, green: { ...base.green, fallbackInstanceTypes: fallbacks } };
}

/** The rollout's endpoint serving blue (3 x ml.g5.xlarge), and another endpoint with 1 x ml.g5.2xlarge. */
const BLUE_ENDPOINT: FakeAccountEndpoint = {
  name: ENDPOINT,
  configName: BLUE.endpointConfigName,
  variants: [{ name: BLUE.variantName, instanceType: G5, current: 3 }],
};
const BLUE_CONFIG: FakeConfig = { name: BLUE.endpointConfigName, variants: [{ name: BLUE.variantName, instanceType: G5, initialInstanceCount: 2 }] };
const OTHER_ENDPOINT: FakeAccountEndpoint = { name: 'search-prod', configName: 'search-v1', variants: [{ name: 'AllTraffic', instanceType: G5_2X, current: 1 }] };
const OTHER_CONFIG: FakeConfig = { name: 'search-v1', variants: [{ name: 'AllTraffic', instanceType: G5_2X, initialInstanceCount: 1 }] };

/** Green's transition config as the failed attempt on `instanceType` left it (tagged by this rollout unless told). */
function leftoverTransitionConfig(instanceType = G5, tags = managedTags()): FakeConfig {
  return {
    name: NAMES.transitionEndpointConfigName,
    variants: [
      { name: BLUE.variantName, instanceType: G5, initialInstanceCount: 3 },
      { name: NAMES.greenVariantName, instanceType, initialInstanceCount: 2 },
    ],
    tags,
  };
}

let account: FakeAccount;

function serve(quotas: Record<string, number>, endpoints = [BLUE_ENDPOINT, OTHER_ENDPOINT], configs = [BLUE_CONFIG, OTHER_CONFIG]): void {
  account = fakeAccount(endpoints, configs);
  serveAccount(sageMaker, account);
  serveQuotas(serviceQuotas, [...UNRELATED_QUOTAS, ...Object.entries(quotas).map(([type, value]) => endpointQuota(type, value))]);
}

/** Lambda's error document, as a Catch puts it in Cause. */
const lambdaCause = (errorType: string, errorMessage: string) => JSON.stringify({ errorType, errorMessage, trace: [`${errorType}: ${errorMessage}`, '    at x'] });

/** What the ASL passes to "Try next instance type" after `previous` failed: plan.green is previous.green. */
function tryNextInput(plan: RolloutPlan, previous: CapacityChoice, failure: { Error: string; Cause: string }) {
  return { plan: { ...plan, green: previous.green }, previous, failure };
}

beforeEach(() => {
  sageMaker.reset();
  serviceQuotas.reset();
});

describe('check-capacity: the first check', () => {
  test('the configured type has room for green beside everything the account runs: chosen, plan unchanged', async () => {
    serve({ [G5]: 8, [G5_2X]: 2 });
    const plan = planWithFallbacks();
    const result = await handler({ plan, previous: {} });
    const reason = `quota '${G5} for endpoint usage' (${code(G5)}) is 8; 3 in use; green needs 2`;
    expect(result).toEqual({
      green: plan.green,
      candidateIndex: 0,
      tried: [{ instanceType: G5, reason }],
      message: `Green gets 2 x ${G5} (the configured instance type): ${reason}.`,
    });
    // A check only reads.
    expect(sageMaker.calls().every((call) => /^(List|Describe)/.test(call.args[0].constructor.name))).toBe(true);
  });

  test('the configured type has no room: the first fallback with room is chosen, the fallback list kept', async () => {
    // 3 of blue + 2 for green > 4; ml.g5.2xlarge: 1 in use + 2 <= 4.
    serve({ [G5]: 4, [G5_2X]: 4 });
    const plan = planWithFallbacks();
    const result = await handler({ plan, previous: {} });
    expect(result.green).toEqual({ ...plan.green, instanceType: G5_2X, fallbackInstanceTypes: [G5_2X, G6_2X] });
    expect(result.candidateIndex).toBe(1);
    expect(result.tried).toEqual([
      { instanceType: G5, reason: `quota '${G5} for endpoint usage' (${code(G5)}) is 4; 3 in use; green needs 2` },
      { instanceType: G5_2X, reason: `quota '${G5_2X} for endpoint usage' (${code(G5_2X)}) is 4; 1 in use; green needs 2` },
    ]);
    expect(result.message).toMatch(new RegExp(`^Green gets 2 x ${G5_2X} \\(fallback 1 of 2\\): .* Not used: ${G5}: quota .* is 4; 3 in use; green needs 2\\.$`));
  });

  test('a type with no listed quota has no pre-flight limit: chosen, and logged', async () => {
    serve({});
    const logger = { debug: jest.fn(), info: jest.fn(), warn: jest.fn() };
    const plan = planWithFallbacks();
    const result = await checkCapacity(CheckCapacityInputSchema.parse({ plan, previous: {} }), {
      sageMaker: new SageMakerClient({ region: REGION }),
      serviceQuotas: new ServiceQuotasClient({ region: REGION }),
      logger,
    });
    expect(result.green.instanceType).toBe(G5);
    expect(result.tried[0]!.reason).toBe(`no quota '${G5} for endpoint usage' listed in Service Quotas: no pre-flight limit; 3 in use; green needs 2`);
    expect(logger.info).toHaveBeenCalledWith('No endpoint-usage quota listed for the instance type: no pre-flight limit', { instanceType: G5 });
  });

  test('no type has room: InsufficientCapacity naming each type and its quota arithmetic', async () => {
    serve({ [G5]: 4, [G5_2X]: 2, [G6_2X]: 0 });
    await expect(handler({ plan: planWithFallbacks(), previous: {} })).rejects.toMatchObject({
      name: 'InsufficientCapacity',
      message:
        `No instance type has the quota or capacity for green's 2 instances on endpoint ${ENDPOINT}: ` +
        `${G5}: quota '${G5} for endpoint usage' (${code(G5)}) is 4; 3 in use; green needs 2; ` +
        `${G5_2X}: quota '${G5_2X} for endpoint usage' (${code(G5_2X)}) is 2; 1 in use; green needs 2; ` +
        `${G6_2X}: quota '${G6_2X} for endpoint usage' (${code(G6_2X)}) is 0; 0 in use; green needs 2. ` +
        'Nothing of green was left on the endpoint; blue is untouched.',
    });
    expect(sageMaker).not.toHaveReceivedCommand(DeleteEndpointConfigCommand);
  });

  test('without fallbacks, only the configured type is checked', async () => {
    serve({ [G5]: 4, [G5_2X]: 100 });
    await expect(handler({ plan: makePlan(), previous: {} })).rejects.toMatchObject({
      name: 'InsufficientCapacity',
      message: expect.not.stringContaining(G5_2X),
    });
  });

  test('a first deployment: the same pre-flight, with no blue of its own', async () => {
    serve({ [G5]: 2 }, [], []);
    const result = await handler({ plan: planWithFallbacks(makeFirstDeploymentPlan()), previous: {} });
    expect(result).toMatchObject({ candidateIndex: 0, tried: [{ instanceType: G5, reason: expect.stringMatching(/is 2; 0 in use; green needs 2$/) }] });
  });
});

describe('check-capacity: trying the next instance type', () => {
  /** The first check's result when the configured type fit. */
  async function firstChoice(plan: RolloutPlan): Promise<CapacityChoice> {
    return handler({ plan, previous: {} });
  }

  test('an update rolled back for capacity: recorded, the transition config on the old type deleted, the model kept, the next type chosen', async () => {
    serve({ [G5]: 8, [G5_2X]: 4 });
    const plan = planWithFallbacks();
    const previous = await firstChoice(plan);
    // The failed attempt left its transition config (on ml.g5.xlarge); SageMaker rolled the endpoint back to blue.
    account.configs.set(NAMES.transitionEndpointConfigName, leftoverTransitionConfig());
    const failureMessage = `SageMaker could not provision 2 x ${G5} for variant ${NAMES.greenVariantName} on endpoint ${ENDPOINT}: ... FailureReason: ${INSUFFICIENT_CAPACITY_REASON}`;
    sageMaker.resetHistory();

    const result = await handler(tryNextInput(plan, previous, { Error: 'CapacityUnavailable', Cause: lambdaCause('CapacityUnavailable', failureMessage) }));

    expect(result.green).toEqual({ ...plan.green, instanceType: G5_2X });
    expect(result.candidateIndex).toBe(1);
    expect(result.tried).toEqual([
      { instanceType: G5, reason: failureMessage },
      { instanceType: G5_2X, reason: `quota '${G5_2X} for endpoint usage' (${code(G5_2X)}) is 4; 1 in use; green needs 2` },
    ]);
    expect(account.configs.has(NAMES.transitionEndpointConfigName)).toBe(false);
    expect(account.configs.has(BLUE.endpointConfigName)).toBe(true);
    expect(sageMaker).toHaveReceivedCommandTimes(DeleteEndpointConfigCommand, 1);
    expect(sageMaker).not.toHaveReceivedCommand(DeleteModelCommand);
    expect(sageMaker).not.toHaveReceivedCommand(UpdateEndpointCommand);
  });

  test('a failure of the last candidate: InsufficientCapacity with every type and why', async () => {
    serve({ [G5]: 4, [G5_2X]: 4 });
    const plan = planWithFallbacks(makePlan(), [G5_2X]);
    const previous = await firstChoice(plan);
    expect(previous.candidateIndex).toBe(1);
    account.configs.set(NAMES.transitionEndpointConfigName, leftoverTransitionConfig(G5_2X));
    const refused = `UpdateEndpoint refused green's 2 x ${G5_2X} on endpoint ${ENDPOINT}: ResourceLimitExceeded: The account-level service limit ...`;

    await expect(handler(tryNextInput(plan, previous, { Error: 'CapacityUnavailable', Cause: lambdaCause('CapacityUnavailable', refused) }))).rejects.toMatchObject({
      name: 'InsufficientCapacity',
      message: expect.stringContaining(`${G5}: quota '${G5} for endpoint usage' (${code(G5)}) is 4; 3 in use; green needs 2; ${G5_2X}: ${refused}. `),
    });
    // What the attempt left is cleaned up even when nothing is left to try.
    expect(account.configs.has(NAMES.transitionEndpointConfigName)).toBe(false);
  });

  test('the next type is checked against the quotas again: a fallback without room is skipped', async () => {
    serve({ [G5]: 8, [G5_2X]: 2 });
    const plan = planWithFallbacks();
    const previous = await firstChoice(plan);
    const result = await handler(tryNextInput(plan, previous, { Error: 'CapacityUnavailable', Cause: lambdaCause('CapacityUnavailable', 'rolled back') }));
    expect(result.candidateIndex).toBe(2);
    expect(result.green.instanceType).toBe(G6_2X);
    expect(result.tried.map((t) => t.instanceType)).toEqual([G5, G5_2X, G6_2X]);
    expect(result.tried[1]!.reason).toMatch(/is 2; 1 in use; green needs 2$/);
  });

  test('a second failure: the configured type is still known from tried[0], and each failure is kept', async () => {
    serve({ [G5]: 8 });
    const plan = planWithFallbacks();
    const first = await firstChoice(plan);
    const second = await handler(tryNextInput(plan, first, { Error: 'CapacityUnavailable', Cause: lambdaCause('CapacityUnavailable', 'first failure') }));
    const third = await handler(tryNextInput(plan, second, { Error: 'CapacityUnavailable', Cause: lambdaCause('CapacityUnavailable', 'second failure') }));
    expect(third.green.instanceType).toBe(G6_2X);
    expect(third.tried).toEqual([
      { instanceType: G5, reason: 'first failure' },
      { instanceType: G5_2X, reason: 'second failure' },
      { instanceType: G6_2X, reason: expect.stringMatching(/^no quota/) },
    ]);
  });

  test('a first deployment refused by its quota: the final config the attempt created is deleted', async () => {
    serve({ [G5]: 8 }, [], [{ name: NAMES.finalEndpointConfigName, variants: [{ name: NAMES.greenVariantName, instanceType: G5, initialInstanceCount: 2 }], tags: managedTags() }]);
    const plan = planWithFallbacks(makeFirstDeploymentPlan());
    const previous = await firstChoice(plan);
    const result = await handler(tryNextInput(plan, previous, { Error: 'CapacityUnavailable', Cause: lambdaCause('CapacityUnavailable', 'CreateEndpoint refused') }));
    expect(result.green.instanceType).toBe(G5_2X);
    expect(account.configs.size).toBe(0);
    expect(sageMaker).not.toHaveReceivedCommand(CreateEndpointCommand);
  });

  test('a leftover config not created by this rollout is not deleted, and no other type is tried', async () => {
    serve({ [G5]: 8 });
    const plan = planWithFallbacks();
    const previous = await firstChoice(plan);
    account.configs.set(NAMES.transitionEndpointConfigName, leftoverTransitionConfig(G5, managedTags('0badc0de')));
    await expect(handler(tryNextInput(plan, previous, { Error: 'CapacityUnavailable', Cause: lambdaCause('CapacityUnavailable', 'x') }))).rejects.toMatchObject({
      name: 'EndpointNotReady',
      message: expect.stringMatching(new RegExp(`^Endpoint config ${NAMES.transitionEndpointConfigName}, from the attempt on ${G5}, was not created by this rollout`)),
    });
    expect(account.configs.has(NAMES.transitionEndpointConfigName)).toBe(true);
    expect(sageMaker).not.toHaveReceivedCommand(DeleteEndpointConfigCommand);
  });

  test('a leftover config the endpoint is moving to is not deleted', async () => {
    const updating: FakeAccountEndpoint = {
      ...BLUE_ENDPOINT,
      status: 'Updating',
      pending: { configName: NAMES.transitionEndpointConfigName, variants: [{ name: NAMES.greenVariantName, instanceType: G5, current: 0, desired: 2 }] },
    };
    serve({ [G5]: 8 }, [updating, OTHER_ENDPOINT]);
    const plan = planWithFallbacks();
    const previous = await firstChoice(plan);
    account.configs.set(NAMES.transitionEndpointConfigName, leftoverTransitionConfig());
    await expect(handler(tryNextInput(plan, previous, { Error: 'CapacityUnavailable', Cause: lambdaCause('CapacityUnavailable', 'x') }))).rejects.toMatchObject({
      name: 'EndpointNotReady',
      message: expect.stringMatching(/is in use by endpoint fraud-detector-prod \(Updating\)/),
    });
    expect(account.configs.has(NAMES.transitionEndpointConfigName)).toBe(true);
  });

  test('a failure that is not CapacityUnavailable is recorded with its error name', async () => {
    serve({});
    const plan = planWithFallbacks();
    const previous = await firstChoice(plan);
    const result = await handler(tryNextInput(plan, previous, { Error: 'ResourceLimitExceeded', Cause: 'The account-level service limit ...' }));
    expect(result.tried[0]).toEqual({ instanceType: G5, reason: 'ResourceLimitExceeded: The account-level service limit ...' });
  });
});

describe('check-capacity input', () => {
  test('a failure without the previous result is refused, naming the field, without calling AWS', async () => {
    await expect(handler({ plan: planWithFallbacks(), previous: {}, failure: { Error: 'CapacityUnavailable', Cause: 'x' } })).rejects.toMatchObject({
      name: 'InputValidationError',
      message: expect.stringMatching(/^check-capacity: invalid input: previous: /),
    });
    expect(sageMaker.calls()).toHaveLength(0);
    expect(serviceQuotas.calls()).toHaveLength(0);
  });

  test('a previous result that does not match the plan\'s green is refused', async () => {
    const plan = planWithFallbacks();
    const previous: CapacityChoice = { green: plan.green, candidateIndex: 1, tried: [{ instanceType: G5, reason: 'a' }, { instanceType: G5_2X, reason: 'b' }], message: 'm' };
    await expect(handler({ plan, previous, failure: { Error: 'CapacityUnavailable', Cause: 'x' } })).rejects.toMatchObject({
      name: 'InputValidationError',
      message: expect.stringMatching(/does not match plan\.green\.instanceType ml\.g5\.xlarge/),
    });
  });

  test.each([
    [{}, /plan: /],
    [{ plan: makePlan(), previous: { candidateIndex: -1 } }, /previous/],
    [{ plan: makePlan(), failure: { Cause: 'x' } }, /failure\.Error: /],
  ])('rejects %#, naming the field', async (event, message) => {
    await expect(handler(event)).rejects.toMatchObject({ name: 'InputValidationError', message: expect.stringMatching(message) });
  });
});

describe('fallbackInstanceTypes in the configuration', () => {
  const withGreen = (green: Record<string, unknown>) => ({ targets: [{ ...TARGET_CONFIG.targets[0], green: { ...TARGET_CONFIG.targets[0]!.green, ...green } }] });

  test('defaults to none; an ordered list of other ml. types is kept as given', () => {
    expect(RolloutConfigSchema.parse(withGreen({})).targets[0]!.green.fallbackInstanceTypes).toEqual([]);
    expect(RolloutConfigSchema.parse(withGreen({ fallbackInstanceTypes: [G6_2X, G5_2X] })).targets[0]!.green.fallbackInstanceTypes).toEqual([G6_2X, G5_2X]);
  });

  test.each([
    [[G5_2X, G5_2X], `fallbackInstanceTypes: ${G5_2X} is listed twice`],
    [[G5], `fallbackInstanceTypes: ${G5} is the configured instanceType`],
    [['g5.2xlarge'], 'fallbackInstanceTypes: each must look like ml.g5.2xlarge'],
  ])('refuses %p', (fallbackInstanceTypes, message) => {
    const result = RolloutConfigSchema.safeParse(withGreen({ fallbackInstanceTypes }));
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((issue) => issue.message)).toContain(message);
  });
});

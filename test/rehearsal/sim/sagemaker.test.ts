/**
 * The SageMaker control plane, through the real SDK client: lifecycles on virtual time, AWS's error names
 * and messages, and the update semantics the rollout relies on.
 */
import {
  AddTagsCommand,
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DeleteTagsCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  DescribeModelPackageCommand,
  ListTagsCommand,
  UpdateEndpointCommand,
  UpdateEndpointWeightsAndCapacitiesCommand,
  type ProductionVariant,
} from '@aws-sdk/client-sagemaker';
import type { EndpointChange } from '../../../rehearsal/sim/world';
import {
  advanceSeconds,
  BLUE_DATA,
  drive,
  driveError,
  GREEN_DATA,
  harness,
  IMAGE,
  installClock,
  ROLE_ARN,
  START_MS,
  type FakeClock,
  type Harness,
} from './helpers';

const ENDPOINT = 'fraud-prod';
const ACCOUNT_PREFIX = 'arn:aws:sagemaker:us-east-1:123456789012';

let clock: FakeClock;
let h: Harness;

beforeEach(() => {
  clock = installClock();
  h = harness();
});
afterEach(() => clock.uninstall());

const send = <T>(work: Promise<T>): Promise<T> => drive(clock, work);
const sendError = (work: Promise<unknown>) => driveError(clock, work);

function variant(name: string, modelName: string, overrides: Partial<ProductionVariant> = {}): ProductionVariant {
  return { VariantName: name, ModelName: modelName, InstanceType: 'ml.g5.xlarge', InitialInstanceCount: 1, InitialVariantWeight: 1, ...overrides };
}

async function createModel(name: string, modelDataUrl = BLUE_DATA): Promise<void> {
  await send(h.sagemaker.send(new CreateModelCommand({ ModelName: name, ExecutionRoleArn: ROLE_ARN, PrimaryContainer: { Image: IMAGE, ModelDataUrl: modelDataUrl } })));
}

async function createConfig(name: string, variants: ProductionVariant[]): Promise<void> {
  await send(h.sagemaker.send(new CreateEndpointConfigCommand({ EndpointConfigName: name, ProductionVariants: variants })));
}

const describe_ = (name = ENDPOINT) => send(h.sagemaker.send(new DescribeEndpointCommand({ EndpointName: name })));

/** Blue alone, InService, on config `blue-config`. */
async function blueInService(blueOverrides: Partial<ProductionVariant> = {}): Promise<void> {
  await createModel('blue-model', BLUE_DATA);
  await createConfig('blue-config', [variant('blue', 'blue-model', blueOverrides)]);
  await send(h.sagemaker.send(new CreateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'blue-config' })));
  await advanceSeconds(clock, 480);
}

/** The transition config: blue as it is plus green at weight 0. */
async function createTransitionConfig(blueOverrides: Partial<ProductionVariant> = {}): Promise<void> {
  await createModel('green-model', GREEN_DATA);
  await createConfig('transition-config', [variant('blue', 'blue-model', blueOverrides), variant('green', 'green-model', { InitialVariantWeight: 0 })]);
}

describe('endpoint lifecycle', () => {
  test('CreateEndpoint is Creating for createEndpointSeconds, then InService with the config variants', async () => {
    await createModel('blue-model');
    await createConfig('blue-config', [variant('blue', 'blue-model', { InitialInstanceCount: 2 })]);
    const created = await send(h.sagemaker.send(new CreateEndpointCommand({ EndpointName: 'Fraud-Prod', EndpointConfigName: 'blue-config' })));
    // SageMaker lowercases the resource name in ARNs.
    expect(created.EndpointArn).toBe(`${ACCOUNT_PREFIX}:endpoint/fraud-prod`);

    const creating = await describe_('Fraud-Prod');
    expect(creating.EndpointStatus).toBe('Creating');
    expect(creating.ProductionVariants).toBeUndefined();

    await advanceSeconds(clock, 479);
    expect((await describe_('Fraud-Prod')).EndpointStatus).toBe('Creating');
    await advanceSeconds(clock, 1);
    const inService = await describe_('Fraud-Prod');
    expect(inService).toMatchObject({
      EndpointName: 'Fraud-Prod',
      EndpointConfigName: 'blue-config',
      EndpointStatus: 'InService',
      ProductionVariants: [{ VariantName: 'blue', CurrentWeight: 1, DesiredWeight: 1, CurrentInstanceCount: 2, DesiredInstanceCount: 2 }],
    });
    expect(inService.ProductionVariants![0]!.DeployedImages![0]!.SpecifiedImage).toBe(IMAGE);
    expect(inService.CreationTime).toBeInstanceOf(Date);
    // Created when the call was answered (after the 40 ms API latency), in service 480 s later.
    expect(inService.CreationTime!.getTime()).toBe(START_MS + 3 * 40);
    expect(inService.LastModifiedTime!.getTime()).toBe(START_MS + 3 * 40 + 480_000);
  });

  test('every control-plane call waits apiLatencyMs of virtual time', async () => {
    let answered = false;
    const call = h.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'missing' })).catch(() => {
      answered = true;
    });
    await clock.tickAsync(39);
    expect(answered).toBe(false);
    await clock.tickAsync(1);
    await call;
    expect(answered).toBe(true);
    expect(Date.now()).toBe(START_MS + 40);
  });

  test('UpdateEndpoint keeps the old config and variants while Updating, then serves the new config', async () => {
    await blueInService();
    await createTransitionConfig();
    await send(h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'transition-config' })));

    const updating = await describe_();
    expect(updating.EndpointStatus).toBe('Updating');
    expect(updating.EndpointConfigName).toBe('blue-config');
    expect(updating.ProductionVariants!.map((v) => v.VariantName)).toEqual(['blue']);
    expect(updating.PendingDeploymentSummary?.EndpointConfigName).toBe('transition-config');

    await advanceSeconds(clock, 600);
    const updated = await describe_();
    expect(updated.EndpointStatus).toBe('InService');
    expect(updated.EndpointConfigName).toBe('transition-config');
    expect(updated.FailureReason).toBeUndefined();
    expect(updated.ProductionVariants!.map((v) => [v.VariantName, v.CurrentWeight, v.CurrentInstanceCount])).toEqual([
      ['blue', 1, 1],
      ['green', 0, 1],
    ]);
  });

  test('UpdateEndpoint without RetainAllVariantProperties resets counts and weights to the new config', async () => {
    await blueInService();
    await send(
      h.sagemaker.send(new UpdateEndpointWeightsAndCapacitiesCommand({ EndpointName: ENDPOINT, DesiredWeightsAndCapacities: [{ VariantName: 'blue', DesiredWeight: 3, DesiredInstanceCount: 4 }] })),
    );
    await advanceSeconds(clock, 30);
    await createTransitionConfig();
    await send(h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'transition-config' })));
    await advanceSeconds(clock, 600);
    const blue = (await describe_()).ProductionVariants!.find((v) => v.VariantName === 'blue')!;
    expect([blue.CurrentWeight, blue.CurrentInstanceCount]).toEqual([1, 1]);
  });

  test('RetainAllVariantProperties keeps current count and weight of variants in both configs, except excluded properties', async () => {
    await blueInService();
    await send(
      h.sagemaker.send(new UpdateEndpointWeightsAndCapacitiesCommand({ EndpointName: ENDPOINT, DesiredWeightsAndCapacities: [{ VariantName: 'blue', DesiredWeight: 3, DesiredInstanceCount: 4 }] })),
    );
    await advanceSeconds(clock, 30);
    await createTransitionConfig({ InitialInstanceCount: 2, InitialVariantWeight: 5 });

    await send(h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'transition-config', RetainAllVariantProperties: true })));
    await advanceSeconds(clock, 600);
    let variants = (await describe_()).ProductionVariants!;
    expect(variants.map((v) => [v.VariantName, v.CurrentWeight, v.CurrentInstanceCount])).toEqual([
      ['blue', 3, 4], // retained
      ['green', 0, 1], // new: from the config
    ]);

    await createConfig('transition-config-2', [variant('blue', 'blue-model', { InitialInstanceCount: 2, InitialVariantWeight: 5 }), variant('green', 'green-model', { InitialVariantWeight: 0 })]);
    await send(
      h.sagemaker.send(
        new UpdateEndpointCommand({
          EndpointName: ENDPOINT,
          EndpointConfigName: 'transition-config-2',
          RetainAllVariantProperties: true,
          ExcludeRetainedVariantProperties: [{ VariantPropertyType: 'DesiredWeight' }],
        }),
      ),
    );
    await advanceSeconds(clock, 600);
    variants = (await describe_()).ProductionVariants!;
    // Weight from the new config, instance count retained.
    expect(variants.map((v) => [v.VariantName, v.CurrentWeight, v.CurrentInstanceCount])).toEqual([
      ['blue', 5, 4],
      ['green', 0, 1],
    ]);
  });

  test('ExcludeRetainedVariantProperties without RetainAllVariantProperties is rejected', async () => {
    await blueInService();
    const error = await sendError(
      h.sagemaker.send(
        new UpdateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'blue-config', ExcludeRetainedVariantProperties: [{ VariantPropertyType: 'DesiredWeight' }] }),
      ),
    );
    expect(error.name).toBe('ValidationException');
    expect(error.message).toMatch(/RetainAllVariantProperties/);
  });

  test('UpdateEndpointWeightsAndCapacities shows DesiredWeight at once and applies CurrentWeight after updateWeightsSeconds', async () => {
    await blueInService();
    await createTransitionConfig();
    await send(h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'transition-config' })));
    await advanceSeconds(clock, 600);

    await send(
      h.sagemaker.send(
        new UpdateEndpointWeightsAndCapacitiesCommand({
          EndpointName: ENDPOINT,
          DesiredWeightsAndCapacities: [
            { VariantName: 'blue', DesiredWeight: 0 },
            { VariantName: 'green', DesiredWeight: 1 },
          ],
        }),
      ),
    );
    const shifting = await describe_();
    expect(shifting.EndpointStatus).toBe('Updating');
    expect(shifting.EndpointConfigName).toBe('transition-config');
    expect(shifting.ProductionVariants!.map((v) => [v.VariantName, v.CurrentWeight, v.DesiredWeight])).toEqual([
      ['blue', 1, 0],
      ['green', 0, 1],
    ]);
    await advanceSeconds(clock, 30);
    const shifted = await describe_();
    expect(shifted.EndpointStatus).toBe('InService');
    expect(shifted.EndpointConfigName).toBe('transition-config');
    expect(shifted.ProductionVariants!.map((v) => [v.VariantName, v.CurrentWeight])).toEqual([
      ['blue', 0],
      ['green', 1],
    ]);
  });

  test('DeleteEndpoint is Deleting for deleteEndpointSeconds, then the endpoint is gone', async () => {
    await blueInService();
    await send(h.sagemaker.send(new DeleteEndpointCommand({ EndpointName: ENDPOINT })));
    expect((await describe_()).EndpointStatus).toBe('Deleting');
    await advanceSeconds(clock, 90);
    const error = await sendError(h.sagemaker.send(new DescribeEndpointCommand({ EndpointName: ENDPOINT })));
    expect(error.name).toBe('ValidationException');
    expect(h.aws.sagemaker.endpointSnapshot(ENDPOINT)).toBeUndefined();
    // Once gone, its config can be deleted and the name reused.
    await send(h.sagemaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName: 'blue-config' })));
    await createConfig('blue-config', [variant('blue', 'blue-model')]);
    await send(h.sagemaker.send(new CreateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'blue-config' })));
    expect((await describe_()).EndpointStatus).toBe('Creating');
  });
});

describe('failed updates and creations', () => {
  test('an update-rollback fault runs the full update, then leaves the endpoint InService on the old config', async () => {
    h = harness({ faults: [{ kind: 'update-rollback', endpointConfigName: 'transition-config', reason: 'capacity gone' }] });
    await blueInService();
    await createTransitionConfig();
    await send(h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'transition-config' })));
    await advanceSeconds(clock, 599);
    expect((await describe_()).EndpointStatus).toBe('Updating');
    await advanceSeconds(clock, 1);

    const rolledBack = await describe_();
    expect(rolledBack.EndpointStatus).toBe('InService');
    expect(rolledBack.EndpointConfigName).toBe('blue-config');
    expect(rolledBack.FailureReason).toBe('capacity gone');
    expect(rolledBack.ProductionVariants!.map((v) => v.VariantName)).toEqual(['blue']);
    expect(rolledBack.LastModifiedTime!.getTime()).toBeGreaterThan(rolledBack.CreationTime!.getTime() + 1_000_000);

    // times defaults to 1: the next update goes through.
    await send(h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'transition-config' })));
    await advanceSeconds(clock, 600);
    const updated = await describe_();
    expect(updated.EndpointConfigName).toBe('transition-config');
    expect(updated.FailureReason).toBeUndefined();
  });

  test('an update-rollback fault for another config leaves this update alone', async () => {
    h = harness({ faults: [{ kind: 'update-rollback', endpointConfigName: 'other-config' }] });
    await blueInService();
    await createTransitionConfig();
    await send(h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'transition-config' })));
    await advanceSeconds(clock, 600);
    expect((await describe_()).EndpointConfigName).toBe('transition-config');
  });

  test('a container failing its health check rolls an UpdateEndpoint back, naming the variant', async () => {
    h.aws.runtime.setBehaviour(GREEN_DATA, { failsHealthCheck: true });
    await blueInService();
    await createTransitionConfig();
    await send(h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'transition-config' })));
    await advanceSeconds(clock, 600);
    const endpoint = await describe_();
    expect(endpoint.EndpointStatus).toBe('InService');
    expect(endpoint.EndpointConfigName).toBe('blue-config');
    expect(endpoint.FailureReason).toBe(
      'The primary container for production variant green did not pass the ping health check. Please check CloudWatch logs for this endpoint.',
    );
  });

  test('a container failing its health check makes CreateEndpoint end Failed; only DeleteEndpoint is then allowed', async () => {
    h.aws.runtime.setBehaviour(BLUE_DATA, { failsHealthCheck: true });
    await blueInService();
    const failed = await describe_();
    expect(failed.EndpointStatus).toBe('Failed');
    expect(failed.FailureReason).toMatch(/production variant blue did not pass the ping health check/);

    const update = await sendError(h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'blue-config' })));
    expect(update.name).toBe('ValidationException');
    expect(update.message).toMatch(/Failed status.*Only DeleteEndpoint is allowed/);
    const weights = await sendError(
      h.sagemaker.send(new UpdateEndpointWeightsAndCapacitiesCommand({ EndpointName: ENDPOINT, DesiredWeightsAndCapacities: [{ VariantName: 'blue', DesiredWeight: 1 }] })),
    );
    expect(weights.name).toBe('ValidationException');

    await send(h.sagemaker.send(new DeleteEndpointCommand({ EndpointName: ENDPOINT })));
    expect((await describe_()).EndpointStatus).toBe('Deleting');
  });

  test('a create-failure fault makes CreateEndpoint end Failed after its full duration', async () => {
    h = harness({ faults: [{ kind: 'create-failure', reason: 'no GPUs today' }] });
    await createModel('blue-model');
    await createConfig('blue-config', [variant('blue', 'blue-model')]);
    await send(h.sagemaker.send(new CreateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'blue-config' })));
    await advanceSeconds(clock, 479);
    expect((await describe_()).EndpointStatus).toBe('Creating');
    await advanceSeconds(clock, 1);
    const failed = await describe_();
    expect([failed.EndpointStatus, failed.FailureReason]).toEqual(['Failed', 'no GPUs today']);
  });
});

describe('rejections', () => {
  const expectRejection = async (work: Promise<unknown>, name: string, message: string | RegExp): Promise<void> => {
    const error = await sendError(work);
    expect(error.name).toBe(name);
    if (typeof message === 'string') expect(error.message).toBe(message);
    else expect(error.message).toMatch(message);
    expect(error.$metadata.httpStatusCode).toBe(400);
  };

  test('missing endpoint, config, model and model package', async () => {
    const endpointMessage = `Could not find endpoint "${ACCOUNT_PREFIX}:endpoint/nope-endpoint".`;
    await expectRejection(h.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'Nope-Endpoint' })), 'ValidationException', endpointMessage);
    await expectRejection(
      h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: 'nope-endpoint', EndpointConfigName: 'c' })),
      'ValidationException',
      endpointMessage,
    );
    await expectRejection(h.sagemaker.send(new DeleteEndpointCommand({ EndpointName: 'nope-endpoint' })), 'ValidationException', endpointMessage);
    await expectRejection(
      h.sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: 'Nope-Config' })),
      'ValidationException',
      `Could not find endpoint configuration "${ACCOUNT_PREFIX}:endpoint-config/nope-config".`,
    );
    await expectRejection(
      h.sagemaker.send(new DescribeModelCommand({ ModelName: 'nope-model' })),
      'ValidationException',
      `Could not find model "${ACCOUNT_PREFIX}:model/nope-model".`,
    );
    await expectRejection(
      h.sagemaker.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'c', ProductionVariants: [variant('blue', 'nope-model')] })),
      'ValidationException',
      `Could not find model "${ACCOUNT_PREFIX}:model/nope-model".`,
    );
    await expectRejection(
      h.sagemaker.send(new CreateEndpointCommand({ EndpointName: 'e', EndpointConfigName: 'nope-config' })),
      'ValidationException',
      `Could not find endpoint configuration "${ACCOUNT_PREFIX}:endpoint-config/nope-config".`,
    );
    const packageArn = `${ACCOUNT_PREFIX}:model-package/fraud-detector/9`;
    await expectRejection(
      h.sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: packageArn })),
      'ValidationException',
      `ModelPackage ${packageArn} does not exist.`,
    );
  });

  test('creating what already exists', async () => {
    await blueInService();
    await expectRejection(
      h.sagemaker.send(new CreateModelCommand({ ModelName: 'Blue-Model', ExecutionRoleArn: ROLE_ARN, PrimaryContainer: { Image: IMAGE } })),
      'ValidationException',
      `Cannot create already existing model "${ACCOUNT_PREFIX}:model/blue-model".`,
    );
    await expectRejection(
      h.sagemaker.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'blue-config', ProductionVariants: [variant('blue', 'blue-model')] })),
      'ValidationException',
      `Cannot create already existing endpoint configuration "${ACCOUNT_PREFIX}:endpoint-config/blue-config".`,
    );
    await expectRejection(
      h.sagemaker.send(new CreateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'blue-config' })),
      'ValidationException',
      `Cannot create already existing endpoint "${ACCOUNT_PREFIX}:endpoint/fraud-prod".`,
    );
  });

  test('mutating an endpoint that is Creating, Updating or Deleting', async () => {
    const inProgress = `Cannot update in-progress endpoint "${ACCOUNT_PREFIX}:endpoint/fraud-prod".`;
    await createModel('blue-model');
    await createConfig('blue-config', [variant('blue', 'blue-model')]);
    await send(h.sagemaker.send(new CreateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'blue-config' })));
    await expectRejection(h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'blue-config' })), 'ValidationException', inProgress);
    await expectRejection(h.sagemaker.send(new DeleteEndpointCommand({ EndpointName: ENDPOINT })), 'ValidationException', inProgress);

    await advanceSeconds(clock, 480);
    await send(
      h.sagemaker.send(new UpdateEndpointWeightsAndCapacitiesCommand({ EndpointName: ENDPOINT, DesiredWeightsAndCapacities: [{ VariantName: 'blue', DesiredWeight: 2 }] })),
    );
    await expectRejection(
      h.sagemaker.send(new UpdateEndpointWeightsAndCapacitiesCommand({ EndpointName: ENDPOINT, DesiredWeightsAndCapacities: [{ VariantName: 'blue', DesiredWeight: 3 }] })),
      'ValidationException',
      inProgress,
    );
    await advanceSeconds(clock, 30);
    await send(h.sagemaker.send(new DeleteEndpointCommand({ EndpointName: ENDPOINT })));
    await expectRejection(h.sagemaker.send(new DeleteEndpointCommand({ EndpointName: ENDPOINT })), 'ValidationException', inProgress);
  });

  test('deleting a config or model an endpoint uses or is updating to', async () => {
    await blueInService();
    await createTransitionConfig();
    await expectRejection(
      h.sagemaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName: 'blue-config' })),
      'ValidationException',
      `Cannot delete endpoint configuration "${ACCOUNT_PREFIX}:endpoint-config/blue-config": it is in use by endpoint "fraud-prod".`,
    );
    await expectRejection(
      h.sagemaker.send(new DeleteModelCommand({ ModelName: 'blue-model' })),
      'ValidationException',
      `Cannot delete model "${ACCOUNT_PREFIX}:model/blue-model": it is in use by endpoint "fraud-prod".`,
    );
    // Green is not in use yet: its model could go.
    await send(h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'transition-config' })));
    await expectRejection(h.sagemaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName: 'transition-config' })), 'ValidationException', /is in use by endpoint "fraud-prod"/);
    await expectRejection(h.sagemaker.send(new DeleteModelCommand({ ModelName: 'green-model' })), 'ValidationException', /is in use by endpoint "fraud-prod"/);
    await advanceSeconds(clock, 600);
    // The endpoint moved off blue-config: it can be deleted now.
    await send(h.sagemaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName: 'blue-config' })));
    await expectRejection(h.sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: 'blue-config' })), 'ValidationException', /Could not find endpoint configuration/);
  });

  test('UpdateEndpointWeightsAndCapacities with an unknown variant or all weights zero', async () => {
    await blueInService();
    await expectRejection(
      h.sagemaker.send(new UpdateEndpointWeightsAndCapacitiesCommand({ EndpointName: ENDPOINT, DesiredWeightsAndCapacities: [{ VariantName: 'green', DesiredWeight: 1 }] })),
      'ValidationException',
      /\[green\] are not present in endpoint/,
    );
    await expectRejection(
      h.sagemaker.send(new UpdateEndpointWeightsAndCapacitiesCommand({ EndpointName: ENDPOINT, DesiredWeightsAndCapacities: [{ VariantName: 'blue', DesiredWeight: 0 }] })),
      'ValidationException',
      /must be greater than 0/,
    );
    // Nothing changed.
    expect((await describe_()).EndpointStatus).toBe('InService');
  });

  test('names: pattern and length, with AWS member paths', async () => {
    await expectRejection(
      h.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'bad_name' })),
      'ValidationException',
      "1 validation error detected: Value 'bad_name' at 'endpointName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$",
    );
    const long = 'a'.repeat(64);
    await expectRejection(
      h.sagemaker.send(new CreateModelCommand({ ModelName: long, ExecutionRoleArn: ROLE_ARN, PrimaryContainer: { Image: IMAGE } })),
      'ValidationException',
      `1 validation error detected: Value '${long}' at 'modelName' failed to satisfy constraint: Member must have length less than or equal to 63`,
    );
    await expectRejection(
      h.sagemaker.send(new CreateModelCommand({ ModelName: 'ends-with-dash-', ExecutionRoleArn: ROLE_ARN, PrimaryContainer: { Image: IMAGE } })),
      'ValidationException',
      /at 'modelName' failed to satisfy constraint: Member must satisfy regular expression pattern/,
    );
    await createModel('m');
    await expectRejection(
      h.sagemaker.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'c', ProductionVariants: [variant('blue.v1', 'm')] })),
      'ValidationException',
      /Value 'blue\.v1' at 'productionVariants\.1\.member\.variantName' failed to satisfy constraint/,
    );
  });

  test('production variants: count, uniqueness and ranges', async () => {
    await createModel('m');
    const config = (variants: ProductionVariant[]) => h.sagemaker.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'c', ProductionVariants: variants }));
    await expectRejection(config([]), 'ValidationException', /at 'productionVariants' failed to satisfy constraint: Member must have length greater than or equal to 1/);
    await expectRejection(
      config(Array.from({ length: 11 }, (_, index) => variant(`v${index}`, 'm'))),
      'ValidationException',
      /at 'productionVariants' failed to satisfy constraint: Member must have length less than or equal to 10/,
    );
    await expectRejection(config([variant('blue', 'm'), variant('blue', 'm')]), 'ValidationException', /\[blue\] are duplicated/);
    const cases: [Partial<ProductionVariant>, string][] = [
      [{ InitialInstanceCount: 0 }, "Value '0' at 'productionVariants.1.member.initialInstanceCount' failed to satisfy constraint: Member must have value greater than or equal to 1"],
      [{ InitialVariantWeight: -1 }, "Value '-1' at 'productionVariants.1.member.initialVariantWeight' failed to satisfy constraint: Member must have value greater than or equal to 0"],
      [{ VolumeSizeInGB: 513 }, "Value '513' at 'productionVariants.1.member.volumeSizeInGB' failed to satisfy constraint: Member must have value less than or equal to 512"],
      [{ ModelDataDownloadTimeoutInSeconds: 59 }, "Value '59' at 'productionVariants.1.member.modelDataDownloadTimeoutInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 60"],
      [
        { ContainerStartupHealthCheckTimeoutInSeconds: 3601 },
        "Value '3601' at 'productionVariants.1.member.containerStartupHealthCheckTimeoutInSeconds' failed to satisfy constraint: Member must have value less than or equal to 3600",
      ],
    ];
    for (const [overrides, detail] of cases) {
      await expectRejection(config([variant('blue', 'm', overrides)]), 'ValidationException', `1 validation error detected: ${detail}`);
    }
    // Several violations are reported together.
    await expectRejection(config([variant('blue', 'm', { InitialInstanceCount: 0, VolumeSizeInGB: 0 })]), 'ValidationException', /^2 validation errors detected: /);
  });

  test('CreateModel requires ExecutionRoleArn and a container', async () => {
    await expectRejection(
      h.sagemaker.send(new CreateModelCommand({ ModelName: 'm', PrimaryContainer: { Image: IMAGE } })),
      'ValidationException',
      "1 validation error detected: Value null at 'executionRoleArn' failed to satisfy constraint: Member must not be null",
    );
    await expectRejection(h.sagemaker.send(new CreateModelCommand({ ModelName: 'm', ExecutionRoleArn: ROLE_ARN })), 'ValidationException', /Either PrimaryContainer or Containers/);
  });

  test('tags: at most 50, bounded key and value lengths, no reserved aws: prefix', async () => {
    const create = (tags: { Key: string; Value: string }[]) =>
      h.sagemaker.send(new CreateModelCommand({ ModelName: 'm', ExecutionRoleArn: ROLE_ARN, PrimaryContainer: { Image: IMAGE }, Tags: tags }));
    const many = Array.from({ length: 51 }, (_, index) => ({ Key: `k${index}`, Value: 'v' }));
    await expectRejection(create(many), 'ValidationException', /at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50/);
    await expectRejection(create([{ Key: 'k'.repeat(129), Value: 'v' }]), 'ValidationException', /at 'tags\.1\.member\.key' failed to satisfy constraint: Member must have length less than or equal to 128/);
    await expectRejection(create([{ Key: 'k', Value: 'v'.repeat(257) }]), 'ValidationException', /at 'tags\.1\.member\.value' failed to satisfy constraint: Member must have length less than or equal to 256/);
    await expectRejection(create([{ Key: 'aws:owner', Value: 'me' }]), 'ValidationException', /reserved/);
  });
});

describe('tags', () => {
  test('Create* stores tags; ListTags, AddTags and DeleteTags work on models, configs and endpoints by ARN', async () => {
    const tags = [{ Key: 'bluegreen:managed-by', Value: 'sagemaker-blue-green' }];
    const model = await send(
      h.sagemaker.send(new CreateModelCommand({ ModelName: 'm', ExecutionRoleArn: ROLE_ARN, PrimaryContainer: { Image: IMAGE }, Tags: tags })),
    );
    const config = await send(h.sagemaker.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'c', ProductionVariants: [variant('blue', 'm')], Tags: tags })));
    const endpoint = await send(h.sagemaker.send(new CreateEndpointCommand({ EndpointName: 'e', EndpointConfigName: 'c', Tags: tags })));
    for (const arn of [model.ModelArn!, config.EndpointConfigArn!, endpoint.EndpointArn!]) {
      expect((await send(h.sagemaker.send(new ListTagsCommand({ ResourceArn: arn })))).Tags).toEqual(tags);
    }
    await send(h.sagemaker.send(new AddTagsCommand({ ResourceArn: endpoint.EndpointArn!, Tags: [{ Key: 'team', Value: 'fraud' }] })));
    await send(h.sagemaker.send(new DeleteTagsCommand({ ResourceArn: endpoint.EndpointArn!, TagKeys: ['bluegreen:managed-by'] })));
    expect((await send(h.sagemaker.send(new ListTagsCommand({ ResourceArn: endpoint.EndpointArn! })))).Tags).toEqual([{ Key: 'team', Value: 'fraud' }]);
    expect(h.aws.sagemaker.listModels()).toEqual([{ name: 'm', tags }]);
    expect(h.aws.sagemaker.listEndpointConfigs()).toEqual([{ name: 'c', tags }]);

    const missing = await sendError(h.sagemaker.send(new ListTagsCommand({ ResourceArn: `${ACCOUNT_PREFIX}:model/gone` })));
    expect([missing.name, missing.message]).toEqual(['ValidationException', `Could not find model "${ACCOUNT_PREFIX}:model/gone".`]);
  });
});

describe('model packages and models', () => {
  test('DescribeModelPackage returns the seeded package; CreateModel resolves a container from it', async () => {
    const arn = h.aws.sagemaker.putModelPackage({
      groupName: 'Fraud-Detector',
      version: 7,
      approvalStatus: 'Approved',
      containers: [{ image: IMAGE, modelDataUrl: GREEN_DATA, environment: { MODEL_SERVER_WORKERS: '2' } }],
      supportedContentTypes: ['application/json'],
      supportedRealtimeInferenceInstanceTypes: ['ml.g5.xlarge'],
    });
    expect(arn).toBe(`${ACCOUNT_PREFIX}:model-package/fraud-detector/7`);
    const described = await send(h.sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: arn })));
    expect(described).toMatchObject({
      ModelPackageGroupName: 'Fraud-Detector',
      ModelPackageVersion: 7,
      ModelPackageArn: arn,
      ModelApprovalStatus: 'Approved',
      ModelPackageStatus: 'Completed',
      InferenceSpecification: {
        Containers: [{ Image: IMAGE, ModelDataUrl: GREEN_DATA, Environment: { MODEL_SERVER_WORKERS: '2' } }],
        SupportedContentTypes: ['application/json'],
        SupportedRealtimeInferenceInstanceTypes: ['ml.g5.xlarge'],
      },
    });
    expect(described.CreationTime).toBeInstanceOf(Date);

    await send(h.sagemaker.send(new CreateModelCommand({ ModelName: 'green-model', ExecutionRoleArn: ROLE_ARN, PrimaryContainer: { ModelPackageName: arn } })));
    const model = await send(h.sagemaker.send(new DescribeModelCommand({ ModelName: 'green-model' })));
    expect(model).toMatchObject({ ModelName: 'green-model', ModelArn: `${ACCOUNT_PREFIX}:model/green-model`, ExecutionRoleArn: ROLE_ARN, PrimaryContainer: { ModelPackageName: arn } });
  });

  test('a package registered with no containers has no InferenceSpecification', async () => {
    const arn = h.aws.sagemaker.putModelPackage({ groupName: 'fraud-detector', version: 1, approvalStatus: 'PendingManualApproval', containers: [] });
    const described = await send(h.sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: arn })));
    expect(described.InferenceSpecification).toBeUndefined();
    expect(described.ModelApprovalStatus).toBe('PendingManualApproval');
  });
});

describe('retries and faults', () => {
  test('ThrottlingException is retried by the SDK; the throttled attempts are recorded', async () => {
    h = harness({ faults: [{ kind: 'api-error', service: 'sagemaker', operation: 'DescribeEndpoint', error: 'ThrottlingException', times: 2 }] });
    await blueInService();
    const described = await describe_();
    expect(described.EndpointStatus).toBe('InService');
    expect(described.$metadata.attempts).toBe(3);
    const describes = h.aws.calls.filter((call) => call.operation === 'DescribeEndpoint');
    expect(describes.map((call) => call.error)).toEqual(['ThrottlingException', 'ThrottlingException', undefined]);
  });

  test('an api-error that outlasts the retries surfaces with its name, message and status', async () => {
    h = harness({ faults: [{ kind: 'api-error', service: 'sagemaker', operation: 'CreateModel', error: 'ThrottlingException', times: 10 }] });
    const error = await sendError(h.sagemaker.send(new CreateModelCommand({ ModelName: 'm', ExecutionRoleArn: ROLE_ARN, PrimaryContainer: { Image: IMAGE } })));
    expect([error.name, error.message, error.$metadata.httpStatusCode, error.$metadata.attempts]).toEqual(['ThrottlingException', 'Rate exceeded', 400, 3]);
    // Throttled calls were never executed.
    expect(h.aws.sagemaker.listModels()).toEqual([]);
  });

  test('`after` lets the first matching calls through; non-retryable errors fail at once', async () => {
    h = harness({
      faults: [{ kind: 'api-error', service: 'sagemaker', operation: 'DescribeEndpoint', error: 'ResourceLimitExceeded', message: 'quota', after: 1 }],
    });
    await blueInService();
    await describe_();
    const error = await sendError(h.sagemaker.send(new DescribeEndpointCommand({ EndpointName: ENDPOINT })));
    expect([error.name, error.message, error.$metadata.attempts]).toEqual(['ResourceLimitExceeded', 'quota', 1]);
    expect((await describe_()).EndpointStatus).toBe('InService');
  });

  test('InternalFailure (500) is retried as a transient error', async () => {
    h = harness({ faults: [{ kind: 'api-error', service: 'sagemaker', operation: 'DescribeEndpoint', error: 'InternalFailure' }] });
    await blueInService();
    const described = await describe_();
    expect(described.$metadata.attempts).toBe(2);
    expect(h.aws.calls.filter((call) => call.operation === 'DescribeEndpoint').map((call) => call.error)).toEqual(['InternalFailure', undefined]);
  });
});

describe('seeding and inspection', () => {
  test('seedEndpoint creates models, config and an InService endpoint at once', async () => {
    h.aws.sagemaker.seedEndpoint({
      endpointName: ENDPOINT,
      endpointConfigName: 'blue-config',
      tags: [{ Key: 'team', Value: 'fraud' }],
      variants: [{ variantName: 'blue', modelName: 'blue-model', image: IMAGE, modelDataUrl: BLUE_DATA, instanceType: 'ml.g5.2xlarge', instanceCount: 2, weight: 1 }],
    });
    expect(h.aws.sagemaker.endpointSnapshot(ENDPOINT)).toEqual({
      status: 'InService',
      endpointConfigName: 'blue-config',
      variants: [{ variantName: 'blue', modelName: 'blue-model', weight: 1, instanceType: 'ml.g5.2xlarge', instanceCount: 2 }],
    });
    const described = await describe_();
    expect(described.EndpointStatus).toBe('InService');
    const tags = await send(h.sagemaker.send(new ListTagsCommand({ ResourceArn: described.EndpointArn! })));
    expect(tags.Tags).toEqual([{ Key: 'team', Value: 'fraud' }]);
    expect(h.aws.sagemaker.listModels().map((model) => model.name)).toEqual(['blue-model']);
    expect(() =>
      h.aws.sagemaker.seedEndpoint({ endpointName: 'other', endpointConfigName: 'bad_config', variants: [] }),
    ).toThrow(/validation error/);
  });

  test('onEndpointChange reports each change at the virtual time it happens, without anyone polling', async () => {
    const changes: EndpointChange[] = [];
    h.aws.sagemaker.onEndpointChange((change) => changes.push(change));
    await blueInService();
    await createTransitionConfig();
    await send(h.sagemaker.send(new UpdateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'transition-config' })));
    await advanceSeconds(clock, 700);
    await send(h.sagemaker.send(new DeleteEndpointCommand({ EndpointName: ENDPOINT })));
    await advanceSeconds(clock, 100);

    const createdAt = START_MS + 3 * 40;
    const updateAt = createdAt + 480_000 + 3 * 40; // CreateModel, CreateEndpointConfig, UpdateEndpoint
    const deleteAt = updateAt + 700_000 + 40;
    expect(changes.map((change) => [change.status, change.endpointConfigName, change.atMs - START_MS])).toEqual([
      ['Creating', 'blue-config', createdAt - START_MS],
      ['InService', 'blue-config', createdAt + 480_000 - START_MS],
      ['Updating', 'blue-config', updateAt - START_MS],
      ['InService', 'transition-config', updateAt + 600_000 - START_MS],
      ['Deleting', 'transition-config', deleteAt - START_MS],
      ['Deleted', 'transition-config', deleteAt + 90_000 - START_MS],
    ]);
    expect(changes[3]!.message).toMatch(/blue=1.*green=0/);
  });

  test('timings can be overridden', async () => {
    h = harness({ timings: { createEndpointSeconds: 60, apiLatencyMs: 5 } });
    await createModel('blue-model');
    await createConfig('blue-config', [variant('blue', 'blue-model')]);
    await send(h.sagemaker.send(new CreateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: 'blue-config' })));
    expect(Date.now()).toBe(START_MS + 15);
    await advanceSeconds(clock, 60);
    expect(h.aws.sagemaker.endpointSnapshot(ENDPOINT)?.status).toBe('InService');
  });
});

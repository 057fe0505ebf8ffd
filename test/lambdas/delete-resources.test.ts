import 'aws-sdk-client-mock-jest';
import {
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  ListTagsCommand,
  SageMakerClient,
  type EndpointStatus,
  type Tag,
} from '@aws-sdk/client-sagemaker';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambdas/delete-resources';
import { cleanupDiscriminator } from '../../lambdas/delete-resources/delete';
import { rolloutRef } from '../../lambdas/shared/lifecycle-events';
import {
  BLUE,
  BLUE_CONFIG_VARIANT,
  describedEndpoint,
  describedEndpointConfig,
  ENDPOINT,
  errors,
  makePlan,
  managedTags,
  NAMES,
  sageMakerArn,
} from './support/fixtures';
import { LIFECYCLE_BUS, mockLifecycleByEnvironment } from './support/lifecycle';

const sageMaker = mockClient(SageMakerClient);

/** A world of configs and models, by name, with their tags; anything else does not exist. */
function world(options: {
  readonly endpointStatus?: EndpointStatus;
  readonly endpointConfigName?: string | null;
  readonly configs: Record<string, { readonly tags: Tag[]; readonly models: string[] }>;
  readonly models: Record<string, Tag[]>;
}): void {
  if (options.endpointConfigName === null) sageMaker.on(DescribeEndpointCommand).rejects(errors.endpointNotFound());
  else {
    sageMaker.on(DescribeEndpointCommand).resolves(
      describedEndpoint({ status: options.endpointStatus, configName: options.endpointConfigName ?? NAMES.finalEndpointConfigName, variants: [{ name: NAMES.greenVariantName }] }),
    );
  }
  sageMaker.on(DescribeEndpointConfigCommand).callsFake(({ EndpointConfigName }: { EndpointConfigName: string }) => {
    const config = options.configs[EndpointConfigName];
    if (!config) throw errors.endpointConfigNotFound(EndpointConfigName);
    return describedEndpointConfig(EndpointConfigName, config.models.map((model, i) => ({ ...BLUE_CONFIG_VARIANT, VariantName: `variant-${i}`, ModelName: model })));
  });
  sageMaker.on(DescribeModelCommand).callsFake(({ ModelName }: { ModelName: string }) => {
    if (!options.models[ModelName]) throw errors.modelNotFound(ModelName);
    return { ModelName, ModelArn: sageMakerArn('model', ModelName), CreationTime: new Date() };
  });
  sageMaker.on(ListTagsCommand).callsFake(({ ResourceArn }: { ResourceArn: string }) => {
    const [, type, name] = /:(endpoint-config|model)\/(.+)$/.exec(ResourceArn)!;
    const tags = type === 'model'
      ? Object.entries(options.models).find(([n]) => n.toLowerCase() === name)?.[1]
      : Object.entries(options.configs).find(([n]) => n.toLowerCase() === name)?.[1].tags;
    return { Tags: tags ?? [] };
  });
  sageMaker.on(DeleteEndpointConfigCommand).resolves({});
  sageMaker.on(DeleteModelCommand).resolves({});
}

const deletedConfigs = () => sageMaker.commandCalls(DeleteEndpointConfigCommand).map((c) => c.args[0].input.EndpointConfigName);
const deletedModels = () => sageMaker.commandCalls(DeleteModelCommand).map((c) => c.args[0].input.ModelName);

/** The ASL's "Delete retired resources" input after a successful rollout. */
const retiredInput = { endpointName: ENDPOINT, endpointConfigNames: [BLUE.endpointConfigName, NAMES.transitionEndpointConfigName], modelNames: [BLUE.modelName] };

beforeEach(() => sageMaker.reset());

describe('delete-resources', () => {
  test('after promotion: deletes blue\'s config and model and the transition config, keeps what green runs', async () => {
    world({
      configs: {
        [BLUE.endpointConfigName]: { tags: managedTags('0a1b2c3d'), models: [BLUE.modelName] },
        [NAMES.transitionEndpointConfigName]: { tags: managedTags(), models: [BLUE.modelName, NAMES.greenModelName] },
        [NAMES.finalEndpointConfigName]: { tags: managedTags(), models: [NAMES.greenModelName] },
      },
      models: { [BLUE.modelName]: managedTags('0a1b2c3d'), [NAMES.greenModelName]: managedTags() },
    });
    const result = await handler(retiredInput);
    expect(result).toEqual({ deleted: [BLUE.endpointConfigName, NAMES.transitionEndpointConfigName, BLUE.modelName], retained: [] });
    expect(deletedConfigs()).toEqual([BLUE.endpointConfigName, NAMES.transitionEndpointConfigName]);
    expect(deletedModels()).toEqual([BLUE.modelName]);
  });

  test('never deletes what this system did not create', async () => {
    world({
      configs: { [BLUE.endpointConfigName]: { tags: [{ Key: 'team', Value: 'fraud' }], models: [BLUE.modelName] } },
      models: { [BLUE.modelName]: [] },
    });
    const result = await handler({ ...retiredInput, endpointConfigNames: [BLUE.endpointConfigName] });
    expect(result).toEqual({
      deleted: [],
      retained: [
        { name: BLUE.endpointConfigName, reason: 'not created by this system' },
        { name: BLUE.modelName, reason: 'not created by this system' },
      ],
    });
    expect(sageMaker).not.toHaveReceivedCommand(DeleteEndpointConfigCommand);
    expect(sageMaker).not.toHaveReceivedCommand(DeleteModelCommand);
  });

  test('never deletes the endpoint\'s current config nor a model it runs', async () => {
    world({
      endpointConfigName: NAMES.finalEndpointConfigName,
      configs: {
        [NAMES.finalEndpointConfigName]: { tags: managedTags(), models: [NAMES.greenModelName] },
        [NAMES.transitionEndpointConfigName]: { tags: managedTags(), models: [BLUE.modelName, NAMES.greenModelName] },
      },
      models: { [NAMES.greenModelName]: managedTags() },
    });
    const result = await handler({
      endpointName: ENDPOINT,
      endpointConfigNames: [NAMES.transitionEndpointConfigName, NAMES.finalEndpointConfigName],
      modelNames: [NAMES.greenModelName],
    });
    expect(result.deleted).toEqual([NAMES.transitionEndpointConfigName]);
    expect(result.retained).toEqual([
      { name: NAMES.finalEndpointConfigName, reason: expect.stringMatching(/in use/) },
      { name: NAMES.greenModelName, reason: expect.stringMatching(/in use/) },
    ]);
    expect(deletedConfigs()).not.toContain(NAMES.finalEndpointConfigName);
    expect(sageMaker).not.toHaveReceivedCommand(DeleteModelCommand);
  });

  test.each(['Updating', 'Creating', 'RollingBack', 'SystemUpdating'] as const)('endpoint %s: retains everything, deletes nothing', async (status) => {
    world({
      endpointStatus: status,
      configs: { [BLUE.endpointConfigName]: { tags: managedTags(), models: [BLUE.modelName] } },
      models: { [BLUE.modelName]: managedTags() },
    });
    const result = await handler(retiredInput);
    expect(result.deleted).toEqual([]);
    expect(result.retained.map((r) => r.name)).toEqual([BLUE.endpointConfigName, NAMES.transitionEndpointConfigName, BLUE.modelName]);
    expect(result.retained.every((r) => r.reason.includes(`is ${status}: an update is in flight`))).toBe(true);
    expect(sageMaker).not.toHaveReceivedCommand(DeleteEndpointConfigCommand);
    expect(sageMaker).not.toHaveReceivedCommand(DeleteModelCommand);
  });

  test('endpoint Failed: cleans up what it does not use', async () => {
    world({
      endpointStatus: 'Failed',
      endpointConfigName: BLUE.endpointConfigName,
      configs: {
        [BLUE.endpointConfigName]: { tags: managedTags(), models: [BLUE.modelName] },
        [NAMES.finalEndpointConfigName]: { tags: managedTags(), models: [NAMES.greenModelName] },
      },
      models: { [NAMES.greenModelName]: managedTags() },
    });
    const result = await handler({ endpointName: ENDPOINT, endpointConfigNames: [NAMES.finalEndpointConfigName], modelNames: [NAMES.greenModelName] });
    expect(result).toEqual({ deleted: [NAMES.finalEndpointConfigName, NAMES.greenModelName], retained: [] });
  });

  test('after a failed first deployment (endpoint deleted): deletes green\'s resources; missing ones are skipped silently', async () => {
    world({
      endpointConfigName: null,
      configs: { [NAMES.finalEndpointConfigName]: { tags: managedTags(), models: [NAMES.greenModelName] } },
      models: { [NAMES.greenModelName]: managedTags() },
    });
    const result = await handler({
      endpointName: ENDPOINT,
      endpointConfigNames: [NAMES.transitionEndpointConfigName, NAMES.finalEndpointConfigName],
      modelNames: [NAMES.greenModelName],
    });
    expect(result).toEqual({ deleted: [NAMES.finalEndpointConfigName, NAMES.greenModelName], retained: [] });
    expect(deletedConfigs()).toEqual([NAMES.finalEndpointConfigName]);
  });

  test('duplicate names are handled once', async () => {
    world({
      endpointConfigName: null,
      configs: { [NAMES.finalEndpointConfigName]: { tags: managedTags(), models: [] } },
      models: { [NAMES.greenModelName]: managedTags() },
    });
    const result = await handler({
      endpointName: ENDPOINT,
      endpointConfigNames: [NAMES.finalEndpointConfigName, NAMES.finalEndpointConfigName],
      modelNames: [NAMES.greenModelName, NAMES.greenModelName],
    });
    expect(result.deleted).toEqual([NAMES.finalEndpointConfigName, NAMES.greenModelName]);
    expect(sageMaker).toHaveReceivedCommandTimes(DeleteEndpointConfigCommand, 1);
    expect(sageMaker).toHaveReceivedCommandTimes(DeleteModelCommand, 1);
  });

  test('a second run after everything was deleted: nothing to do, no error', async () => {
    world({ endpointConfigName: NAMES.finalEndpointConfigName, configs: { [NAMES.finalEndpointConfigName]: { tags: managedTags(), models: [NAMES.greenModelName] } }, models: {} });
    await expect(handler(retiredInput)).resolves.toEqual({ deleted: [], retained: [] });
    expect(sageMaker).not.toHaveReceivedCommand(DeleteEndpointConfigCommand);
  });

  test('a resource deleted between Describe and Delete is not reported as deleted', async () => {
    world({ endpointConfigName: null, configs: { [BLUE.endpointConfigName]: { tags: managedTags(), models: [] } }, models: {} });
    sageMaker.on(DeleteEndpointConfigCommand).rejects(errors.endpointConfigNotFound(BLUE.endpointConfigName));
    await expect(handler({ ...retiredInput, endpointConfigNames: [BLUE.endpointConfigName], modelNames: [] })).resolves.toEqual({ deleted: [], retained: [] });
  });

  test('the endpoint\'s config cannot be described: models are kept (which ones it runs is unknown)', async () => {
    world({ endpointConfigName: 'gone-config', configs: {}, models: { [BLUE.modelName]: managedTags() } });
    const result = await handler({ endpointName: ENDPOINT, endpointConfigNames: [], modelNames: [BLUE.modelName] });
    expect(result.retained).toEqual([{ name: BLUE.modelName, reason: expect.stringMatching(/cannot be described/) }]);
    expect(sageMaker).not.toHaveReceivedCommand(DeleteModelCommand);
  });

  test('a model tagged only on a later ListTags page is still recognized', async () => {
    world({ endpointConfigName: null, configs: {}, models: { [BLUE.modelName]: managedTags() } });
    sageMaker
      .on(ListTagsCommand)
      .resolvesOnce({ Tags: [{ Key: 'team', Value: 'fraud' }], NextToken: 'next' })
      .resolvesOnce({ Tags: managedTags() });
    await expect(handler({ endpointName: ENDPOINT, endpointConfigNames: [], modelNames: [BLUE.modelName] })).resolves.toEqual({ deleted: [BLUE.modelName], retained: [] });
  });

  test.each([
    [{ endpointName: ENDPOINT, endpointConfigNames: 'c', modelNames: [] }, /endpointConfigNames: must be an array/],
    [{ endpointName: ENDPOINT, endpointConfigNames: [], modelNames: [''] }, /modelNames\.0: must not be empty/],
    [{ endpointConfigNames: [], modelNames: [] }, /endpointName: /],
  ])('rejects bad input %#, naming the field', async (event, message) => {
    await expect(handler(event)).rejects.toMatchObject({ name: 'InputValidationError', message: expect.stringMatching(message) });
    expect(sageMaker.calls()).toHaveLength(0);
  });
});

describe('delete-resources: the CleanupCompleted lifecycle event', () => {
  const { dynamo, eventBridge, auditEvents, publishedEvents } = mockLifecycleByEnvironment();
  const plan = makePlan();
  /** The ASL's "Delete green resources" input after a rollback, with the plan (the ASL must pass it). */
  const greenInput = {
    endpointName: ENDPOINT,
    endpointConfigNames: [NAMES.transitionEndpointConfigName, NAMES.finalEndpointConfigName],
    modelNames: [NAMES.greenModelName],
    plan,
  };
  /** After a rollback: the endpoint back on blue's config; green's configs and model exist, all ours. */
  const afterRollback = () =>
    world({
      endpointConfigName: BLUE.endpointConfigName,
      configs: {
        [BLUE.endpointConfigName]: { tags: managedTags('0a1b2c3d'), models: [BLUE.modelName] },
        [NAMES.transitionEndpointConfigName]: { tags: managedTags(), models: [BLUE.modelName, NAMES.greenModelName] },
        [NAMES.finalEndpointConfigName]: { tags: managedTags(), models: [NAMES.greenModelName] },
      },
      models: { [BLUE.modelName]: managedTags('0a1b2c3d'), [NAMES.greenModelName]: managedTags() },
    });

  test('after a rollback: the configs and model it deleted, each with its kind, recorded then published', async () => {
    afterRollback();
    const result = await handler(greenInput);
    expect(result.deleted).toEqual([NAMES.transitionEndpointConfigName, NAMES.finalEndpointConfigName, NAMES.greenModelName]);

    const [item, ...others] = auditEvents();
    expect(others).toEqual([]);
    const discriminator = cleanupDiscriminator(greenInput.endpointConfigNames, greenInput.modelNames);
    expect(item!.recordKey).toBe(`EVENT#${plan.deploymentId}#CleanupCompleted#${discriminator}`);
    const expected = {
      type: 'CleanupCompleted',
      rollout: rolloutRef(plan),
      resourcesRemoved: [
        { kind: 'endpoint-config', name: NAMES.transitionEndpointConfigName },
        { kind: 'endpoint-config', name: NAMES.finalEndpointConfigName },
        { kind: 'model', name: NAMES.greenModelName },
      ],
    };
    expect(item!.data).toMatchObject(expected);
    expect(publishedEvents()).toEqual([expect.objectContaining({ bus: LIFECYCLE_BUS, detailType: 'Cleanup Completed', detail: expect.objectContaining(expected) })]);
    // Recorded after the deletions it reports.
    const lastDelete = sageMaker.commandCalls(DeleteModelCommand).at(-1)!;
    expect(lastDelete.calledBefore(dynamo.commandCalls(PutItemCommand)[0]!)).toBe(true);
  });

  test('the two runs of a rollout (after promotion, after a rollback) have different keys; a retry has the same', () => {
    const retired = cleanupDiscriminator([BLUE.endpointConfigName, NAMES.transitionEndpointConfigName], [BLUE.modelName]);
    const green = cleanupDiscriminator(greenInput.endpointConfigNames, greenInput.modelNames);
    expect(retired).not.toBe(green);
    expect(cleanupDiscriminator([NAMES.finalEndpointConfigName, NAMES.transitionEndpointConfigName, NAMES.finalEndpointConfigName], [NAMES.greenModelName])).toBe(green);
    expect(green).toMatch(/^[0-9a-f]{8}$/);
  });

  test.each([
    ['an update in flight (everything retained)', () => world({ endpointStatus: 'Updating', endpointConfigName: BLUE.endpointConfigName, configs: {}, models: {} })],
    ['a retry that finds everything gone', () => world({ endpointConfigName: BLUE.endpointConfigName, configs: {}, models: {} })],
    [
      'only resources this system did not create',
      () =>
        world({
          endpointConfigName: BLUE.endpointConfigName,
          configs: { [NAMES.transitionEndpointConfigName]: { tags: [{ Key: 'team', Value: 'fraud' }], models: [] } },
          models: { [NAMES.greenModelName]: [{ Key: 'team', Value: 'fraud' }] },
        }),
    ],
  ])('nothing deleted (%s): nothing recorded', async (_why, setUp) => {
    setUp();
    await expect(handler(greenInput)).resolves.toMatchObject({ deleted: [] });
    expect(dynamo).not.toHaveReceivedCommand(PutItemCommand);
    expect(eventBridge).not.toHaveReceivedCommand(PutEventsCommand);
  });

  test('without the plan (an older definition\'s input): deletes as before, records nothing', async () => {
    afterRollback();
    const { plan: _plan, ...withoutPlan } = greenInput;
    await expect(handler(withoutPlan)).resolves.toMatchObject({ deleted: [NAMES.transitionEndpointConfigName, NAMES.finalEndpointConfigName, NAMES.greenModelName] });
    expect(dynamo).not.toHaveReceivedCommand(PutItemCommand);
    expect(eventBridge).not.toHaveReceivedCommand(PutEventsCommand);
  });

  test('the audit trail and the bus failing do not fail the cleanup', async () => {
    afterRollback();
    dynamo.on(PutItemCommand).rejects(Object.assign(new Error('Requested resource not found'), { name: 'ResourceNotFoundException' }));
    eventBridge.on(PutEventsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(handler(greenInput)).resolves.toMatchObject({ deleted: [NAMES.transitionEndpointConfigName, NAMES.finalEndpointConfigName, NAMES.greenModelName] });
    expect(dynamo).toHaveReceivedCommandTimes(PutItemCommand, 1);
    expect(eventBridge).toHaveReceivedCommandTimes(PutEventsCommand, 1);
  });

  test("a plan for another endpoint is refused, naming the field, before anything is deleted", async () => {
    afterRollback();
    await expect(handler({ ...greenInput, plan: makePlan({ endpointName: 'other-endpoint' }) })).rejects.toMatchObject({
      name: 'InputValidationError',
      message: expect.stringMatching(/plan\.endpointName: must be the same endpoint as endpointName/),
    });
    expect(sageMaker.calls()).toHaveLength(0);
  });
});

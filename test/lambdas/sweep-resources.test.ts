import 'aws-sdk-client-mock-jest';
import { ApplicationAutoScalingClient, DeregisterScalableTargetCommand } from '@aws-sdk/client-application-auto-scaling';
import {
  CloudWatchClient,
  CloudWatchServiceException,
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  ListTagsForResourceCommand,
  type DescribeAlarmsCommandInput,
} from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  CreateEndpointConfigCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  ListEndpointConfigsCommand,
  ListEndpointsCommand,
  ListModelsCommand,
  ListTagsCommand,
  SageMakerClient,
  UpdateEndpointCommand,
  type CreateEndpointConfigCommandInput,
  type DescribeEndpointOutput,
  type ListEndpointConfigsCommandInput,
  type ListModelsCommandInput,
  type ProductionVariant,
  type Tag,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambdas/sweep-resources';
import { parseRolloutAlarmName, SWEPT_FROM_TAG, type SweepResult } from '../../lambdas/sweep-resources/sweep';
import { ALARM_NAME_PREFIX, rolloutAlarmNames } from '../../lambdas/shared/names';
import { ROLLOUTS_TABLE_ENV } from '../../lambdas/shared/rollout-record';
import {
  parseSweeperConfig,
  sweeperEnvironment,
  sweeperSettingsFromEnvironment,
  SWEEPER_DRY_RUN_ENV,
  SWEEPER_MIN_AGE_SECONDS_ENV,
} from '../../lambdas/shared/sweeper-config';
import { MANAGED_BY_TAG, SYSTEM_NAME } from '../../lambdas/shared/tags';
import { fakeAutoScaling, variantScalableTarget } from './support/autoscaling';
import { ACCOUNT, ENDPOINT, errors, managedTags, REGION, sageMakerArn, serviceError, useTargets } from './support/fixtures';

const sageMaker = mockClient(SageMakerClient);
const cloudWatch = mockClient(CloudWatchClient);
const dynamo = mockClient(DynamoDBClient);
const autoScaling = mockClient(ApplicationAutoScalingClient);

const TABLE = 'active-rollouts';
const DAY_MS = 86_400_000;
const now = Date.now();
const OLD = new Date(now - 3 * DAY_MS);
const YOUNG = new Date(now - 10 * 60_000);

/** A finished rollout whose cleanup never ran (its record expired), one still running on another endpoint. */
const FINISHED = 'deadbeef';
const RUNNING = 'feedf00d';
const OTHER_ENDPOINT = 'churn-prod';

// The configured endpoint: on the transition config of rollout 0a1b2c3d, whose retirement of v5 never ran.
const SERVING_VARIANT = 'v6-0a1b2c3d';
const STRAY_VARIANT = 'v5-11111111';
const CURRENT_CONFIG = `${ENDPOINT}-v6-0a1b2c3d-bg`;
const SERVING_CONFIG_VARIANT: ProductionVariant = {
  VariantName: SERVING_VARIANT,
  ModelName: 'fraud-detector-v6-0a1b2c3d',
  InstanceType: 'ml.g5.xlarge',
  InitialInstanceCount: 2,
  InitialVariantWeight: 0,
  VolumeSizeInGB: 100,
  RoutingConfig: { RoutingStrategy: 'LEAST_OUTSTANDING_REQUESTS' },
};
const STRAY_CONFIG_VARIANT: ProductionVariant = {
  VariantName: STRAY_VARIANT,
  ModelName: 'fraud-detector-v5-11111111',
  InstanceType: 'ml.g5.xlarge',
  InitialInstanceCount: 2,
  InitialVariantWeight: 1,
};

interface Resource {
  readonly created: Date;
  readonly tags: Tag[];
}
interface ConfigResource extends Resource {
  readonly variants: ProductionVariant[];
  readonly extra?: Record<string, unknown>;
}
interface AlarmResource {
  readonly updated: Date;
  readonly tags: Tag[];
}

/** The account as the fake SageMaker, CloudWatch and DynamoDB serve it; the sweep's calls change it. */
interface World {
  endpoints: Map<string, DescribeEndpointOutput>;
  configs: Map<string, ConfigResource>;
  models: Map<string, Resource>;
  alarms: Map<string, AlarmResource>;
  records: Record<string, AttributeValue>[];
  /** Names whose Delete* call fails. */
  failing: Set<string>;
}

function liveVariant(name: string, weight: number, instances: number) {
  return { VariantName: name, CurrentWeight: weight, DesiredWeight: weight, CurrentInstanceCount: instances, DesiredInstanceCount: instances };
}

function endpoint(name: string, configName: string, variants: ReturnType<typeof liveVariant>[], extra: Partial<DescribeEndpointOutput> = {}): DescribeEndpointOutput {
  return {
    EndpointName: name,
    EndpointArn: sageMakerArn('endpoint', name),
    EndpointConfigName: configName,
    EndpointStatus: 'InService',
    ProductionVariants: variants,
    CreationTime: OLD,
    LastModifiedTime: OLD,
    ...extra,
  };
}

function record(endpointName: string, deploymentId: string, expiresAtMs: number, plan?: unknown): Record<string, AttributeValue> {
  return {
    endpointName: { S: endpointName },
    deploymentId: { S: deploymentId },
    executionArn: { S: `arn:aws:states:${REGION}:${ACCOUNT}:execution:rollout:${deploymentId}` },
    expiresAt: { N: String(Math.floor(expiresAtMs / 1000)) },
    ...(plan !== undefined ? { plan: { S: JSON.stringify(plan) } } : {}),
  };
}

/**
 * - the configured endpoint runs CURRENT_CONFIG: v6 serves (weight 1, autoscaled to 3), v5 is a stray at weight 0;
 * - a finished rollout (expired record) left a config, a model and three alarms;
 * - a running rollout on another endpoint owns a config, a model and its alarms (by plan and by tag);
 * - a person's config (untagged) references a model this system made, and runs an untagged model of its own.
 */
function standardWorld(): World {
  const models = new Map<string, Resource>([
    ['fraud-detector-v6-0a1b2c3d', { created: OLD, tags: managedTags('0a1b2c3d') }],
    ['fraud-detector-v5-11111111', { created: OLD, tags: managedTags('11111111') }],
    [`fraud-detector-v7-${FINISHED}`, { created: OLD, tags: managedTags(FINISHED) }],
    [`churn-v3-${RUNNING}`, { created: OLD, tags: managedTags(RUNNING) }],
    ['fraud-detector-v4-cafebabe', { created: OLD, tags: managedTags('cafebabe') }],
    ['hand-made-model', { created: OLD, tags: [] }],
  ]);
  const configs = new Map<string, ConfigResource>([
    [CURRENT_CONFIG, { created: OLD, tags: managedTags('0a1b2c3d'), variants: [STRAY_CONFIG_VARIANT, SERVING_CONFIG_VARIANT] }],
    [`${ENDPOINT}-v7-${FINISHED}-bg`, { created: OLD, tags: managedTags(FINISHED), variants: [{ ...STRAY_CONFIG_VARIANT, VariantName: `v7-${FINISHED}`, ModelName: `fraud-detector-v7-${FINISHED}` }] }],
    [`${OTHER_ENDPOINT}-v3-${RUNNING}-bg`, { created: OLD, tags: [{ Key: MANAGED_BY_TAG, Value: SYSTEM_NAME }], variants: [{ ...STRAY_CONFIG_VARIANT, VariantName: `v3-${RUNNING}`, ModelName: `churn-v3-${RUNNING}` }] }],
    [`${OTHER_ENDPOINT}-v3-${RUNNING}`, { created: OLD, tags: managedTags(RUNNING), variants: [{ ...STRAY_CONFIG_VARIANT, VariantName: `v3-${RUNNING}`, ModelName: `churn-v3-${RUNNING}` }] }],
    ['hand-made-config', { created: OLD, tags: [], variants: [{ ...STRAY_CONFIG_VARIANT, VariantName: 'a', ModelName: 'hand-made-model' }, { ...STRAY_CONFIG_VARIANT, VariantName: 'b', ModelName: 'fraud-detector-v4-cafebabe' }] }],
    [`${ENDPOINT}-v8-0b0b0b0b`, { created: YOUNG, tags: managedTags('0b0b0b0b'), variants: [{ ...STRAY_CONFIG_VARIANT, VariantName: 'v8-0b0b0b0b', ModelName: 'fraud-detector-v6-0a1b2c3d' }] }],
  ]);
  const alarms = new Map<string, AlarmResource>();
  const alarmTags = (id: string) => managedTags(id).map((t) => ({ Key: t.Key!, Value: t.Value! }));
  for (const name of Object.values(rolloutAlarmNames(ENDPOINT, FINISHED))) alarms.set(name, { updated: OLD, tags: alarmTags(FINISHED) });
  for (const name of Object.values(rolloutAlarmNames(OTHER_ENDPOINT, RUNNING))) alarms.set(name, { updated: OLD, tags: alarmTags(RUNNING) });
  alarms.set(rolloutAlarmNames(ENDPOINT, '0c0c0c0c').errorRate, { updated: YOUNG, tags: alarmTags('0c0c0c0c') });
  alarms.set(rolloutAlarmNames(ENDPOINT, '0d0d0d0d').errorRate, { updated: OLD, tags: [] });
  return {
    endpoints: new Map([
      [ENDPOINT, endpoint(ENDPOINT, CURRENT_CONFIG, [liveVariant(STRAY_VARIANT, 0, 2), liveVariant(SERVING_VARIANT, 1, 3)])],
      [OTHER_ENDPOINT, endpoint(OTHER_ENDPOINT, 'hand-made-config', [liveVariant('a', 1, 1), liveVariant('b', 1, 1)])],
    ]),
    configs,
    models,
    alarms,
    records: [
      record('retired-endpoint', FINISHED, now - DAY_MS),
      record(OTHER_ENDPOINT, RUNNING, now + DAY_MS, {
        deploymentId: RUNNING,
        green: { modelName: `churn-v3-${RUNNING}`, transitionEndpointConfigName: `${OTHER_ENDPOINT}-v3-${RUNNING}-bg`, finalEndpointConfigName: `${OTHER_ENDPOINT}-v3-${RUNNING}` },
      }),
    ],
    failing: new Set(),
  };
}

/** Pages of two: every listing must follow NextToken. */
function paged<T>(items: T[], nextToken: string | undefined): { items: T[]; NextToken?: string } {
  const start = nextToken ? Number(nextToken) : 0;
  return { items: items.slice(start, start + 2), ...(start + 2 < items.length ? { NextToken: String(start + 2) } : {}) };
}

function arnName(arn: string): [string, string] {
  const [, type, name] = /:(endpoint-config|model|endpoint)\/(.+)$/.exec(arn)!;
  return [type!, name!];
}

function findCaseInsensitive<T>(map: Map<string, T>, name: string): [string, T] | undefined {
  return [...map.entries()].find(([n]) => n.toLowerCase() === name.toLowerCase());
}

function serve(world: World): void {
  sageMaker.on(ListEndpointsCommand).callsFake(({ NextToken }: { NextToken?: string }) => {
    const page = paged([...world.endpoints.values()], NextToken);
    return { Endpoints: page.items.map((e) => ({ EndpointName: e.EndpointName, EndpointArn: e.EndpointArn, CreationTime: e.CreationTime, LastModifiedTime: e.LastModifiedTime, EndpointStatus: e.EndpointStatus })), NextToken: page.NextToken };
  });
  sageMaker.on(DescribeEndpointCommand).callsFake(({ EndpointName }: { EndpointName: string }) => {
    const found = world.endpoints.get(EndpointName);
    if (!found) throw errors.endpointNotFound(EndpointName);
    return structuredClone(found);
  });
  sageMaker.on(ListEndpointConfigsCommand).callsFake((input: ListEndpointConfigsCommandInput) => {
    const listed = [...world.configs.entries()].filter(([, c]) => !input.CreationTimeBefore || c.created < input.CreationTimeBefore);
    const page = paged(listed, input.NextToken);
    return { EndpointConfigs: page.items.map(([name, c]) => ({ EndpointConfigName: name, EndpointConfigArn: sageMakerArn('endpoint-config', name), CreationTime: c.created })), NextToken: page.NextToken };
  });
  sageMaker.on(ListModelsCommand).callsFake((input: ListModelsCommandInput) => {
    const listed = [...world.models.entries()].filter(([, m]) => !input.CreationTimeBefore || m.created < input.CreationTimeBefore);
    const page = paged(listed, input.NextToken);
    return { Models: page.items.map(([name, m]) => ({ ModelName: name, ModelArn: sageMakerArn('model', name), CreationTime: m.created })), NextToken: page.NextToken };
  });
  sageMaker.on(ListTagsCommand).callsFake(({ ResourceArn }: { ResourceArn: string }) => {
    const [type, name] = arnName(ResourceArn);
    const found = type === 'model' ? findCaseInsensitive(world.models, name) : findCaseInsensitive(world.configs, name);
    if (!found) throw type === 'model' ? errors.modelNotFound(name) : errors.endpointConfigNotFound(name);
    return { Tags: found[1].tags };
  });
  sageMaker.on(DescribeEndpointConfigCommand).callsFake(({ EndpointConfigName }: { EndpointConfigName: string }) => {
    const config = world.configs.get(EndpointConfigName);
    if (!config) throw errors.endpointConfigNotFound(EndpointConfigName);
    return {
      EndpointConfigName,
      EndpointConfigArn: sageMakerArn('endpoint-config', EndpointConfigName),
      ProductionVariants: structuredClone(config.variants),
      CreationTime: config.created,
      ...config.extra,
    };
  });
  sageMaker.on(DescribeModelCommand).callsFake(({ ModelName }: { ModelName: string }) => {
    const model = world.models.get(ModelName);
    if (!model) throw errors.modelNotFound(ModelName);
    return { ModelName, ModelArn: sageMakerArn('model', ModelName), CreationTime: model.created };
  });
  sageMaker.on(DeleteEndpointConfigCommand).callsFake(({ EndpointConfigName }: { EndpointConfigName: string }) => {
    if (world.failing.has(EndpointConfigName)) throw serviceError('ThrottlingException', 'Rate exceeded');
    if (!world.configs.delete(EndpointConfigName)) throw errors.endpointConfigNotFound(EndpointConfigName);
    return {};
  });
  sageMaker.on(DeleteModelCommand).callsFake(({ ModelName }: { ModelName: string }) => {
    if (world.failing.has(ModelName)) throw serviceError('ThrottlingException', 'Rate exceeded');
    if (!world.models.delete(ModelName)) throw errors.modelNotFound(ModelName);
    return {};
  });
  sageMaker.on(CreateEndpointConfigCommand).callsFake((input: CreateEndpointConfigCommandInput) => {
    if (world.configs.has(input.EndpointConfigName!)) throw errors.endpointConfigExists(input.EndpointConfigName!);
    world.configs.set(input.EndpointConfigName!, { created: new Date(), tags: input.Tags ?? [], variants: input.ProductionVariants ?? [] });
    return { EndpointConfigArn: sageMakerArn('endpoint-config', input.EndpointConfigName!) };
  });
  sageMaker.on(UpdateEndpointCommand).callsFake(({ EndpointName, EndpointConfigName }: { EndpointName: string; EndpointConfigName: string }) => {
    const current = world.endpoints.get(EndpointName)!;
    if (current.EndpointStatus !== 'InService') throw errors.endpointBusy(EndpointName);
    world.endpoints.set(EndpointName, { ...current, EndpointStatus: 'Updating', PendingDeploymentSummary: { EndpointConfigName, StartTime: new Date() } });
    return { EndpointArn: current.EndpointArn };
  });

  cloudWatch.on(DescribeAlarmsCommand).callsFake((input: DescribeAlarmsCommandInput) => {
    const matching = [...world.alarms.entries()].filter(([name]) => name.startsWith(input.AlarmNamePrefix ?? ''));
    const page = paged(matching, input.NextToken);
    return {
      MetricAlarms: page.items.map(([name, alarm]) => ({ AlarmName: name, AlarmArn: alarmArn(name), AlarmConfigurationUpdatedTimestamp: alarm.updated })),
      CompositeAlarms: [],
      NextToken: page.NextToken,
    };
  });
  cloudWatch.on(ListTagsForResourceCommand).callsFake(({ ResourceARN }: { ResourceARN: string }) => {
    const alarm = world.alarms.get(ResourceARN.split(':alarm:')[1]!);
    return { Tags: alarm?.tags ?? [] };
  });
  cloudWatch.on(DeleteAlarmsCommand).callsFake(({ AlarmNames }: { AlarmNames: string[] }) => {
    if (AlarmNames.some((name) => world.failing.has(name))) throw new CloudWatchServiceException({ name: 'Throttling', $fault: 'client', message: 'Rate exceeded', $metadata: {} });
    if (AlarmNames.some((name) => !world.alarms.has(name))) throw new CloudWatchServiceException({ name: 'ResourceNotFound', $fault: 'client', message: 'not found', $metadata: {} });
    for (const name of AlarmNames) world.alarms.delete(name);
    return {};
  });
  dynamo.on(ScanCommand).callsFake(({ ExclusiveStartKey }: { ExclusiveStartKey?: Record<string, AttributeValue> }) => {
    // One item per page: the sweep must follow LastEvaluatedKey.
    const start = ExclusiveStartKey ? world.records.findIndex((r) => r.endpointName!.S === ExclusiveStartKey.endpointName!.S) + 1 : 0;
    const item = world.records[start];
    return { Items: item ? [item] : [], ...(start + 1 < world.records.length ? { LastEvaluatedKey: { endpointName: item!.endpointName! } } : {}) };
  });
}

const alarmArn = (name: string) => `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${name}`;

let world: World;
let scaling: ReturnType<typeof fakeAutoScaling>;

beforeEach(() => {
  sageMaker.reset();
  cloudWatch.reset();
  dynamo.reset();
  autoScaling.reset();
  useTargets();
  process.env[ROLLOUTS_TABLE_ENV] = TABLE;
  delete process.env[SWEEPER_DRY_RUN_ENV];
  delete process.env[SWEEPER_MIN_AGE_SECONDS_ENV];
  world = standardWorld();
  serve(world);
  scaling = fakeAutoScaling(autoScaling, { targets: [variantScalableTarget(STRAY_VARIANT)] });
});

const SCHEDULED_EVENT = {
  version: '0',
  id: '9b1f7c0e-3c1d-4a57-a1b2-7f0e0c1d2e3f',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: ACCOUNT,
  time: '2025-03-02T06:00:00Z',
  region: REGION,
  resources: [`arn:aws:events:${REGION}:${ACCOUNT}:rule/sweeper`],
  detail: {},
};

const FINISHED_ALARMS = Object.values(rolloutAlarmNames(ENDPOINT, FINISHED));
const LEFTOVERS = [`${ENDPOINT}-v7-${FINISHED}-bg`, `fraud-detector-v7-${FINISHED}`, ...FINISHED_ALARMS, STRAY_VARIANT];
const names = (entries: readonly { name: string }[]) => entries.map((entry) => entry.name).sort();
const reasonOf = (result: SweepResult, name: string) => result.kept.find((entry) => entry.name === name)?.reason;

describe('a dry run', () => {
  test('reports every leftover and changes nothing', async () => {
    process.env[SWEEPER_DRY_RUN_ENV] = 'true';
    const before = structuredClone({ configs: [...world.configs.keys()], models: [...world.models.keys()], alarms: [...world.alarms.keys()] });
    const result = await handler(SCHEDULED_EVENT);

    expect(result.dryRun).toBe(true);
    expect(names(result.found)).toEqual([...LEFTOVERS].sort());
    expect(result.found.find((entry) => entry.name === STRAY_VARIANT)).toMatchObject({ kind: 'variant', endpointName: ENDPOINT });
    expect(result.found.find((entry) => entry.name === `fraud-detector-v7-${FINISHED}`)?.kind).toBe('model');
    expect(result.removed).toEqual([]);
    expect(result.errors).toEqual([]);
    expect({ configs: [...world.configs.keys()], models: [...world.models.keys()], alarms: [...world.alarms.keys()] }).toEqual(before);
    expect(sageMaker).not.toHaveReceivedCommand(DeleteEndpointConfigCommand);
    expect(sageMaker).not.toHaveReceivedCommand(DeleteModelCommand);
    expect(sageMaker).not.toHaveReceivedCommand(CreateEndpointConfigCommand);
    expect(sageMaker).not.toHaveReceivedCommand(UpdateEndpointCommand);
    expect(cloudWatch).not.toHaveReceivedCommand(DeleteAlarmsCommand);
    expect(autoScaling).not.toHaveReceivedCommand(DeregisterScalableTargetCommand);
  });

  test('an operator input overrides the function settings for one run', async () => {
    process.env[SWEEPER_DRY_RUN_ENV] = 'false';
    const result = await handler({ dryRun: true, minAgeSeconds: 7200 });
    expect([result.dryRun, result.minAgeSeconds]).toEqual([true, 7200]);
    expect(result.removed).toEqual([]);
    const listed = sageMaker.commandCalls(ListEndpointConfigsCommand)[0]!.args[0].input.CreationTimeBefore!;
    expect(Math.abs(listed.getTime() - (Date.now() - 7_200_000))).toBeLessThan(60_000);
  });
});

describe('a real run', () => {
  let result: SweepResult;
  beforeEach(async () => {
    result = await handler(SCHEDULED_EVENT);
  });

  test('removes the finished rollout\'s config, model and alarms and the stray variant', () => {
    expect(result.dryRun).toBe(false);
    expect(result.minAgeSeconds).toBe(86_400);
    expect([...result.removed].sort()).toEqual([...LEFTOVERS].sort());
    expect(result.errors).toEqual([]);
    expect(world.configs.has(`${ENDPOINT}-v7-${FINISHED}-bg`)).toBe(false);
    expect(world.models.has(`fraud-detector-v7-${FINISHED}`)).toBe(false);
    for (const alarm of FINISHED_ALARMS) expect(world.alarms.has(alarm)).toBe(false);
  });

  test('only resources older than the minimum age are listed', () => {
    for (const command of [ListEndpointConfigsCommand, ListModelsCommand] as const) {
      const before = sageMaker.commandCalls(command as typeof ListModelsCommand)[0]!.args[0].input.CreationTimeBefore!;
      expect(Math.abs(before.getTime() - (Date.now() - DAY_MS))).toBeLessThan(60_000);
    }
    expect(world.configs.has(`${ENDPOINT}-v8-0b0b0b0b`)).toBe(true);
  });

  test('keeps what is in use, owned by a running rollout, young, or not its own', () => {
    expect(world.configs.has(CURRENT_CONFIG)).toBe(true);
    expect(reasonOf(result, CURRENT_CONFIG)).toBe(`in use: endpoint ${ENDPOINT} runs it`);
    for (const name of [`${OTHER_ENDPOINT}-v3-${RUNNING}-bg`, `${OTHER_ENDPOINT}-v3-${RUNNING}`, `churn-v3-${RUNNING}`]) {
      expect([world.configs.has(name) || world.models.has(name), reasonOf(result, name)]).toEqual([true, `owned by running rollout ${RUNNING} (endpoint ${OTHER_ENDPOINT})`]);
    }
    for (const alarm of Object.values(rolloutAlarmNames(OTHER_ENDPOINT, RUNNING))) {
      expect([world.alarms.has(alarm), reasonOf(result, alarm)]).toEqual([true, `owned by running rollout ${RUNNING} (endpoint ${OTHER_ENDPOINT})`]);
    }
    const young = rolloutAlarmNames(ENDPOINT, '0c0c0c0c').errorRate;
    expect([world.alarms.has(young), reasonOf(result, young)]).toEqual([true, expect.stringMatching(/^its configuration changed less than 86400 s ago/)]);
    const untagged = rolloutAlarmNames(ENDPOINT, '0d0d0d0d').errorRate;
    expect([world.alarms.has(untagged), reasonOf(result, untagged)]).toEqual([true, `not tagged ${MANAGED_BY_TAG}=${SYSTEM_NAME}: not created by this system`]);
    // A person's config and model: untouched, and not even reported.
    expect([world.configs.has('hand-made-config'), world.models.has('hand-made-model')]).toEqual([true, true]);
    expect(reasonOf(result, 'hand-made-config')).toBeUndefined();
    // A model of this system that the person's config references stays: deleting it would break that config.
    expect([world.models.has('fraud-detector-v4-cafebabe'), reasonOf(result, 'fraud-detector-v4-cafebabe')]).toEqual([
      true,
      'referenced by endpoint config hand-made-config',
    ]);
    // The stray's and the serving variant's models stay: the endpoint's config references them.
    expect(world.models.has('fraud-detector-v5-11111111') && world.models.has('fraud-detector-v6-0a1b2c3d')).toBe(true);
  });

  test('the stray variant goes by an update to a copy of the config without it, the serving variant as it runs now', () => {
    const update = sageMaker.commandCalls(UpdateEndpointCommand);
    expect(update).toHaveLength(1);
    const configName = update[0]!.args[0].input.EndpointConfigName!;
    expect(update[0]!.args[0].input.EndpointName).toBe(ENDPOINT);
    expect(configName).toMatch(new RegExp(`^${ENDPOINT}-swept-[0-9a-f]{8}$`));
    const created = world.configs.get(configName)!;
    // Every field as configured, at the weight and instance count it serves with now.
    expect(created.variants).toEqual([{ ...SERVING_CONFIG_VARIANT, InitialVariantWeight: 1, InitialInstanceCount: 3 }]);
    expect(created.tags).toEqual([
      { Key: MANAGED_BY_TAG, Value: SYSTEM_NAME },
      { Key: SWEPT_FROM_TAG, Value: CURRENT_CONFIG },
    ]);
    // Its scaling was released first: an UpdateEndpoint that removes an autoscaled variant fails.
    expect(scaling.targets.has(`endpoint/${ENDPOINT}/variant/${STRAY_VARIANT}`)).toBe(false);
    expect(autoScaling.commandCalls(DeregisterScalableTargetCommand)[0]!.calledBefore(update[0]!)).toBe(true);
  });
});

describe('stray variants', () => {
  test('a config with the stray removed keeps the source config\'s other settings', async () => {
    world.configs.set(CURRENT_CONFIG, { ...world.configs.get(CURRENT_CONFIG)!, extra: { KmsKeyId: 'key-1', DataCaptureConfig: { EnableCapture: true, InitialSamplingPercentage: 5, DestinationS3Uri: 's3://b/p', CaptureOptions: [{ CaptureMode: 'Input' }] } } });
    await handler({});
    const input = sageMaker.commandCalls(CreateEndpointConfigCommand)[0]!.args[0].input;
    expect(input.KmsKeyId).toBe('key-1');
    expect(input.DataCaptureConfig?.InitialSamplingPercentage).toBe(5);
  });

  test.each([
    ['the other variant has no instances', () => world.endpoints.set(ENDPOINT, endpoint(ENDPOINT, CURRENT_CONFIG, [liveVariant(STRAY_VARIANT, 0, 2), liveVariant(SERVING_VARIANT, 1, 0)])), /^no other variant of endpoint .* serves/],
    ['every variant is at weight 0', () => world.endpoints.set(ENDPOINT, endpoint(ENDPOINT, CURRENT_CONFIG, [liveVariant(STRAY_VARIANT, 0, 2), liveVariant(SERVING_VARIANT, 0, 3)])), /^no other variant of endpoint .* serves/],
    ['the endpoint changed recently', () => world.endpoints.set(ENDPOINT, { ...world.endpoints.get(ENDPOINT)!, LastModifiedTime: YOUNG }), /changed less than 86400 s ago/],
    ['the endpoint is updating', () => world.endpoints.set(ENDPOINT, { ...world.endpoints.get(ENDPOINT)!, EndpointStatus: 'Updating' }), /is Updating, not InService/],
    ['a rollout runs on the endpoint', () => world.records.push(record(ENDPOINT, '0e0e0e0e', now + DAY_MS)), /has a running rollout \(0e0e0e0e\)/],
  ])('is kept when %s', async (_, arrange, reason) => {
    arrange();
    const result = await handler({});
    expect(reasonOf(result, STRAY_VARIANT)).toMatch(reason);
    expect(result.found.map((entry) => entry.name)).not.toContain(STRAY_VARIANT);
    expect(sageMaker).not.toHaveReceivedCommand(UpdateEndpointCommand);
    expect(scaling.targets.has(`endpoint/${ENDPOINT}/variant/${STRAY_VARIANT}`)).toBe(true);
  });

  test('a weight-0 variant whose model this system did not create is not touched', async () => {
    world.models.set('fraud-detector-v5-11111111', { created: OLD, tags: [] });
    const result = await handler({});
    expect(result.found.map((entry) => entry.name)).not.toContain(STRAY_VARIANT);
    expect(sageMaker).not.toHaveReceivedCommand(UpdateEndpointCommand);
  });

  test('an endpoint that is not a configured target is never touched', async () => {
    world.endpoints.set('someone-elses', endpoint('someone-elses', CURRENT_CONFIG, [liveVariant(STRAY_VARIANT, 0, 2), liveVariant(SERVING_VARIANT, 1, 3)]));
    world.endpoints.delete(ENDPOINT);
    const result = await handler({});
    expect(result.found.filter((entry) => entry.kind === 'variant')).toEqual([]);
    expect(sageMaker).not.toHaveReceivedCommand(UpdateEndpointCommand);
  });
});

describe('what endpoints are doing decides what stays', () => {
  test('a config an endpoint is being updated to is in use', async () => {
    world.endpoints.set(OTHER_ENDPOINT, { ...world.endpoints.get(OTHER_ENDPOINT)!, EndpointStatus: 'Updating', PendingDeploymentSummary: { EndpointConfigName: `${ENDPOINT}-v7-${FINISHED}-bg`, StartTime: YOUNG } });
    const result = await handler({});
    expect(reasonOf(result, `${ENDPOINT}-v7-${FINISHED}-bg`)).toBe(`in use: endpoint ${OTHER_ENDPOINT} is being updated to it`);
    expect(world.configs.has(`${ENDPOINT}-v7-${FINISHED}-bg`)).toBe(true);
    // Its model stays with it.
    expect(world.models.has(`fraud-detector-v7-${FINISHED}`)).toBe(true);
  });

  test('an endpoint updating without naming its target config keeps every config', async () => {
    world.endpoints.set(OTHER_ENDPOINT, { ...world.endpoints.get(OTHER_ENDPOINT)!, EndpointStatus: 'Updating' });
    const result = await handler({});
    expect(reasonOf(result, `${ENDPOINT}-v7-${FINISHED}-bg`)).toMatch(new RegExp(`^endpoint ${OTHER_ENDPOINT} is Updating without naming the config it moves to`));
    expect(sageMaker).not.toHaveReceivedCommand(DeleteEndpointConfigCommand);
    expect(sageMaker).not.toHaveReceivedCommand(DeleteModelCommand);
    // Alarms do not depend on endpoints: they are swept anyway.
    for (const alarm of FINISHED_ALARMS) expect(world.alarms.has(alarm)).toBe(false);
  });

  test('an endpoint whose config was deleted under it keeps every model (the ones it runs are unknown)', async () => {
    world.endpoints.set('orphan', endpoint('orphan', 'deleted-config', [liveVariant('x', 1, 1)]));
    const result = await handler({});
    expect(reasonOf(result, `fraud-detector-v7-${FINISHED}`)).toBe('endpoint orphan uses config deleted-config, which no longer exists: the models it runs are unknown');
    expect(sageMaker).not.toHaveReceivedCommand(DeleteModelCommand);
  });
});

describe('failures', () => {
  test('one resource\'s failure does not stop the sweep, and what it protects stays', async () => {
    world.failing.add(`${ENDPOINT}-v7-${FINISHED}-bg`);
    world.failing.add(FINISHED_ALARMS[0]!);
    const result = await handler({});
    expect(result.errors).toEqual([
      { name: `${ENDPOINT}-v7-${FINISHED}-bg`, error: 'ThrottlingException: Rate exceeded' },
      { name: FINISHED_ALARMS[0], error: 'Throttling: Rate exceeded' },
    ]);
    // The config that could not be deleted still references its model: the model stays.
    expect(reasonOf(result, `fraud-detector-v7-${FINISHED}`)).toBe(`referenced by endpoint config ${ENDPOINT}-v7-${FINISHED}-bg`);
    expect(world.models.has(`fraud-detector-v7-${FINISHED}`)).toBe(true);
    expect(FINISHED_ALARMS.filter((alarm) => world.alarms.has(alarm))).toEqual([FINISHED_ALARMS[0]]);
    expect(result.removed).toContain(STRAY_VARIANT);
  });

  test('a failed listing is reported and the other phases still run', async () => {
    cloudWatch.on(DescribeAlarmsCommand).rejects(new CloudWatchServiceException({ name: 'Throttling', $fault: 'client', message: 'Rate exceeded', $metadata: {} }));
    const result = await handler({});
    expect(result.errors).toEqual([{ name: '(alarms)', error: 'Throttling: Rate exceeded' }]);
    expect(result.removed).toContain(`${ENDPOINT}-v7-${FINISHED}-bg`);
  });

  test('an unreadable running record aborts the sweep before anything is removed', async () => {
    world.records.push({ endpointName: { S: 'broken' }, expiresAt: { N: String(Math.floor((now + DAY_MS) / 1000)) } });
    await expect(handler({})).rejects.toMatchObject({ name: 'SweepAborted', message: expect.stringMatching(/^The record of endpoint broken in table active-rollouts has no deploymentId/) });
    expect(sageMaker).not.toHaveReceivedCommand(DeleteEndpointConfigCommand);
    expect(cloudWatch).not.toHaveReceivedCommand(DeleteAlarmsCommand);
  });

  test('an expired record is not read at all (what it owned is a leftover)', async () => {
    world.records.push({ endpointName: { S: 'broken' }, expiresAt: { N: String(Math.floor((now - DAY_MS) / 1000)) } });
    const result = await handler({});
    expect(result.removed).toContain(`${ENDPOINT}-v7-${FINISHED}-bg`);
  });

  test('a record without expiresAt (written before locks existed) still owns its deployment', async () => {
    world.records = [{ endpointName: { S: 'retired-endpoint' }, deploymentId: { S: FINISHED } }];
    const result = await handler({});
    expect(reasonOf(result, FINISHED_ALARMS[0]!)).toBe(`owned by running rollout ${FINISHED} (endpoint retired-endpoint)`);
    expect(reasonOf(result, `${ENDPOINT}-v7-${FINISHED}-bg`)).toBe(`owned by running rollout ${FINISHED} (endpoint retired-endpoint)`);
  });
});

describe('input and settings', () => {
  test.each([
    [{ minAgeSeconds: 60 }, /^sweep-resources: invalid input: minAgeSeconds: must be at least 3600/],
    [{ dryRun: 'yes' }, /^sweep-resources: invalid input: dryRun: must be true or false/],
  ])('refuses %j', async (input, message) => {
    await expect(handler(input)).rejects.toMatchObject({ name: 'InputValidationError', message: expect.stringMatching(message) });
    expect(sageMaker).not.toHaveReceivedAnyCommand();
  });

  test('an invocation without a payload runs with the function settings', async () => {
    process.env[SWEEPER_DRY_RUN_ENV] = 'true';
    process.env[SWEEPER_MIN_AGE_SECONDS_ENV] = '7200';
    const result = await handler(null);
    expect([result.dryRun, result.minAgeSeconds]).toEqual([true, 7200]);
  });

  test('settings from the environment are checked', () => {
    expect(sweeperSettingsFromEnvironment({})).toEqual({ dryRun: false, minAgeSeconds: 86_400 });
    expect(sweeperSettingsFromEnvironment({ [SWEEPER_DRY_RUN_ENV]: 'true', [SWEEPER_MIN_AGE_SECONDS_ENV]: '3600' })).toEqual({ dryRun: true, minAgeSeconds: 3600 });
    expect(() => sweeperSettingsFromEnvironment({ [SWEEPER_DRY_RUN_ENV]: 'yes' })).toThrow(/^SWEEPER_DRY_RUN must be 'true' or 'false', got 'yes'$/);
    expect(() => sweeperSettingsFromEnvironment({ [SWEEPER_MIN_AGE_SECONDS_ENV]: '1.5' })).toThrow(/^SWEEPER_MIN_AGE_SECONDS must be a whole number of seconds, at least 3600; got '1.5'$/);
  });

  test('the configuration schema applies defaults and names a wrong field', () => {
    const config = parseSweeperConfig(undefined);
    expect(config).toEqual({ dryRun: false, minAgeSeconds: 86_400, scheduleHours: 6 });
    expect(sweeperEnvironment(parseSweeperConfig({ dryRun: true, minAgeSeconds: 7200 }))).toEqual({ SWEEPER_DRY_RUN: 'true', SWEEPER_MIN_AGE_SECONDS: '7200' });
    expect(sweeperSettingsFromEnvironment(sweeperEnvironment(config))).toEqual({ dryRun: false, minAgeSeconds: 86_400 });
    expect(() => parseSweeperConfig({ scheduleHours: 0 })).toThrow(/sweeper\.scheduleHours: /);
    expect(() => parseSweeperConfig({ dryrun: true })).toThrow(/Unrecognized key/);
  });
});

describe('parseRolloutAlarmName', () => {
  test.each(Object.entries(rolloutAlarmNames('fraud-1234abcd-prod', '3f9a2c1b')))('reads back %s', (alarm, name) => {
    expect(parseRolloutAlarmName(name)).toEqual({ endpointName: 'fraud-1234abcd-prod', deploymentId: '3f9a2c1b', alarm });
  });

  test.each([
    'fraud-prod-3f9a2c1b-green-5xx-rate',
    `${ALARM_NAME_PREFIX}fraud-prod-green-5xx-rate`,
    `${ALARM_NAME_PREFIX}fraud-prod-3F9A2C1B-green-5xx-rate`,
    `${ALARM_NAME_PREFIX}fraud-prod-3f9a2c1b-green-cpu`,
    `${ALARM_NAME_PREFIX}-3f9a2c1b-green-5xx-rate`,
  ])('refuses %s', (name) => {
    expect(parseRolloutAlarmName(name)).toBeUndefined();
  });
});

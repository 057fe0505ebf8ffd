/**
 * The sweeper against the simulation: SageMaker's List operations it relies on (filters, sort, a cursor that
 * survives deletions between pages), and a real sweep through the SDK clients the rehearsal wires: leftovers of a
 * finished rollout go, a running rollout's alarms and a person's resources stay, the stray variant leaves the
 * endpoint while the serving variant keeps the traffic, and a later sweep finishes what the first made unused.
 */
import { ApplicationAutoScalingClient, RegisterScalableTargetCommand } from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient, DescribeAlarmsCommand, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointConfigCommand,
  ListEndpointConfigsCommand,
  ListEndpointsCommand,
  ListModelsCommand,
  SageMakerClient,
  type Tag,
} from '@aws-sdk/client-sagemaker';
import { rolloutAlarmInputs } from '../../../lambdas/shared/alarms';
import { configureAwsClients } from '../../../lambdas/shared/aws-clients';
import { ROLLOUTS_TABLE_ENV } from '../../../lambdas/shared/rollout-record';
import { SWEEPER_DRY_RUN_ENV, SWEEPER_MIN_AGE_SECONDS_ENV } from '../../../lambdas/shared/sweeper-config';
import { handler } from '../../../lambdas/sweep-resources';
import type { SweepResult } from '../../../lambdas/sweep-resources/sweep';
import type { SimulatedAws } from '../../../rehearsal/sim/world';
import { ENDPOINT, makePlan, managedTags, useTargets } from '../../lambdas/support/fixtures';
import { advanceSeconds, drive, driveError, harness, IMAGE, installClock, ROLE_ARN, type FakeClock } from './helpers';

const TABLE = 'sagemaker-blue-green-active-rollouts';
const DAY_SECONDS = 86_400;

let clock: FakeClock;
beforeEach(() => {
  clock = installClock();
});
afterEach(() => {
  clock.uninstall();
  configureAwsClients({});
});

async function createModel(sagemaker: SageMakerClient, name: string, tags: Tag[] = []): Promise<void> {
  await drive(clock, sagemaker.send(new CreateModelCommand({ ModelName: name, ExecutionRoleArn: ROLE_ARN, PrimaryContainer: { Image: IMAGE }, Tags: tags })));
}

async function createConfig(sagemaker: SageMakerClient, name: string, modelName: string, tags: Tag[] = []): Promise<void> {
  await drive(
    clock,
    sagemaker.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: name,
        ProductionVariants: [{ VariantName: 'only', ModelName: modelName, InstanceType: 'ml.g5.xlarge', InitialInstanceCount: 1 }],
        Tags: tags,
      }),
    ),
  );
}

describe('the List operations the sweeper calls', () => {
  test('ListEndpointConfigs and ListModels filter on creation time, sort newest first and page with a cursor', async () => {
    const { sagemaker } = harness({ timings: { apiLatencyMs: 0 } });
    await createModel(sagemaker, 'm-old');
    for (const name of ['c-1', 'c-2', 'c-3']) await createConfig(sagemaker, name, 'm-old');
    await advanceSeconds(clock, 3600);
    const cutoff = new Date();
    await advanceSeconds(clock, 1);
    await createModel(sagemaker, 'm-new');
    await createConfig(sagemaker, 'c-new', 'm-new');

    const first = await drive(clock, sagemaker.send(new ListEndpointConfigsCommand({ CreationTimeBefore: cutoff, MaxResults: 2, SortBy: 'Name', SortOrder: 'Ascending' })));
    expect(first.EndpointConfigs!.map((c) => c.EndpointConfigName)).toEqual(['c-1', 'c-2']);
    expect(first.EndpointConfigs![0]!.CreationTime).toBeInstanceOf(Date);
    // Deleting what the first page listed does not make the next page skip anything.
    await drive(clock, sagemaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName: 'c-1' })));
    await drive(clock, sagemaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName: 'c-2' })));
    const second = await drive(clock, sagemaker.send(new ListEndpointConfigsCommand({ CreationTimeBefore: cutoff, MaxResults: 2, SortBy: 'Name', SortOrder: 'Ascending', NextToken: first.NextToken })));
    expect([second.EndpointConfigs!.map((c) => c.EndpointConfigName), second.NextToken]).toEqual([['c-3'], undefined]);

    const newest = await drive(clock, sagemaker.send(new ListEndpointConfigsCommand({})));
    expect(newest.EndpointConfigs!.map((c) => c.EndpointConfigName)).toEqual(['c-new', 'c-3']);
    const models = await drive(clock, sagemaker.send(new ListModelsCommand({ CreationTimeBefore: cutoff })));
    expect(models.Models!.map((m) => [m.ModelName, m.ModelArn])).toEqual([['m-old', 'arn:aws:sagemaker:us-east-1:123456789012:model/m-old']]);
    const after = await drive(clock, sagemaker.send(new ListModelsCommand({ CreationTimeAfter: cutoff, NameContains: 'NEW' })));
    expect(after.Models!.map((m) => m.ModelName)).toEqual(['m-new']);
  });

  test('ListEndpoints reports status and times; a foreign or replayed NextToken is refused', async () => {
    const { aws, sagemaker } = harness({ timings: { apiLatencyMs: 0 } });
    aws.sagemaker.seedEndpoint({
      endpointName: 'e1',
      endpointConfigName: 'c1',
      variants: [{ variantName: 'v', modelName: 'm', image: IMAGE, instanceType: 'ml.m5.large', instanceCount: 1, weight: 1 }],
    });
    const listed = await drive(clock, sagemaker.send(new ListEndpointsCommand({ StatusEquals: 'InService' })));
    expect(listed.Endpoints!.map((e) => [e.EndpointName, e.EndpointStatus, e.LastModifiedTime instanceof Date])).toEqual([['e1', 'InService', true]]);
    const none = await drive(clock, sagemaker.send(new ListEndpointsCommand({ StatusEquals: 'Updating' })));
    expect(none.Endpoints).toEqual([]);
    const bad = await driveError(clock, sagemaker.send(new ListEndpointsCommand({ NextToken: 'not-a-token' })));
    expect([bad.name, bad.message]).toEqual(['ValidationException', 'Invalid pagination token: pass the NextToken of a previous response.']);
    const tooMany = await driveError(clock, sagemaker.send(new ListEndpointsCommand({ MaxResults: 101 })));
    expect(tooMany.message).toMatch(/Value '101' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100/);
  });
});

describe('a sweep against the simulation', () => {
  const STRAY = 'v5-11111111';
  const SERVING = 'v6-0a1b2c3d';
  const CURRENT_CONFIG = `${ENDPOINT}-v6-0a1b2c3d-bg`;
  const LEFTOVER_CONFIG = `${ENDPOINT}-v7-deadbeef-bg`;
  const LEFTOVER_MODEL = 'fraud-detector-v7-deadbeef';

  /** The world three days after a rollout (deadbeef) failed without cleanup, and one whose retirement of v5 never ran. */
  async function world(): Promise<{ aws: SimulatedAws; sagemaker: SageMakerClient; cloudWatch: CloudWatchClient }> {
    const { aws, sagemaker } = harness();
    const config = { region: aws.region, credentials: aws.credentials, requestHandler: aws.requestHandler };
    configureAwsClients(config);
    const cloudWatch = new CloudWatchClient(config);
    aws.dynamodb.createTable(TABLE, { partitionKey: 'endpointName' });
    aws.sagemaker.seedEndpoint({
      endpointName: ENDPOINT,
      endpointConfigName: CURRENT_CONFIG,
      tags: managedTags('0a1b2c3d'),
      variants: [
        { variantName: STRAY, modelName: 'fraud-detector-v5-11111111', image: IMAGE, instanceType: 'ml.g5.xlarge', instanceCount: 2, weight: 0 },
        { variantName: SERVING, modelName: 'fraud-detector-v6-0a1b2c3d', image: IMAGE, instanceType: 'ml.g5.xlarge', instanceCount: 3, weight: 1 },
      ],
    });
    // The stray is autoscaled: SageMaker refuses to remove it until its scalable target is gone.
    await drive(
      clock,
      new ApplicationAutoScalingClient(config).send(
        new RegisterScalableTargetCommand({
          ServiceNamespace: 'sagemaker',
          ResourceId: `endpoint/${ENDPOINT}/variant/${STRAY}`,
          ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
          MinCapacity: 1,
          MaxCapacity: 4,
        }),
      ),
    );
    await createModel(sagemaker, LEFTOVER_MODEL, managedTags('deadbeef'));
    await createConfig(sagemaker, LEFTOVER_CONFIG, LEFTOVER_MODEL, managedTags('deadbeef'));
    await createModel(sagemaker, 'hand-made-model');
    await createConfig(sagemaker, 'hand-made-config', 'hand-made-model');
    for (const alarm of rolloutAlarmInputs(makePlan({ deploymentId: 'deadbeef' }))) await drive(clock, cloudWatch.send(new PutMetricAlarmCommand(alarm)));
    for (const alarm of rolloutAlarmInputs(makePlan({ deploymentId: 'feedf00d', endpointName: 'churn-prod' }))) {
      await drive(clock, cloudWatch.send(new PutMetricAlarmCommand(alarm)));
    }
    await advanceSeconds(clock, 3 * DAY_SECONDS);
    // A rollout runs on churn-prod (its record expires tomorrow); one created a config ten minutes ago.
    await drive(
      clock,
      new DynamoDBClient(config).send(
        new PutItemCommand({
          TableName: TABLE,
          Item: { endpointName: { S: 'churn-prod' }, deploymentId: { S: 'feedf00d' }, expiresAt: { N: String(Math.floor(Date.now() / 1000) + DAY_SECONDS) } },
        }),
      ),
    );
    await createConfig(sagemaker, `${ENDPOINT}-v8-0b0b0b0b-bg`, 'fraud-detector-v6-0a1b2c3d', managedTags('0b0b0b0b'));
    useTargets();
    process.env[ROLLOUTS_TABLE_ENV] = TABLE;
    delete process.env[SWEEPER_DRY_RUN_ENV];
    delete process.env[SWEEPER_MIN_AGE_SECONDS_ENV];
    return { aws, sagemaker, cloudWatch };
  }

  const alarmNames = async (cloudWatch: CloudWatchClient) => {
    const { MetricAlarms } = await drive(clock, cloudWatch.send(new DescribeAlarmsCommand({ AlarmNamePrefix: 'sagemaker-blue-green-' })));
    return (MetricAlarms ?? []).map((alarm) => alarm.AlarmName!).sort();
  };

  test('removes the leftovers and the stray variant; the serving variant keeps the traffic throughout', async () => {
    const { aws, cloudWatch } = await world();
    const result: SweepResult = await drive(clock, handler({}));

    expect(result.errors).toEqual([]);
    const deadbeefAlarms = rolloutAlarmInputs(makePlan({ deploymentId: 'deadbeef' })).map((alarm) => alarm.AlarmName!);
    expect([...result.removed].sort()).toEqual([LEFTOVER_CONFIG, LEFTOVER_MODEL, ...deadbeefAlarms, STRAY].sort());
    const configs = aws.sagemaker.listEndpointConfigs().map((c) => c.name);
    const swept = configs.find((name) => name.startsWith(`${ENDPOINT}-swept-`))!;
    expect(configs.sort()).toEqual([CURRENT_CONFIG, `${ENDPOINT}-v8-0b0b0b0b-bg`, 'hand-made-config', swept].sort());
    expect(aws.sagemaker.listModels().map((m) => m.name).sort()).toEqual(['fraud-detector-v5-11111111', 'fraud-detector-v6-0a1b2c3d', 'hand-made-model']);
    expect(await alarmNames(cloudWatch)).toEqual(rolloutAlarmInputs(makePlan({ deploymentId: 'feedf00d', endpointName: 'churn-prod' })).map((a) => a.AlarmName!).sort());
    expect(aws.autoscaling.registeredVariants(ENDPOINT)).toEqual([]);

    // While SageMaker updates the endpoint, the old fleet serves as before.
    const during = aws.sagemaker.endpointSnapshot(ENDPOINT)!;
    expect([during.status, during.variants.map((v) => [v.variantName, v.weight, v.instanceCount])]).toEqual([
      'Updating',
      [
        [STRAY, 0, 2],
        [SERVING, 1, 3],
      ],
    ]);
    await advanceSeconds(clock, aws.timings.updateEndpointSeconds + 1);
    const after = aws.sagemaker.endpointSnapshot(ENDPOINT)!;
    expect([after.status, after.endpointConfigName, after.variants.map((v) => [v.variantName, v.weight, v.instanceCount])]).toEqual([
      'InService',
      swept,
      [[SERVING, 1, 3]],
    ]);
  });

  test('a later sweep removes what the first one made unused; a dry run before it removes nothing', async () => {
    const { aws } = await world();
    await drive(clock, handler({}));
    await advanceSeconds(clock, aws.timings.updateEndpointSeconds + DAY_SECONDS);

    const dry: SweepResult = await drive(clock, handler({ dryRun: true }));
    // The old transition config (no endpoint runs it now) and the stray's model; the config that was young is a
    // day older; churn-prod's record has expired (its rollout is over), so its alarms are leftovers now.
    const churnAlarms = rolloutAlarmInputs(makePlan({ deploymentId: 'feedf00d', endpointName: 'churn-prod' })).map((alarm) => alarm.AlarmName!);
    expect(dry.found.map((entry) => [entry.kind, entry.name])).toEqual([
      ['endpoint-config', `${ENDPOINT}-v8-0b0b0b0b-bg`],
      ['endpoint-config', CURRENT_CONFIG],
      ['model', 'fraud-detector-v5-11111111'],
      ...churnAlarms.map((name) => ['alarm', name]),
    ]);
    expect(aws.sagemaker.listEndpointConfigs().map((c) => c.name)).toContain(CURRENT_CONFIG);

    const second: SweepResult = await drive(clock, handler({}));
    expect([second.removed, second.errors]).toEqual([[`${ENDPOINT}-v8-0b0b0b0b-bg`, CURRENT_CONFIG, 'fraud-detector-v5-11111111', ...churnAlarms], []]);
    expect(aws.sagemaker.listModels().map((m) => m.name).sort()).toEqual(['fraud-detector-v6-0a1b2c3d', 'hand-made-model']);
    expect(aws.sagemaker.endpointSnapshot(ENDPOINT)!.variants.map((v) => [v.variantName, v.weight])).toEqual([[SERVING, 1]]);
  });
});

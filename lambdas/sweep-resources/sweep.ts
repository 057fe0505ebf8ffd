/**
 * The scheduled sweeper: finds what this system created and nothing owns any more, older than a minimum age, and
 * removes it (or, in dry-run mode, only reports it). Leftovers come from executions that failed, timed out or were
 * stopped before their cleanup ran:
 * - endpoint configs tagged by this system that no endpoint runs or is updating to;
 * - models tagged by this system that no remaining endpoint config references;
 * - alarms named with ALARM_NAME_PREFIX (and tagged by this system) of rollouts that are over;
 * - stray variants: on a configured endpoint, a variant at weight 0 running a model of this system, beside a
 *   variant that serves. It is removed by an UpdateEndpoint to a copy of the endpoint's config without it.
 *
 * What it never touches: anything without this system's MANAGED_BY_TAG; anything a running rollout owns (an
 * unexpired record in the active-rollouts table: its deployment id, and the names its plan gives); any endpoint
 * but the configured targets; the last variant that serves. When it cannot tell (an endpoint updating without
 * saying to which config, a config it cannot read), it keeps: a leftover kept today is swept on a later run.
 * The state it decides on (records, endpoints) must be read in full, or the sweep stops before removing anything;
 * past that, one resource's error is reported and the sweep goes on.
 */
import { createHash } from 'node:crypto';
import type { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import {
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  ListTagsForResourceCommand,
  type CloudWatchClient,
  type CompositeAlarm,
  type MetricAlarm,
} from '@aws-sdk/client-cloudwatch';
import { ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  ListEndpointConfigsCommand,
  ListEndpointsCommand,
  ListModelsCommand,
  type CreateEndpointConfigInput,
  type DescribeEndpointConfigOutput,
  type DescribeEndpointOutput,
  type ProductionVariantSummary,
  type SageMakerClient,
  type Tag,
} from '@aws-sdk/client-sagemaker';
import { z } from 'zod';
import { releaseVariantScaling } from '../shared/autoscaling';
import { describeError, SweepAborted } from '../shared/errors';
import type { StepLogger } from '../shared/logger';
import { ALARM_NAME_PREFIX, boundedName, rolloutAlarmNames, type RolloutAlarmNames } from '../shared/names';
import { definedOnly } from '../shared/objects';
import {
  createEndpointConfigUnlessExists,
  describeEndpointConfigIfExists,
  describeEndpointIfExists,
  describeModelIfExists,
  findVariant,
  listAllTags,
  requestEndpointUpdate,
  tagValue,
  unlessNotFound,
  type ConfigVisibilityRetryOptions,
} from '../shared/sagemaker';
import { SweepAgeSecondsSchema } from '../shared/sweeper-config';
import { DEPLOYMENT_ID_TAG, isManagedBySystem, MANAGED_BY_TAG, SYSTEM_NAME } from '../shared/tags';

export const STEP = 'sweep-resources';

/**
 * The scheduled event (its content is ignored: it has neither field) or an operator's overrides of the
 * function's settings for one run.
 */
export const SweepInputSchema = z.object({
  /** Report only. @default the function's SWEEPER_DRY_RUN */
  dryRun: z.boolean({ error: 'must be true or false' }).optional(),
  /** @default the function's SWEEPER_MIN_AGE_SECONDS */
  minAgeSeconds: SweepAgeSecondsSchema.optional(),
});
export type SweepInput = z.infer<typeof SweepInputSchema>;

export { SweepAborted };

/** Tag on the endpoint config that replaced one with stray variants: the config it was copied from. */
export const SWEPT_FROM_TAG = 'bluegreen:swept-from';

export type SweptKind = 'endpoint-config' | 'model' | 'alarm' | 'variant';

/** A leftover: removed by this run, or (dry run) what a real run would remove. */
export interface FoundResource {
  readonly kind: SweptKind;
  /** The resource's name (a variant's name for a stray variant). */
  readonly name: string;
  /** The endpoint of a stray variant. */
  readonly endpointName?: string;
  readonly reason: string;
}

/** A resource of this system that the sweep looked at and kept. */
export interface KeptResource {
  readonly name: string;
  readonly reason: string;
}

export interface SweepFailure {
  /** The resource, or the phase (`(endpoint configs)`, ...) whose listing failed. */
  readonly name: string;
  readonly error: string;
}

export interface SweepResult {
  readonly dryRun: boolean;
  readonly minAgeSeconds: number;
  readonly found: FoundResource[];
  /** Names removed by this run (none in a dry run). */
  readonly removed: string[];
  readonly kept: KeptResource[];
  readonly errors: SweepFailure[];
}

export interface SweepOptions {
  readonly dryRun: boolean;
  readonly minAgeSeconds: number;
}

export interface SweepDependencies {
  readonly sageMaker: SageMakerClient;
  readonly cloudWatch: CloudWatchClient;
  readonly autoScaling: ApplicationAutoScalingClient;
  readonly dynamo: DynamoDBClient;
  /** The active-rollouts table. */
  readonly table: string;
  /** The configured targets' endpoints: the only ones whose variants the sweep may remove. */
  readonly endpointNames: readonly string[];
  readonly logger: StepLogger;
  /** How UpdateEndpoint waits for a just-created config. @default 4 attempts, 2 s apart */
  readonly configVisibility?: ConfigVisibilityRetryOptions;
}

/** List operations ask for their largest page. */
const PAGE_SIZE = 100;
/** Endpoint statuses in which the endpoint may be moving to a config DescribeEndpoint does not name. */
const MOVING_STATUSES: ReadonlySet<string> = new Set(['Updating', 'RollingBack', 'UpdateRollbackFailed']);

/** SageMaker names compare case-insensitively. */
const key = (name: string): string => name.toLowerCase();

export async function sweepResources(options: SweepOptions, deps: SweepDependencies): Promise<SweepResult> {
  const cutoff = new Date(Date.now() - options.minAgeSeconds * 1000);
  const result: SweepResult = { dryRun: options.dryRun, minAgeSeconds: options.minAgeSeconds, found: [], removed: [], kept: [], errors: [] };
  const owners = await runningRollouts(deps.dynamo, deps.table);
  const endpoints = await describeAllEndpoints(deps.sageMaker);
  const context: SweepContext = { options, deps, cutoff, owners, endpoints, result };

  const goneConfigs = await phase(result, '(endpoint configs)', () => sweepEndpointConfigs(context), new Set<string>());
  await phase(result, '(models)', () => sweepModels(context, goneConfigs), undefined);
  await phase(result, '(alarms)', () => sweepAlarms(context), undefined);
  for (const endpointName of new Set(deps.endpointNames)) {
    await phase(result, `(variants of ${endpointName})`, () => sweepStrayVariants(context, endpointName), undefined);
  }

  const summary = { dryRun: result.dryRun, minAgeSeconds: result.minAgeSeconds, found: result.found.length, removed: result.removed, kept: result.kept.length, errors: result.errors };
  if (result.errors.length > 0) deps.logger.warn('Sweep done, with errors', summary);
  else deps.logger.info('Sweep done', summary);
  return result;
}

interface SweepContext {
  readonly options: SweepOptions;
  readonly deps: SweepDependencies;
  /** Only what is older than this is swept. */
  readonly cutoff: Date;
  readonly owners: RunningRollouts;
  readonly endpoints: readonly DescribeEndpointOutput[];
  readonly result: SweepResult;
}

/** Runs one phase; a failure of its listing is reported and the next phase runs. */
async function phase<T>(result: SweepResult, name: string, work: () => Promise<T>, onFailure: T): Promise<T> {
  try {
    return await work();
  } catch (error) {
    result.errors.push({ name, error: describeError(error) });
    return onFailure;
  }
}

// ---------------------------------------------------------------- running rollouts

/** What the unexpired records of the active-rollouts table own. */
export interface RunningRollouts {
  /** Deployment id -> endpoint. */
  readonly deploymentIds: ReadonlyMap<string, string>;
  /** Endpoint (lowercase) -> deployment id. */
  readonly endpoints: ReadonlyMap<string, string>;
  /** Resource names (lowercase) a running rollout's plan gives -> deployment id. */
  readonly resourceNames: ReadonlyMap<string, string>;
}

/** The names a record's plan gives (only these fields are read: the plan's other fields may change). */
const PlanNamesSchema = z.object({
  green: z.object({ modelName: z.string(), transitionEndpointConfigName: z.string(), finalEndpointConfigName: z.string() }).partial().optional(),
  blue: z.object({ modelName: z.string(), endpointConfigName: z.string() }).partial().optional(),
});

/**
 * Every unexpired record of the table (a strongly consistent Scan: the table holds one item per endpoint). A
 * record without `expiresAt` (written before locks existed) counts as unexpired. A record that cannot be read
 * aborts the sweep: what it owns is unknown.
 */
export async function runningRollouts(dynamo: DynamoDBClient, table: string, nowMs: number = Date.now()): Promise<RunningRollouts> {
  const deploymentIds = new Map<string, string>();
  const endpoints = new Map<string, string>();
  const resourceNames = new Map<string, string>();
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamo.send(new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: startKey }));
    for (const item of page.Items ?? []) {
      const endpointName = item.endpointName?.S;
      const deploymentId = item.deploymentId?.S;
      const expiresAt = item.expiresAt?.N !== undefined ? Number(item.expiresAt.N) : undefined;
      if (expiresAt !== undefined && Number.isFinite(expiresAt) && expiresAt * 1000 <= nowMs) continue;
      if (!endpointName || !deploymentId || (expiresAt !== undefined && !Number.isFinite(expiresAt))) {
        throw new SweepAborted(
          `The record of endpoint ${endpointName ?? '(no endpointName)'} in table ${table} has no deploymentId or an invalid expiresAt ` +
            `(${item.expiresAt?.N ?? 'absent'}): what it owns is unknown, so nothing was swept. Fix or delete the item.`,
        );
      }
      deploymentIds.set(deploymentId, endpointName);
      endpoints.set(key(endpointName), deploymentId);
      for (const name of planNames(item.plan?.S, endpointName, table)) resourceNames.set(key(name), deploymentId);
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return { deploymentIds, endpoints, resourceNames };
}

function planNames(planJson: string | undefined, endpointName: string, table: string): string[] {
  if (planJson === undefined) return [];
  let parsed: z.infer<typeof PlanNamesSchema>;
  try {
    parsed = PlanNamesSchema.parse(JSON.parse(planJson));
  } catch (error) {
    throw new SweepAborted(`The plan in the record of endpoint ${endpointName} in table ${table} cannot be read (${describeError(error)}): nothing was swept.`);
  }
  const { green, blue } = parsed;
  return [green?.modelName, green?.transitionEndpointConfigName, green?.finalEndpointConfigName, blue?.modelName, blue?.endpointConfigName].filter(
    (name): name is string => name !== undefined,
  );
}

/** Who owns a resource: the running rollout its plan names it in, or whose deployment id it is tagged with. */
function ownerOf(owners: RunningRollouts, name: string, tags: readonly Tag[]): string | undefined {
  const byName = owners.resourceNames.get(key(name));
  if (byName) return byName;
  const tagged = tagValue(tags, DEPLOYMENT_ID_TAG);
  return tagged !== undefined && owners.deploymentIds.has(tagged) ? tagged : undefined;
}

function ownedReason(owners: RunningRollouts, deploymentId: string): string {
  return `owned by running rollout ${deploymentId} (endpoint ${owners.deploymentIds.get(deploymentId) ?? 'unknown'})`;
}

// ---------------------------------------------------------------- endpoints

/** Every endpoint of the account and region, described (one that disappears meanwhile is left out). */
async function describeAllEndpoints(sageMaker: SageMakerClient): Promise<DescribeEndpointOutput[]> {
  const names: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sageMaker.send(new ListEndpointsCommand({ MaxResults: PAGE_SIZE, NextToken: nextToken }));
    names.push(...(page.Endpoints ?? []).map((endpoint) => endpoint.EndpointName).filter((name): name is string => name !== undefined));
    nextToken = page.NextToken;
  } while (nextToken);
  const described: DescribeEndpointOutput[] = [];
  for (const name of names) {
    const endpoint = await describeEndpointIfExists(sageMaker, name);
    if (endpoint) described.push(endpoint);
  }
  return described;
}

/** The configs endpoints run or are moving to, by lowercase name, with why; and why none is safe, if so. */
function configsInUse(endpoints: readonly DescribeEndpointOutput[]): { inUse: Map<string, string>; unsure?: string } {
  const inUse = new Map<string, string>();
  let unsure: string | undefined;
  for (const endpoint of endpoints) {
    if (endpoint.EndpointConfigName) inUse.set(key(endpoint.EndpointConfigName), `in use: endpoint ${endpoint.EndpointName} runs it`);
    const pending = endpoint.PendingDeploymentSummary?.EndpointConfigName;
    if (pending) inUse.set(key(pending), `in use: endpoint ${endpoint.EndpointName} is being updated to it`);
    else if (MOVING_STATUSES.has(endpoint.EndpointStatus ?? '')) {
      unsure ??= `endpoint ${endpoint.EndpointName} is ${endpoint.EndpointStatus} without naming the config it moves to: no config is swept until it settles`;
    }
  }
  return { inUse, ...(unsure !== undefined ? { unsure } : {}) };
}

// ---------------------------------------------------------------- endpoint configs

/** Sweeps endpoint configs; returns the (lowercase) names gone after it: deleted, or to be deleted in a dry run. */
async function sweepEndpointConfigs(context: SweepContext): Promise<Set<string>> {
  const { deps, result, owners } = context;
  const { inUse, unsure } = configsInUse(context.endpoints);
  const candidates: string[] = [];
  for (const config of await listAll(deps.sageMaker, 'EndpointConfigs', context.cutoff)) {
    const name = config.name;
    try {
      const tags = await listAllTags(deps.sageMaker, config.arn);
      if (!isManagedBySystem(tags)) continue;
      const owner = ownerOf(owners, name, tags);
      const keepReason = inUse.get(key(name)) ?? unsure ?? (owner !== undefined ? ownedReason(owners, owner) : undefined);
      if (keepReason !== undefined) {
        result.kept.push({ name, reason: keepReason });
        continue;
      }
      result.found.push({
        kind: 'endpoint-config',
        name,
        reason: `created by this system ${config.created.toISOString()}, run by no endpoint, owned by no running rollout`,
      });
      candidates.push(name);
    } catch (error) {
      result.errors.push({ name, error: describeError(error) });
    }
  }
  const gone = new Set<string>();
  for (const name of candidates) {
    if (context.options.dryRun) {
      gone.add(key(name));
      continue;
    }
    try {
      await unlessNotFound('endpoint configuration', () => deps.sageMaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName: name })));
      result.removed.push(name);
      gone.add(key(name));
    } catch (error) {
      result.errors.push({ name, error: describeError(error) });
    }
  }
  return gone;
}

// ---------------------------------------------------------------- models

/** Sweeps models that no remaining endpoint config (nor running rollout) references. */
async function sweepModels(context: SweepContext, goneConfigs: ReadonlySet<string>): Promise<void> {
  const { deps, result, owners } = context;
  const candidates: { name: string; created: Date }[] = [];
  for (const model of await listAll(deps.sageMaker, 'Models', context.cutoff)) {
    try {
      const tags = await listAllTags(deps.sageMaker, model.arn);
      if (!isManagedBySystem(tags)) continue;
      const owner = ownerOf(owners, model.name, tags);
      if (owner !== undefined) result.kept.push({ name: model.name, reason: ownedReason(owners, owner) });
      else candidates.push({ name: model.name, created: model.created });
    } catch (error) {
      result.errors.push({ name: model.name, error: describeError(error) });
    }
  }
  if (candidates.length === 0) return;

  // Only now is it worth reading every config: a model any of them references (the config may be someone
  // else's, or young) must stay, or that config could no longer be deployed.
  const references = await modelReferences(context, goneConfigs);
  for (const model of candidates) {
    const keepReason = references.unknown ?? references.byModel.get(key(model.name));
    if (keepReason !== undefined) {
      result.kept.push({ name: model.name, reason: keepReason });
      continue;
    }
    result.found.push({
      kind: 'model',
      name: model.name,
      reason: `created by this system ${model.created.toISOString()}, referenced by no remaining endpoint config, owned by no running rollout`,
    });
    if (context.options.dryRun) continue;
    try {
      await unlessNotFound('model', () => deps.sageMaker.send(new DeleteModelCommand({ ModelName: model.name })));
      result.removed.push(model.name);
    } catch (error) {
      result.errors.push({ name: model.name, error: describeError(error) });
    }
  }
}

interface ModelReferences {
  /** Model (lowercase) -> why it stays. */
  readonly byModel: ReadonlyMap<string, string>;
  /** Set when the configs cannot all be read: then no model is safe to delete. */
  readonly unknown?: string;
}

/** The models every endpoint config that stays references (production and shadow variants). */
async function modelReferences(context: SweepContext, goneConfigs: ReadonlySet<string>): Promise<ModelReferences> {
  const { sageMaker } = context.deps;
  const byModel = new Map<string, string>();
  const existing = new Set<string>();
  for (const summary of await listAll(sageMaker, 'EndpointConfigs')) {
    existing.add(key(summary.name));
    if (goneConfigs.has(key(summary.name))) continue;
    let config: DescribeEndpointConfigOutput | undefined;
    try {
      config = await describeEndpointConfigIfExists(sageMaker, summary.name);
    } catch (error) {
      return { byModel, unknown: `endpoint config ${summary.name} cannot be described (${describeError(error)}): the models it references are unknown` };
    }
    for (const variant of [...(config?.ProductionVariants ?? []), ...(config?.ShadowProductionVariants ?? [])]) {
      if (variant.ModelName) byModel.set(key(variant.ModelName), `referenced by endpoint config ${summary.name}`);
    }
  }
  // An endpoint whose config was deleted under it still runs that config's models, which no config names now.
  for (const endpoint of context.endpoints) {
    for (const configName of [endpoint.EndpointConfigName, endpoint.PendingDeploymentSummary?.EndpointConfigName]) {
      if (configName && (!existing.has(key(configName)) || goneConfigs.has(key(configName)))) {
        return { byModel, unknown: `endpoint ${endpoint.EndpointName} uses config ${configName}, which no longer exists: the models it runs are unknown` };
      }
    }
  }
  return { byModel };
}

// ---------------------------------------------------------------- alarms

/** The parts of an alarm name `rolloutAlarmNames` made. */
export interface ParsedAlarmName {
  readonly endpointName: string;
  readonly deploymentId: string;
  readonly alarm: keyof RolloutAlarmNames;
}

// The suffixes come from rolloutAlarmNames itself, so parser and names cannot drift apart.
const SAMPLE_ENDPOINT = 'e';
const SAMPLE_DEPLOYMENT = '00000000';
const ALARM_SUFFIXES = Object.entries(rolloutAlarmNames(SAMPLE_ENDPOINT, SAMPLE_DEPLOYMENT)).map(([alarm, name]) => ({
  alarm: alarm as keyof RolloutAlarmNames,
  suffix: name.slice(`${ALARM_NAME_PREFIX}${SAMPLE_ENDPOINT}-${SAMPLE_DEPLOYMENT}`.length),
}));

/**
 * The endpoint and deployment id in the name of an alarm this system created
 * (`sagemaker-blue-green-<endpoint>-<deploymentId>-green-5xx-rate`, ...); undefined for any other name.
 */
export function parseRolloutAlarmName(alarmName: string): ParsedAlarmName | undefined {
  if (!alarmName.startsWith(ALARM_NAME_PREFIX)) return undefined;
  for (const { alarm, suffix } of ALARM_SUFFIXES) {
    if (!alarmName.endsWith(suffix)) continue;
    const match = /^(.+)-([0-9a-f]{8})$/.exec(alarmName.slice(ALARM_NAME_PREFIX.length, alarmName.length - suffix.length));
    if (match) return { endpointName: match[1]!, deploymentId: match[2]!, alarm };
  }
  return undefined;
}

async function sweepAlarms(context: SweepContext): Promise<void> {
  const { deps, result, owners } = context;
  for (const alarm of await alarmsWithPrefix(deps.cloudWatch)) {
    const name = alarm.AlarmName ?? '';
    try {
      const parsed = parseRolloutAlarmName(name);
      const updated = alarm.AlarmConfigurationUpdatedTimestamp;
      if (!parsed) {
        result.kept.push({ name, reason: `the name does not follow this system's alarm names (${ALARM_NAME_PREFIX}<endpoint>-<deployment id>-green-...)` });
      } else if (owners.deploymentIds.has(parsed.deploymentId)) {
        result.kept.push({ name, reason: ownedReason(owners, parsed.deploymentId) });
      } else if (!updated || updated > context.cutoff) {
        result.kept.push({ name, reason: `its configuration changed less than ${context.options.minAgeSeconds} s ago (${updated?.toISOString() ?? 'unknown'})` });
      } else if (!isManagedBySystem(await alarmTags(deps.cloudWatch, alarm.AlarmArn))) {
        result.kept.push({ name, reason: `not tagged ${MANAGED_BY_TAG}=${SYSTEM_NAME}: not created by this system` });
      } else {
        result.found.push({
          kind: 'alarm',
          name,
          reason: `rollout ${parsed.deploymentId} of endpoint ${parsed.endpointName} has no running record; configuration last changed ${updated.toISOString()}`,
        });
        if (context.options.dryRun) continue;
        // One alarm per call: DeleteAlarms fails as a whole if one name is gone, and takes one composite alarm at most.
        await deps.cloudWatch.send(new DeleteAlarmsCommand({ AlarmNames: [name] }));
        result.removed.push(name);
      }
    } catch (error) {
      if ((error as Error).name === 'ResourceNotFound') continue; // deleted meanwhile (its rollout's release)
      result.errors.push({ name, error: describeError(error) });
    }
  }
}

/** Every metric and composite alarm whose name starts with ALARM_NAME_PREFIX. */
async function alarmsWithPrefix(cloudWatch: CloudWatchClient): Promise<(MetricAlarm | CompositeAlarm)[]> {
  const alarms: (MetricAlarm | CompositeAlarm)[] = [];
  let nextToken: string | undefined;
  do {
    const page = await cloudWatch.send(
      new DescribeAlarmsCommand({ AlarmNamePrefix: ALARM_NAME_PREFIX, AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], MaxRecords: PAGE_SIZE, NextToken: nextToken }),
    );
    alarms.push(...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? []));
    nextToken = page.NextToken;
  } while (nextToken);
  return alarms;
}

async function alarmTags(cloudWatch: CloudWatchClient, alarmArn: string | undefined): Promise<Tag[]> {
  if (!alarmArn) return [];
  const { Tags } = await cloudWatch.send(new ListTagsForResourceCommand({ ResourceARN: alarmArn }));
  return (Tags ?? []).map((tag) => ({ Key: tag.Key, Value: tag.Value }));
}

// ---------------------------------------------------------------- stray variants

/** A variant that takes traffic now: weight above 0, instances, and no deployment of its own in progress. */
function serves(variant: ProductionVariantSummary): boolean {
  const changing = (variant.VariantStatus ?? []).some((status) => status.Status === 'Creating' || status.Status === 'Updating' || status.Status === 'Deleting');
  return (variant.CurrentWeight ?? 0) > 0 && (variant.CurrentInstanceCount ?? 0) > 0 && !changing;
}

function atWeightZero(variant: ProductionVariantSummary): boolean {
  return variant.CurrentWeight === 0 && (variant.DesiredWeight ?? 0) === 0;
}

async function sweepStrayVariants(context: SweepContext, endpointName: string): Promise<void> {
  const { deps, result, owners } = context;
  const endpoint = context.endpoints.find((candidate) => key(candidate.EndpointName ?? '') === key(endpointName));
  const idle = (endpoint?.ProductionVariants ?? []).filter(atWeightZero);
  if (!endpoint || idle.length === 0) return;
  const keepAll = (reason: string) => {
    for (const variant of idle) result.kept.push({ name: variant.VariantName ?? '', reason });
  };

  const running = owners.endpoints.get(key(endpointName));
  if (running !== undefined) return keepAll(`endpoint ${endpointName} has a running rollout (${running})`);
  if (endpoint.EndpointStatus !== 'InService') return keepAll(`endpoint ${endpointName} is ${endpoint.EndpointStatus}, not InService`);
  const lastModified = endpoint.LastModifiedTime;
  if (!lastModified || lastModified > context.cutoff) {
    return keepAll(`endpoint ${endpointName} changed less than ${context.options.minAgeSeconds} s ago (${lastModified?.toISOString() ?? 'unknown'})`);
  }
  const configName = endpoint.EndpointConfigName ?? '';
  const config = await describeEndpointConfigIfExists(deps.sageMaker, configName);
  if (!config) return keepAll(`endpoint ${endpointName}'s config ${configName} cannot be described`);

  const strays: ProductionVariantSummary[] = [];
  for (const variant of idle) {
    const variantName = variant.VariantName ?? '';
    const modelName = findVariant(config.ProductionVariants, variantName)?.ModelName;
    const model = modelName ? await describeModelIfExists(deps.sageMaker, modelName) : undefined;
    if (!model) {
      result.kept.push({ name: variantName, reason: `its model ${modelName ?? '(none in config ' + configName + ')'} cannot be described: it may not be this system's` });
    } else if (isManagedBySystem(await listAllTags(deps.sageMaker, model.ModelArn ?? ''))) {
      strays.push(variant);
    }
    // A variant whose model this system did not create is someone else's: not looked at, not reported.
  }
  if (strays.length === 0) return;
  const strayNames = new Set(strays.map((variant) => variant.VariantName ?? ''));
  const serving = (endpoint.ProductionVariants ?? []).filter((variant) => !strayNames.has(variant.VariantName ?? '') && serves(variant));
  if (serving.length === 0) {
    for (const name of strayNames) result.kept.push({ name, reason: `no other variant of endpoint ${endpointName} serves (weight > 0, instances, not changing)` });
    return;
  }

  const servingList = serving.map((variant) => `${variant.VariantName} (weight ${variant.CurrentWeight})`).join(', ');
  for (const name of strayNames) {
    result.found.push({
      kind: 'variant',
      name,
      endpointName,
      reason: `weight 0 on endpoint ${endpointName}, unchanged since ${lastModified.toISOString()}, its model created by this system; ${servingList} keep the traffic`,
    });
  }
  if (context.options.dryRun) return;

  try {
    const input = sweptEndpointConfigInput(endpoint, config, strayNames);
    const outcome = await createEndpointConfigUnlessExists(deps.sageMaker, input);
    deps.logger.info(`Endpoint config without the stray variants ${outcome}`, { endpointName, endpointConfigName: input.EndpointConfigName, strays: [...strayNames] });
    // An UpdateEndpoint that removes an autoscaled variant fails: its scaling goes first (idempotent).
    for (const name of strayNames) await releaseVariantScaling(deps.autoScaling, endpointName, name);
    const update = await requestEndpointUpdate(deps.sageMaker, endpointName, input.EndpointConfigName!, deps.configVisibility);
    if (update === 'already-requested') {
      // The endpoint became busy since it was described: someone else's update, not ours.
      throw new Error(`endpoint ${endpointName} started another update meanwhile; the stray variants stay until a later sweep`);
    }
    result.removed.push(...strayNames);
  } catch (error) {
    for (const name of strayNames) result.errors.push({ name, error: describeError(error) });
  }
}

/**
 * The endpoint's current config without the stray variants: every other variant exactly as configured, at the
 * weight and instance count it runs with now (an autoscaled variant keeps its capacity, the serving weights stay
 * as they are), the config's other settings copied. Its name, `<endpoint>-swept-<8 hex>`, is a hash of its
 * content, so a retried sweep finds the config it created.
 */
export function sweptEndpointConfigInput(
  endpoint: DescribeEndpointOutput,
  config: DescribeEndpointConfigOutput,
  strayNames: ReadonlySet<string>,
): CreateEndpointConfigInput {
  const endpointName = endpoint.EndpointName ?? '';
  const variants = (config.ProductionVariants ?? [])
    .filter((variant) => !strayNames.has(variant.VariantName ?? ''))
    .map((variant) => {
      const live = findVariant(endpoint.ProductionVariants, variant.VariantName ?? '');
      return {
        ...variant,
        ...definedOnly({ InitialVariantWeight: live?.CurrentWeight, InitialInstanceCount: live?.CurrentInstanceCount }),
      };
    });
  const settings = definedOnly({
    DataCaptureConfig: config.DataCaptureConfig,
    KmsKeyId: config.KmsKeyId,
    AsyncInferenceConfig: config.AsyncInferenceConfig,
    ExplainerConfig: config.ExplainerConfig,
    ShadowProductionVariants: config.ShadowProductionVariants,
    ExecutionRoleArn: config.ExecutionRoleArn,
    VpcConfig: config.VpcConfig,
    EnableNetworkIsolation: config.EnableNetworkIsolation,
  });
  const digest = createHash('sha256')
    .update(JSON.stringify({ endpointName, from: config.EndpointConfigName, variants, settings }))
    .digest('hex')
    .slice(0, 8);
  return {
    EndpointConfigName: boundedName(endpointName, `swept-${digest}`),
    ProductionVariants: variants,
    ...settings,
    Tags: [
      { Key: MANAGED_BY_TAG, Value: SYSTEM_NAME },
      { Key: SWEPT_FROM_TAG, Value: config.EndpointConfigName ?? '' },
    ],
  };
}

// ---------------------------------------------------------------- listing

interface ListedResource {
  readonly name: string;
  readonly arn: string;
  readonly created: Date;
}

/**
 * Every endpoint config or model (created before `createdBefore`, if given), all pages read before anything is
 * deleted: deleting while paging could make the listing skip items.
 */
async function listAll(sageMaker: SageMakerClient, what: 'EndpointConfigs' | 'Models', createdBefore?: Date): Promise<ListedResource[]> {
  const listed: ListedResource[] = [];
  let nextToken: string | undefined;
  do {
    const filter = { MaxResults: PAGE_SIZE, NextToken: nextToken, ...definedOnly({ CreationTimeBefore: createdBefore }) };
    if (what === 'EndpointConfigs') {
      const page = await sageMaker.send(new ListEndpointConfigsCommand(filter));
      for (const config of page.EndpointConfigs ?? []) {
        listed.push({ name: config.EndpointConfigName ?? '', arn: config.EndpointConfigArn ?? '', created: config.CreationTime ?? new Date(0) });
      }
      nextToken = page.NextToken;
    } else {
      const page = await sageMaker.send(new ListModelsCommand(filter));
      for (const model of page.Models ?? []) listed.push({ name: model.ModelName ?? '', arn: model.ModelArn ?? '', created: model.CreationTime ?? new Date(0) });
      nextToken = page.NextToken;
    }
  } while (nextToken);
  return listed;
}

/**
 * Deletes endpoint configs and models a rollout no longer needs, and only those that are safe to delete:
 * - missing ones are skipped silently (a retry after a partial success, or never created);
 * - ones without this system's MANAGED_BY_TAG are retained: people's and other tools' resources are not ours;
 * - ones the endpoint uses are retained: its current config, and the models that config's variants run;
 * - while the endpoint is not InService/Failed (an update in flight, whose configs SageMaker still needs),
 *   everything is retained.
 * Given the rollout's plan, what it deleted is recorded as a `CleanupCompleted` lifecycle event (the reconciler,
 * which passes no sink, records nothing); recording never fails the step.
 */
import {
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  type DescribeEndpointOutput,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { z } from 'zod';
import { hashConfig } from '../shared/audit-trail';
import { recordLifecycleEvent, rolloutRef, type LifecycleSink, type ResourceRef } from '../shared/lifecycle-events';
import type { StepLogger } from '../shared/logger';
import { RolloutPlanSchema } from '../shared/plan';
import {
  describeEndpointConfigIfExists,
  describeEndpointIfExists,
  describeModelIfExists,
  listAllTags,
  unlessNotFound,
} from '../shared/sagemaker';
import { isManagedBySystem } from '../shared/tags';

export const STEP = 'delete-resources';

const names = (what: string) => z.array(z.string({ error: `must be ${what} names` }).min(1, 'must not be empty'), { error: 'must be an array' });

export const DeleteResourcesInputSchema = z
  .object({
    endpointName: z.string({ error: 'must be a string' }).min(1, 'must not be empty'),
    /** May repeat a name (the ASL builds the list from plan fields that can coincide). */
    endpointConfigNames: names('endpoint config'),
    modelNames: names('model'),
    /** The rollout whose resources these are: what was deleted is recorded in its audit trail. Optional: no plan, no event. */
    plan: RolloutPlanSchema.optional(),
  })
  .refine((input) => input.plan === undefined || input.plan.endpointName === input.endpointName, {
    path: ['plan', 'endpointName'],
    error: 'must be the same endpoint as endpointName',
  });
export type DeleteResourcesInput = z.infer<typeof DeleteResourcesInputSchema>;

export interface RetainedResource {
  readonly name: string;
  readonly reason: string;
}

export interface DeleteResourcesResult {
  /** Names deleted by this call. */
  readonly deleted: string[];
  /** Names that exist but were kept, with why. */
  readonly retained: RetainedResource[];
}

export const NOT_CREATED_BY_THIS_SYSTEM = 'not created by this system';

export interface DeleteResourcesDependencies {
  readonly sageMaker: SageMakerClient;
  readonly logger: StepLogger;
  /** Where `CleanupCompleted` goes (with the input's plan); absent: nothing is recorded. */
  readonly lifecycle?: LifecycleSink;
}

export async function deleteResources(input: DeleteResourcesInput, deps: DeleteResourcesDependencies): Promise<DeleteResourcesResult> {
  const { sageMaker } = deps;
  const configNames = [...new Set(input.endpointConfigNames)];
  const modelNames = [...new Set(input.modelNames)];
  const deleted: string[] = [];
  const removed: ResourceRef[] = [];
  const retained: RetainedResource[] = [];

  const endpoint = await describeEndpointIfExists(sageMaker, input.endpointName);
  if (endpoint && endpoint.EndpointStatus !== 'InService' && endpoint.EndpointStatus !== 'Failed') {
    // Which configs an update in flight needs is not knowable from here: keep everything, delete nothing.
    const reason = `endpoint ${input.endpointName} is ${endpoint.EndpointStatus}: an update is in flight`;
    for (const name of [...configNames, ...modelNames]) retained.push({ name, reason });
    return { deleted, retained };
  }
  const inUse = endpoint ? await resourcesInUse(sageMaker, endpoint) : NOTHING_IN_USE;

  for (const name of configNames) {
    const config = await describeEndpointConfigIfExists(sageMaker, name);
    if (!config) continue;
    if (!isManagedBySystem(await listAllTags(sageMaker, config.EndpointConfigArn ?? ''))) {
      retained.push({ name, reason: NOT_CREATED_BY_THIS_SYSTEM });
    } else if (name === inUse.configName) {
      retained.push({ name, reason: `in use: endpoint ${input.endpointName} runs it` });
    } else if (await unlessNotFound('endpoint configuration', () => sageMaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName: name })))) {
      deleted.push(name);
      removed.push({ kind: 'endpoint-config', name });
    }
  }
  for (const name of modelNames) {
    const model = await describeModelIfExists(sageMaker, name);
    if (!model) continue;
    if (!isManagedBySystem(await listAllTags(sageMaker, model.ModelArn ?? ''))) {
      retained.push({ name, reason: NOT_CREATED_BY_THIS_SYSTEM });
    } else if (inUse.modelNames === 'unknown') {
      retained.push({ name, reason: `endpoint ${input.endpointName}'s config ${inUse.configName} cannot be described: the models it runs are unknown` });
    } else if (inUse.modelNames.has(name)) {
      retained.push({ name, reason: `in use: a variant of endpoint ${input.endpointName}'s config ${inUse.configName} runs it` });
    } else if (await unlessNotFound('model', () => sageMaker.send(new DeleteModelCommand({ ModelName: name })))) {
      deleted.push(name);
      removed.push({ kind: 'model', name });
    }
  }
  deps.logger.info('Cleanup done', { deleted, retained });
  // Nothing deleted (all retained, or a retry finding it all gone): no cleanup to report.
  if (input.plan && deps.lifecycle && removed.length > 0) {
    await recordLifecycleEvent(
      deps.lifecycle,
      rolloutRef(input.plan),
      { type: 'CleanupCompleted', resourcesRemoved: removed },
      { discriminator: cleanupDiscriminator(configNames, modelNames) },
    );
  }
  return { deleted, retained };
}

/**
 * Tells apart the step's two runs in one rollout (after promotion: blue's config and model; after a rollback:
 * green's): a short hash of the names it was asked to delete, stable across retries.
 */
export function cleanupDiscriminator(configNames: readonly string[], modelNames: readonly string[]): string {
  return hashConfig({ endpointConfigs: [...new Set(configNames)].sort(), models: [...new Set(modelNames)].sort() }).slice(0, 8);
}

interface ResourcesInUse {
  readonly configName: string | undefined;
  /** 'unknown' when the endpoint's config cannot be described (then no model is safe to delete). */
  readonly modelNames: ReadonlySet<string> | 'unknown';
}

const NOTHING_IN_USE: ResourcesInUse = { configName: undefined, modelNames: new Set() };

/** The endpoint's current config and the models its variants (shadow ones included) run. */
async function resourcesInUse(sageMaker: SageMakerClient, endpoint: DescribeEndpointOutput): Promise<ResourcesInUse> {
  const configName = endpoint.EndpointConfigName;
  const config = configName ? await describeEndpointConfigIfExists(sageMaker, configName) : undefined;
  if (!config) return { configName, modelNames: 'unknown' };
  const variants = [...(config.ProductionVariants ?? []), ...(config.ShadowProductionVariants ?? [])];
  return { configName, modelNames: new Set(variants.map((v) => v.ModelName).filter((n): n is string => n !== undefined)) };
}

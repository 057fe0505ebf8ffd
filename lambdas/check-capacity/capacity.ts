/**
 * "Check capacity" / "Try next instance type": picks green's instance type before anything is created. The
 * candidates are the target's configured type, then its fallback types, in order. A candidate fits when Service
 * Quotas has room for green's instances on top of everything the account's endpoints already run of that type
 * (blue's included); the first that fits is chosen. When provisioning on the chosen type then fails for quota or
 * capacity (CapacityUnavailable), the state machine calls again with the failure: the failed type is recorded, what
 * its attempt left that would be reused on the next type (green's endpoint config, which names the old type) is
 * deleted, and the next candidates are checked. None left: InsufficientCapacity, naming every type and why.
 */
import { DeleteEndpointConfigCommand, type SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { z } from 'zod';
import { endpointUsageQuotas, headroom, instancesInUseByType } from '../shared/capacity';
import { EndpointNotReady, InputValidationError, InsufficientCapacity } from '../shared/errors';
import { failureMessage } from '../shared/failure';
import type { StepLogger } from '../shared/logger';
import { GreenVariantSchema, RolloutPlanSchema, type GreenVariant, type RolloutPlan } from '../shared/plan';
import { describeEndpointConfigIfExists, describeEndpointIfExists, listAllTags, tagValue, unlessNotFound } from '../shared/sagemaker';
import { DEPLOYMENT_ID_TAG, isManagedBySystem } from '../shared/tags';

export const STEP = 'check-capacity';

/** One candidate instance type and what was found about it. */
export const TriedInstanceTypeSchema = z.object({
  instanceType: z.string().min(1),
  /** Why it fits or does not (the quota arithmetic), or why provisioning on it failed. */
  reason: z.string(),
});
export type TriedInstanceType = z.infer<typeof TriedInstanceTypeSchema>;

/** What this step returns; the ASL keeps it at `$.capacity` and passes it back as `previous`. */
export const CapacityChoiceSchema = z.object({
  /** The plan's green with the chosen instance type (the ASL puts it at `$.plan.green`). */
  green: GreenVariantSchema,
  /** Index of the chosen type among the candidates: 0 the configured type, i > 0 fallback i. */
  candidateIndex: z.number().int().min(0),
  /**
   * One entry per candidate checked so far, in candidate order (entry i is candidate i, entry 0 the configured
   * type): the chosen one last. This is how a later call knows the configured type once the plan's green carries
   * a fallback.
   */
  tried: z.array(TriedInstanceTypeSchema).min(1),
  /** One line for the execution history: the choice and why. */
  message: z.string(),
});
export type CapacityChoice = z.infer<typeof CapacityChoiceSchema>;

/** What the Catch puts at `$.capacityFailure` when provisioning on the chosen type failed. */
const CaughtFailureSchema = z.object({ Error: z.string(), Cause: z.string().optional() });

export const CheckCapacityInputSchema = z.object({
  plan: RolloutPlanSchema,
  /** `$.capacity`: `{}` before the first check, then the previous result. */
  previous: z.union([CapacityChoiceSchema, z.object({}).strict()]).default({}),
  /** Present on "Try next instance type": why provisioning on the previously chosen type failed. */
  failure: CaughtFailureSchema.optional(),
});
export type CheckCapacityInput = z.input<typeof CheckCapacityInputSchema>;

/** What the step calls: SageMaker (the account's endpoints, the leftover configs) and Service Quotas. */
export interface CheckCapacityDependencies {
  readonly sageMaker: SageMakerClient;
  readonly serviceQuotas: ServiceQuotasClient;
  readonly logger: StepLogger;
}

/**
 * The instance type green gets: the first candidate from where the last attempt left off whose endpoint-usage quota
 * has room for green's instances (`inUse + needed <= quota`; no listed quota: no limit). With `failure`, the
 * previously chosen candidate is recorded as failed and its leftover endpoint configs are deleted first. Throws
 * InsufficientCapacity when no candidate is left.
 */
export async function checkCapacity(input: z.output<typeof CheckCapacityInputSchema>, deps: CheckCapacityDependencies): Promise<CapacityChoice> {
  const { plan, failure } = input;
  let tried: TriedInstanceType[] = [];
  let start = 0;
  let configuredType = plan.green.instanceType;
  if (failure) {
    const previous = previousChoice(input.previous, plan);
    configuredType = previous.tried[0]!.instanceType;
    const failed = previous.tried[previous.candidateIndex]!.instanceType;
    tried = [...previous.tried.slice(0, previous.candidateIndex), { instanceType: failed, reason: failureReason(failure) }];
    deps.logger.warn('Provisioning green on the chosen instance type failed: trying the next one', { instanceType: failed, reason: tried.at(-1)!.reason });
    await deleteFailedAttemptConfigs(plan, failed, deps);
    start = previous.candidateIndex + 1;
  }
  const candidates = candidateTypes(configuredType, plan.green.fallbackInstanceTypes);
  const needed = plan.green.instanceCount;
  if (start >= candidates.length) throw insufficientCapacity(plan, tried);

  const remaining = candidates.slice(start);
  const quotas = await endpointUsageQuotas(deps.serviceQuotas, remaining);
  const usage = await instancesInUseByType(deps.sageMaker);
  if (usage.unattributed > 0) {
    deps.logger.warn('Some endpoint instances have an unknown instance type (config gone, or serverless): not counted', {
      unattributed: usage.unattributed,
    });
  }
  for (let index = start; index < candidates.length; index++) {
    const instanceType = candidates[index]!;
    const quota = quotas.get(instanceType);
    if (!quota) deps.logger.info('No endpoint-usage quota listed for the instance type: no pre-flight limit', { instanceType });
    const room = headroom(instanceType, quota, usage.byType.get(instanceType) ?? 0, needed);
    tried = [...tried, { instanceType, reason: room.reason }];
    deps.logger.info(room.fits ? 'Instance type fits' : 'Instance type has no room for green', { instanceType, reason: room.reason });
    if (room.fits) {
      const green: GreenVariant = { ...plan.green, instanceType };
      return { green, candidateIndex: index, tried, message: choiceMessage(plan, tried, index, candidates.length) };
    }
  }
  throw insufficientCapacity(plan, tried);
}

/** Configured type first, then the fallbacks, each once. */
export function candidateTypes(configuredType: string, fallbacks: readonly string[] | undefined): string[] {
  return [...new Set([configuredType, ...(fallbacks ?? [])])];
}

/** The previous choice a failure refers to; anything else is a broken input. */
function previousChoice(previous: z.output<typeof CheckCapacityInputSchema>['previous'], plan: RolloutPlan): CapacityChoice {
  const parsed = CapacityChoiceSchema.safeParse(previous);
  if (!parsed.success) {
    throw new InputValidationError(`${STEP}: invalid input: previous: the earlier capacity check's result is required with failure`);
  }
  const choice = parsed.data;
  const chosen = choice.tried[choice.candidateIndex];
  if (choice.tried.length !== choice.candidateIndex + 1 || chosen?.instanceType !== plan.green.instanceType) {
    throw new InputValidationError(
      `${STEP}: invalid input: previous: candidate ${choice.candidateIndex} with ${choice.tried.length} tried types does not match ` +
        `plan.green.instanceType ${plan.green.instanceType}`,
    );
  }
  return choice;
}

/** The Catch's failure as one line: the CapacityUnavailable message, or the error's name and message. */
function failureReason(failure: z.infer<typeof CaughtFailureSchema>): string {
  const message = failureMessage(failure.Cause);
  return failure.Error === 'CapacityUnavailable' ? message : `${failure.Error}: ${message}`;
}

/**
 * Deletes green's endpoint configs that the failed attempt created: they name the failed instance type, and the
 * next provisioning would find and reuse them under the same names. Only configs this system created for this
 * rollout, that the endpoint neither runs nor is moving to; one that must stay makes the next type untriable.
 * Green's model does not depend on the instance type: it is kept.
 */
async function deleteFailedAttemptConfigs(plan: RolloutPlan, failedType: string, deps: CheckCapacityDependencies): Promise<void> {
  const endpoint = await describeEndpointIfExists(deps.sageMaker, plan.endpointName);
  const inUse = new Set([endpoint?.EndpointConfigName, endpoint?.PendingDeploymentSummary?.EndpointConfigName].filter((n) => n !== undefined));
  const names = [...new Set([plan.green.transitionEndpointConfigName, plan.green.finalEndpointConfigName])];
  for (const name of names) {
    const config = await describeEndpointConfigIfExists(deps.sageMaker, name);
    if (!config) continue;
    const cannotRetry = (why: string) =>
      new EndpointNotReady(
        `Endpoint config ${name}, from the attempt on ${failedType}, ${why}: it would be reused for the next instance type, so none is tried.`,
      );
    const tags = await listAllTags(deps.sageMaker, config.EndpointConfigArn ?? '');
    if (!isManagedBySystem(tags) || tagValue(tags, DEPLOYMENT_ID_TAG) !== plan.deploymentId) throw cannotRetry('was not created by this rollout');
    if (inUse.has(name)) throw cannotRetry(`is in use by endpoint ${plan.endpointName} (${endpoint?.EndpointStatus})`);
    const deleted = await unlessNotFound('endpoint configuration', () => deps.sageMaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName: name })));
    if (deleted) deps.logger.info('Deleted the failed attempt\'s endpoint config', { endpointConfigName: name, instanceType: failedType });
  }
}

function describeTried(tried: readonly TriedInstanceType[]): string {
  return tried.map((t) => `${t.instanceType}: ${t.reason}`).join('; ');
}

function choiceMessage(plan: RolloutPlan, tried: readonly TriedInstanceType[], index: number, candidateCount: number): string {
  const chosen = tried[index]!;
  const which = index === 0 ? 'the configured instance type' : `fallback ${index} of ${candidateCount - 1}`;
  const before = index > 0 ? ` Not used: ${describeTried(tried.slice(0, index))}.` : '';
  return `Green gets ${plan.green.instanceCount} x ${chosen.instanceType} (${which}): ${chosen.reason}.${before}`;
}

function insufficientCapacity(plan: RolloutPlan, tried: readonly TriedInstanceType[]): InsufficientCapacity {
  return new InsufficientCapacity(
    `No instance type has the quota or capacity for green's ${plan.green.instanceCount} instances on endpoint ${plan.endpointName}: ` +
      `${describeTried(tried)}. Nothing of green was left on the endpoint${plan.firstDeployment ? '' : '; blue is untouched'}.`,
  );
}

/**
 * The rollout plan: what "Resolve rollout" decides and every later state reads (`$.plan`). It is the
 * contract between the Lambdas and the ASL, so it is small (well under the 256 KB payload limit: no model
 * package description, no endpoint description, only what the steps need).
 */
import { z } from 'zod';
import { AlarmPolicySchema, ValidationPolicySchema } from './config';
import { InputValidationError } from './errors';

export const ContainerSchema = z.object({
  image: z.string().min(1),
  modelDataUrl: z.string().optional(),
  environment: z.record(z.string(), z.string()).optional(),
});

export const BlueVariantSchema = z.object({
  variantName: z.string(),
  modelName: z.string(),
  /** The endpoint config the endpoint ran when the rollout began: the config a rollback returns to. */
  endpointConfigName: z.string(),
  instanceType: z.string().optional(),
  /** Blue's instance count when the rollout began (it may have been autoscaled past its config's). */
  instanceCount: z.number().int().min(0),
  /** Blue's traffic weight when the rollout began. */
  weight: z.number().min(0),
});

export const GreenVariantSchema = z.object({
  variantName: z.string(),
  modelName: z.string(),
  /** Blue and green side by side (or green alone on a first deployment). */
  transitionEndpointConfigName: z.string(),
  /** Green alone, once blue is removed. */
  finalEndpointConfigName: z.string(),
  /** Green's instance type: the configured one, or the fallback "Check capacity" chose. */
  instanceType: z.string(),
  /**
   * The target's fallback instance types, in order (absent: none). "Check capacity" tries the configured type
   * first, then these; the list stays as configured whichever type is chosen.
   */
  fallbackInstanceTypes: z.array(z.string()).optional(),
  instanceCount: z.number().int().min(1),
  volumeSizeInGB: z.number().int().optional(),
  modelDataDownloadTimeoutInSeconds: z.number().int().optional(),
  containerStartupHealthCheckTimeoutInSeconds: z.number().int().optional(),
});

/**
 * Where validation traffic comes from, in order of preference: the golden dataset (JSON Lines in S3), the
 * policy's sample payload, the model package's SamplePayloadUrl (a .tar.gz of sample requests in S3).
 */
export const PayloadSourceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('dataset'), s3Uri: z.string().startsWith('s3://'), contentType: z.string() }),
  z.object({ kind: z.literal('inline'), body: z.string().min(1), contentType: z.string() }),
  z.object({ kind: z.literal('model-package-sample'), s3Uri: z.string().startsWith('s3://'), contentType: z.string() }),
]);

/**
 * Who or what started the rollout (lifecycle-events.ts `RolloutTrigger`): an approval in the Model Registry, or an
 * operator's `deploy` command. Recorded in the audit trail's header and the Rollout Started event.
 */
export const RolloutTriggerSchema = z.object({
  kind: z.enum(['MODEL_REGISTRY_APPROVAL', 'OPERATOR_DEPLOY'], { error: 'must be MODEL_REGISTRY_APPROVAL or OPERATOR_DEPLOY' }),
  /** The IAM identity or Studio user that approved the package, or the operator's name; absent when unknown. */
  by: z.string({ error: 'must be a string' }).min(1, 'must not be empty').optional(),
  /** The EventBridge event id of the approval (or of the synthetic event `deploy` sent). */
  eventId: z.string({ error: 'must be a string' }).min(1, 'must not be empty').optional(),
});

export const RolloutPlanSchema = z.object({
  /** Eight hex characters, unique per execution: in every name and tag of this rollout. */
  deploymentId: z.string().regex(/^[0-9a-f]{8}$/),
  executionArn: z.string(),
  endpointName: z.string(),
  modelPackage: z.object({
    arn: z.string(),
    groupName: z.string(),
    version: z.number().int().min(1),
    containers: z.array(ContainerSchema).min(1),
  }),
  modelExecutionRoleArn: z.string(),
  /** True when the endpoint does not exist yet: green is created alone, there is nothing to shift. */
  firstDeployment: z.boolean(),
  blue: BlueVariantSchema.optional(),
  /**
   * Set when the endpoint was mid-change when the rollout was planned (Updating, Creating, RollingBack, or more
   * than one variant: typically another rollout): why. Such a plan has no blue; "Lock endpoint" never lets it
   * go further, it waits in the queue and plans again.
   */
  endpointBusy: z.string().optional(),
  green: GreenVariantSchema,
  policy: z.object({
    /** Bake of the 100% step (and of a first deployment). */
    bakeSeconds: z.number().int().min(0),
    /** Bake of each traffic step below 100%. */
    stepBakeSeconds: z.number().int().min(0),
    /** Blue kept at weight 0, watched, after the bake. */
    rollbackWindowSeconds: z.number().int().min(0),
    endpointUpdateTimeoutSeconds: z.number().int().min(1),
    pollIntervalSeconds: z.number().int().min(1),
    /**
     * Longest wait for the endpoint's lock while another rollout holds it (policy.queue.maxWaitSeconds). Absent
     * in plans made before the queue existed: "Lock endpoint" then uses the target's policy.
     */
    lockWaitSeconds: z.number().int().min(0).optional(),
    /** Seconds between two attempts to take the lock (policy.queue.pollSeconds). */
    lockPollSeconds: z.number().int().min(1).optional(),
  }),
  /** Traffic steps: green's share after each, in whole percent, the last 100 (the ASL has one state group per step). */
  traffic: z.object({
    mode: z.enum(['ALL_AT_ONCE', 'CANARY', 'LINEAR']),
    stepPercents: z.array(z.number().int().min(1).max(100)).min(1),
  }),
  /** The target's alarm policy, defaults applied (the alarms' names derive from the deployment id). */
  alarms: AlarmPolicySchema,
  /** What green (and blue) are sent: smoke check, warm-up and validation. */
  payloads: PayloadSourceSchema,
  /** The target's validation policy (warm-up, gates, decision), defaults applied. */
  validation: ValidationPolicySchema,
  /** Who or what started the rollout. Optional: plans of executions started before it was recorded stay valid. */
  trigger: RolloutTriggerSchema.optional(),
});

export type Container = z.infer<typeof ContainerSchema>;
export type BlueVariant = z.infer<typeof BlueVariantSchema>;
export type GreenVariant = z.infer<typeof GreenVariantSchema>;
export type RolloutPlan = z.infer<typeof RolloutPlanSchema>;
export type PlannedTrigger = z.infer<typeof RolloutTriggerSchema>;

/** The input of every step whose state passes only `{ "plan.$": "$.plan" }`. */
export const PlanInputSchema = z.object({ plan: RolloutPlanSchema });
export type PayloadSource = z.infer<typeof PayloadSourceSchema>;

/**
 * Parses a handler's input with `schema`; the error names the handler and each field that was wrong, so
 * the Step Functions console shows e.g. `provision-green: plan.green.instanceType: expected string`.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, handlerName: string): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => {
    // A record's key may be a symbol, which join() cannot convert (a TypeError instead of this error).
    const where = i.path.map(String).join('.') || '(input)';
    // zod says "expected object, received undefined" for a missing field; say what it means.
    const message = /received undefined$/.test(i.message) ? 'is required' : i.message;
    return `${where}: ${message}`;
  });
  throw new InputValidationError(`${handlerName}: invalid input: ${lines.join('; ')}`);
}

/**
 * Blue, for the steps that only run when the endpoint already served (provision beside blue, shift, retire,
 * restore). A plan without blue there is a broken input, named like `parseInput` names fields.
 */
export function requireBlue(plan: RolloutPlan, handlerName: string): BlueVariant {
  if (plan.blue && !plan.firstDeployment) return plan.blue;
  throw new InputValidationError(
    `${handlerName}: invalid input: plan.blue: required when plan.firstDeployment is false ` +
      `(firstDeployment is ${plan.firstDeployment}, blue is ${plan.blue ? 'set' : 'missing'})`,
  );
}

/**
 * The approval event: what starts a rollout. The EventBridge rule (lib/approval-trigger.ts) and the local
 * rehearsal's bus both use `approvalEventPattern`, so the rehearsal filters exactly as AWS does.
 */
import { z } from 'zod';
import { SAGEMAKER_NAME_PATTERN } from './names';

export const APPROVAL_EVENT_SOURCE = 'aws.sagemaker';
export const APPROVAL_EVENT_DETAIL_TYPE = 'SageMaker Model Package State Change';

export interface ApprovalEventPattern {
  readonly source: string[];
  readonly 'detail-type': string[];
  readonly detail: { readonly ModelApprovalStatus: string[]; readonly ModelPackageGroupName: string[] };
}

/** Approvals of the given model package groups, and nothing else. */
export function approvalEventPattern(modelPackageGroupNames: readonly string[]): ApprovalEventPattern {
  return {
    source: [APPROVAL_EVENT_SOURCE],
    'detail-type': [APPROVAL_EVENT_DETAIL_TYPE],
    detail: { ModelApprovalStatus: ['Approved'], ModelPackageGroupName: [...modelPackageGroupNames] },
  };
}

/** A model package ARN (pattern of SageMaker's ModelPackageArn). */
export const MODEL_PACKAGE_ARN_PATTERN = /^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package\/\S+$/;

/**
 * The "SageMaker Model Package State Change" event, as far as a rollout reads it. Other fields
 * (InferenceSpecification, UpdatedModelPackageFields, ...) are allowed and kept. ModelApprovalStatus is any
 * non-empty string here: a status other than Approved is a decision (ModelPackageNotApproved), not bad input.
 */
export const ModelPackageStateChangeEventSchema = z.looseObject({
  source: z.literal(APPROVAL_EVENT_SOURCE, { error: `must be "${APPROVAL_EVENT_SOURCE}"` }),
  'detail-type': z.literal(APPROVAL_EVENT_DETAIL_TYPE, { error: `must be "${APPROVAL_EVENT_DETAIL_TYPE}"` }),
  detail: z.looseObject({
    ModelPackageGroupName: z
      .string({ error: 'must be a string' })
      // The pattern alone admits any number of hyphens: SageMaker's names are 1-63 characters.
      .max(63, 'must be at most 63 characters')
      .regex(SAGEMAKER_NAME_PATTERN, 'must be a model package group name (letters, digits, hyphens)'),
    ModelPackageVersion: z.number({ error: 'must be a number' }).int('must be an integer').min(1, 'must be >= 1'),
    ModelPackageArn: z
      .string({ error: 'must be a string' })
      .max(2048, 'must be at most 2048 characters')
      .regex(MODEL_PACKAGE_ARN_PATTERN, 'must be a model package ARN'),
    ModelApprovalStatus: z.string({ error: 'must be a string' }).min(1, 'must not be empty'),
  }),
});

export type ModelPackageStateChangeEvent = z.infer<typeof ModelPackageStateChangeEventSchema>;

export const ALARM_EVENT_SOURCE = 'aws.cloudwatch';
export const ALARM_EVENT_DETAIL_TYPE = 'CloudWatch Alarm State Change';

export interface AlarmEventPattern {
  readonly source: string[];
  readonly 'detail-type': string[];
  readonly detail: {
    readonly state: { readonly value: string[] };
    readonly alarmName: Array<string | { readonly prefix: string }>;
  };
}

/**
 * Alarms going to ALARM that a rollout may react to: those this system creates (by name prefix) and the
 * existing alarms the targets' policies name. Other alarms never invoke the handler.
 */
export function alarmEventPattern(alarmNamePrefix: string, existingAlarmNames: readonly string[]): AlarmEventPattern {
  return {
    source: [ALARM_EVENT_SOURCE],
    'detail-type': [ALARM_EVENT_DETAIL_TYPE],
    detail: { state: { value: ['ALARM'] }, alarmName: [{ prefix: alarmNamePrefix }, ...new Set(existingAlarmNames)] },
  };
}

/**
 * The "CloudWatch Alarm State Change" event, as far as the rollback handler reads it (metric and composite
 * alarms; other fields such as `configuration`, `previousState`, `muteDetail` are kept).
 */
export const AlarmStateChangeEventSchema = z.looseObject({
  source: z.literal(ALARM_EVENT_SOURCE, { error: `must be "${ALARM_EVENT_SOURCE}"` }),
  'detail-type': z.literal(ALARM_EVENT_DETAIL_TYPE, { error: `must be "${ALARM_EVENT_DETAIL_TYPE}"` }),
  time: z.string({ error: 'must be a string' }).optional(),
  resources: z.array(z.string()).optional(),
  detail: z.looseObject({
    alarmName: z.string({ error: 'must be a string' }).min(1, 'must not be empty').max(255, 'must be at most 255 characters'),
    state: z.looseObject({
      value: z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA'], { error: 'must be OK, ALARM or INSUFFICIENT_DATA' }),
      reason: z.string().optional(),
      timestamp: z.string().optional(),
    }),
    previousState: z.looseObject({ value: z.string().optional() }).optional(),
  }),
});

export type AlarmStateChangeEvent = z.infer<typeof AlarmStateChangeEventSchema>;

/**
 * Fault rules: the failures a rehearsal injects into the simulated AWS. Each rule counts its own
 * matches, so a rule with `times: 2` fires on exactly two calls and then lets calls through.
 */
import { AwsServiceError, defaultMessageFor, type SimService } from './errors';

/** An API call answered with an error instead of being executed. */
export interface ApiErrorFault {
  readonly kind: 'api-error';
  /** Any simulated service: `sagemaker`, `sagemaker-runtime`, `s3`, `cloudwatch`, `application-autoscaling`, `dynamodb`, `sfn`, `servicequotas`, `events`. */
  readonly service: SimService;
  /** Operation name as in the API (`UpdateEndpoint`, `InvokeEndpoint`, `PutItem`, `SendTaskFailure`). */
  readonly operation: string;
  /** Error name, e.g. `ThrottlingException`, `InternalFailure`, `ModelError`. */
  readonly error: string;
  /** @default a plausible AWS message for `error` ('Rate exceeded' for ThrottlingException) */
  readonly message?: string;
  /** How many matching calls fail. @default 1 */
  readonly times?: number;
  /** Matching calls to let through before the first failure. @default 0 */
  readonly after?: number;
}

/**
 * An UpdateEndpoint that runs its full duration and then ends InService on the OLD config with a
 * FailureReason, as SageMaker does when it cannot provision or health-check the new fleet.
 */
export interface UpdateRollbackFault {
  readonly kind: 'update-rollback';
  /** Only updates TO this endpoint config roll back. @default any update */
  readonly endpointConfigName?: string;
  /** @default an insufficient-capacity message */
  readonly reason?: string;
  /** How many matching updates roll back. @default 1 */
  readonly times?: number;
}

/** A CreateEndpoint that runs its full duration and then ends Failed with a FailureReason. */
export interface CreateFailureFault {
  readonly kind: 'create-failure';
  /** @default an insufficient-capacity message */
  readonly reason?: string;
  /** How many CreateEndpoint calls fail. @default 1 */
  readonly times?: number;
}

export type FaultRule = ApiErrorFault | UpdateRollbackFault | CreateFailureFault;

export const INSUFFICIENT_CAPACITY_REASON =
  'Unable to provision requested ML compute capacity due to InsufficientInstanceCapacity error. Please retry using a different ML instance type or after some time.';

/** Applies fault rules and keeps their counters. */
export class FaultInjector {
  private readonly rules: readonly FaultRule[];
  /** Per rule: matching events seen so far (calls for api-error, updates/creates otherwise). */
  private readonly matches: number[];

  constructor(rules: readonly FaultRule[] = []) {
    for (const rule of rules) {
      const times = rule.times ?? 1;
      if (!Number.isInteger(times) || times < 0) throw new RangeError(`fault rule ${rule.kind}: times must be a non-negative integer`);
      if (rule.kind === 'api-error' && rule.after !== undefined && (!Number.isInteger(rule.after) || rule.after < 0)) {
        throw new RangeError('fault rule api-error: after must be a non-negative integer');
      }
    }
    this.rules = rules;
    this.matches = rules.map(() => 0);
  }

  /** The error to answer instead of executing this call, if an api-error rule fires on it. */
  apiErrorFor(service: SimService, operation: string): AwsServiceError | undefined {
    let fired: AwsServiceError | undefined;
    this.rules.forEach((rule, index) => {
      if (rule.kind !== 'api-error' || rule.service !== service || rule.operation !== operation) return;
      // Every matching rule counts the call, even when an earlier rule already fired on it.
      const seen = this.matches[index]++;
      const after = rule.after ?? 0;
      if (fired === undefined && seen >= after && seen < after + (rule.times ?? 1)) {
        fired = injectedError(rule.error, rule.message, service);
      }
    });
    return fired;
  }

  /** The FailureReason of the rollback this update ends with, if an update-rollback rule fires on it. */
  rollbackReasonFor(targetEndpointConfigName: string): string | undefined {
    const rule = this.fire(
      (candidate): candidate is UpdateRollbackFault =>
        candidate.kind === 'update-rollback' &&
        (candidate.endpointConfigName === undefined || candidate.endpointConfigName === targetEndpointConfigName),
    );
    return rule ? (rule.reason ?? INSUFFICIENT_CAPACITY_REASON) : undefined;
  }

  /** The FailureReason this CreateEndpoint ends with, if a create-failure rule fires on it. */
  createFailureReason(): string | undefined {
    const rule = this.fire((candidate): candidate is CreateFailureFault => candidate.kind === 'create-failure');
    return rule ? (rule.reason ?? INSUFFICIENT_CAPACITY_REASON) : undefined;
  }

  /** Counts the event on the first matching rule that still has firings left; returns that rule. */
  private fire<Rule extends FaultRule>(matches: (rule: FaultRule) => rule is Rule): Rule | undefined {
    for (let index = 0; index < this.rules.length; index++) {
      const rule = this.rules[index];
      if (!matches(rule) || this.matches[index] >= (rule.times ?? 1)) continue;
      this.matches[index]++;
      return rule;
    }
    return undefined;
  }
}

/** The error an api-error rule answers with, with the details its protocol needs and `service`'s status for it. */
export function injectedError(errorName: string, message?: string, service?: SimService): AwsServiceError {
  const text = message ?? defaultMessageFor(errorName);
  if (errorName === 'ModelError') {
    return new AwsServiceError(errorName, text, { service, details: { OriginalStatusCode: 500, OriginalMessage: 'Internal Server Error' } });
  }
  return new AwsServiceError(errorName, text, { service });
}

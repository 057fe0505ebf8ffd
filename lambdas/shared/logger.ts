import { Logger } from '@aws-lambda-powertools/logger';
import type { RolloutPlan } from './plan';
import { SYSTEM_NAME } from './tags';
import { annotateRollout, traceInvocation } from './tracing';

/** One logger per function; handlers add the rollout's keys (execution, endpoint, package) per invocation. */
export function createLogger(step: string): Logger {
  return new Logger({ serviceName: SYSTEM_NAME, persistentKeys: { step } });
}

/** Keys that identify a rollout in logs. Undefined ones are left out. */
export interface RolloutLogKeys {
  readonly executionArn?: string;
  readonly deploymentId?: string;
  readonly endpointName?: string;
  readonly modelPackageArn?: string;
}

/** The log keys of a planned rollout. */
export function planLogKeys(plan: RolloutPlan): RolloutLogKeys {
  return {
    executionArn: plan.executionArn,
    deploymentId: plan.deploymentId,
    endpointName: plan.endpointName,
    modelPackageArn: plan.modelPackage.arn,
  };
}

/**
 * Replaces the logger's per-invocation keys: a warm Lambda container (or the in-process rehearsal) reuses
 * the logger, and one rollout's keys must not label the next one's lines. The keys also become X-Ray
 * annotations of the invocation's subsegment (see tracing.ts: a no-op outside Lambda or without one).
 */
export function setInvocationLogKeys(logger: Logger, keys: RolloutLogKeys): void {
  logger.resetKeys();
  appendLogKeys(logger, keys);
}

/** Adds keys learned during the invocation (e.g. the endpoint, once the target is known), to logs and X-Ray annotations. */
export function appendLogKeys(logger: Logger, keys: RolloutLogKeys): void {
  const defined = Object.fromEntries(Object.entries(keys).filter(([, value]) => value !== undefined)) as Record<string, string>;
  logger.appendKeys(defined);
  annotateRollout(keys);
}

/** What the step logic (plain functions) needs of a logger: tests pass a silent or spying one. */
export type StepLogger = Pick<Logger, 'debug' | 'info' | 'warn'>;

/**
 * Runs a handler's work in its X-Ray subsegment (named after the logger's step; where the rollout's annotations
 * land); a failure is logged with the invocation's keys, then rethrown unchanged. Every handler goes through here.
 */
export async function logFailures<T>(logger: Logger, work: () => Promise<T>): Promise<T> {
  const step = logger.getPersistentLogAttributes().step;
  return traceInvocation(typeof step === 'string' ? step : 'handler', async () => {
    try {
      return await work();
    } catch (error) {
      logger.error('Step failed', error as Error);
      throw error;
    }
  });
}

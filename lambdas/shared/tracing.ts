/**
 * X-Ray tracing with Powertools Tracer: one tracer for every handler, the AWS SDK clients wrapped so each call is
 * a subsegment, and the rollout's identity as annotations (searchable: `annotation.endpointName = "..."`).
 *
 * Powertools enables tracing only in Lambda (AWS_EXECUTION_ENV set, not SAM local nor Amplify mock, and
 * POWERTOOLS_TRACE_ENABLED not "false"). Everywhere else (tests, the rehearsal, the operator CLI) every function
 * here is a no-op that prints nothing: clients come back unchanged, so the rehearsal's swapped transports see
 * exactly the requests the SDK makes.
 *
 * Outside Lambda the tracer package is not even loaded: the X-Ray SDK it loads installs a process-wide async_hooks
 * hook (cls-hooked) at import, which made promise-heavy code about 5x slower here (rehearsal, benchmarks, tests).
 *
 * Nothing here may fail a rollout step: tracing errors are swallowed.
 */
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { z } from 'zod';
// Type-only: logger.ts imports this module (setInvocationLogKeys annotates), a value import would be a cycle.
import type { RolloutLogKeys } from './logger';
import { SYSTEM_NAME } from './tags';

/** Lambda sets AWS_EXECUTION_ENV (e.g. "AWS_Lambda_nodejs22.x"); Powertools' Tracer refuses to trace without it. */
function inLambda(): boolean {
  return (process.env.AWS_EXECUTION_ENV ?? '') !== '';
}

/** Loads the tracer package and creates the tracer, in Lambda only (see the module comment). */
function createTracer(): Tracer | undefined {
  if (!inLambda()) return undefined;
  const { Tracer: PowertoolsTracer } = require('@aws-lambda-powertools/tracer') as typeof import('@aws-lambda-powertools/tracer');
  return new PowertoolsTracer({ serviceName: SYSTEM_NAME });
}

/**
 * The process's tracer, in Lambda only (undefined elsewhere). With `Tracing.ACTIVE` it writes to the segment Lambda
 * opened for the invocation; Powertools may still disable it (POWERTOOLS_TRACE_ENABLED=false, SAM local).
 */
export const tracer: Tracer | undefined = createTracer();

/** The tracer when it traces: in Lambda and not disabled. */
function activeTracer(): Tracer | undefined {
  return tracer?.isTracingEnabled() ? tracer : undefined;
}

/**
 * The client, with X-Ray's middleware (`XRaySDKInstrumentation`) when tracing is enabled; otherwise the very same
 * client untouched. Idempotent (the X-Ray SDK replaces its middleware rather than adding a second one).
 */
export function traceAwsClient<T>(client: T): T {
  const active = activeTracer();
  if (!active) return client;
  try {
    return active.captureAWSv3Client(client);
  } catch {
    // An untraced client still works; a step must not fail for its trace.
    return client;
  }
}

/**
 * X-Ray annotation limits (AWS X-Ray developer guide, "Add annotations and metadata to segments"): keys up to 500
 * alphanumeric or underscore characters; values up to 1,000 Unicode characters; 50 annotations per trace.
 */
export const ANNOTATION_VALUE_MAX_CHARACTERS = 1000;

/** The annotation keys, one per rollout log key (alphanumeric, as X-Ray requires to filter on them). */
const ROLLOUT_ANNOTATION_KEYS = ['endpointName', 'modelPackageArn', 'deploymentId', 'executionArn'] as const satisfies readonly (keyof RolloutLogKeys)[];

const annotationValue = z.string().min(1);

/** The value cut to X-Ray's limit, counting code points so a surrogate pair is never split. */
export function truncateAnnotationValue(value: string): string {
  const characters = Array.from(value);
  return characters.length <= ANNOTATION_VALUE_MAX_CHARACTERS ? value : characters.slice(0, ANNOTATION_VALUE_MAX_CHARACTERS).join('');
}

/** Whether the current X-Ray entity can take annotations: a subsegment (Lambda's own segment is a read-only facade). */
function annotatableSegment(active: Tracer): ReturnType<Tracer['getSegment']> {
  const segment = active.getSegment();
  // X-Ray sets `parent` on a subsegment when it is attached; a segment (Lambda's facade) has none.
  return segment !== undefined && (segment as { readonly parent?: unknown }).parent !== undefined ? segment : undefined;
}

/**
 * Adds the rollout's keys (endpointName, modelPackageArn, deploymentId, executionArn) as X-Ray annotations on the
 * current subsegment, values truncated to X-Ray's 1,000 characters; undefined or empty keys are left out. A no-op
 * when tracing is disabled or no subsegment is open (see traceInvocation); never throws.
 */
export function annotateRollout(keys: RolloutLogKeys): void {
  const active = activeTracer();
  if (!active) return;
  try {
    const segment = annotatableSegment(active);
    if (!segment) return;
    for (const key of ROLLOUT_ANNOTATION_KEYS) {
      const value = annotationValue.safeParse(keys[key]);
      if (value.success) segment.addAnnotation(key, truncateAnnotationValue(value.data));
    }
  } catch {
    // Annotations are a convenience for searching traces; a step must not fail for one.
  }
}

/**
 * Runs a handler's work in a `## <step>` subsegment, which Lambda's own (facade) segment cannot replace: annotations
 * (annotateRollout, ColdStart, Service) and the error of a failed invocation are recorded there, and the AWS calls
 * nest under it. Outside Lambda, just runs the work. The work's result and error pass through unchanged.
 */
export async function traceInvocation<T>(step: string, work: () => Promise<T>): Promise<T> {
  const active = activeTracer();
  if (!active || active.getSegment() === undefined) return work();
  let started = false;
  const traced = async (subsegment?: { close(): void }): Promise<T> => {
    started = true;
    try {
      active.annotateColdStart();
      active.addServiceNameAnnotation();
    } catch {
      // As annotateRollout: never fail the step for its trace.
    }
    try {
      return await work();
    } catch (error) {
      try {
        if (error instanceof Error) active.addErrorAsMetadata(error);
      } catch {
        // The original error matters, not the trace's.
      }
      throw error;
    } finally {
      try {
        subsegment?.close();
      } catch {
        // Closing streams the subsegment to the daemon; losing it must not fail the step.
      }
    }
  };
  try {
    // captureAsyncFunc runs the work in its own context with the subsegment as the current one (as Powertools'
    // captureLambdaHandler does), so concurrent invocations never share it.
    return (await active.provider.captureAsyncFunc(`## ${step}`, traced)) as T;
  } catch (error) {
    // The work's own error passes through; if the X-Ray SDK failed before running it, run it untraced.
    if (started) throw error;
    return work();
  }
}

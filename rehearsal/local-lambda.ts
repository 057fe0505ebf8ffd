/**
 * Runs the rollout's handlers in process the way Lambda runs them behind a `lambda:invoke` Task: the payload
 * and the result cross a JSON boundary, and a thrown error reaches Step Functions as Lambda reports it
 * (Error = errorType = the error's name, Cause = the JSON error document), so Catch, Retry, ErrorPath and
 * CausePath behave as they do in AWS.
 */
import { join } from 'node:path';
import type { RolloutStep } from '../lambdas/steps';

export type StepHandler = (event: unknown) => Promise<unknown>;

export interface LambdaInvocation {
  readonly stateName: string;
  readonly step: string;
  readonly startedAtMs: number;
  readonly endedAtMs: number;
  readonly input: unknown;
  readonly output?: unknown;
  readonly error?: { readonly errorType: string; readonly errorMessage: string };
}

/** The error a failed `lambda:invoke` Task raises: its name is the function's errorType. */
export class LambdaFunctionError extends Error {
  constructor(errorType: string, errorMessage: string) {
    super(JSON.stringify({ errorType, errorMessage, trace: [] }));
    this.name = errorType;
  }
}

/** Loads `lambdas/<dir>/index.ts` and returns its `handler`. */
export function loadStepHandler(step: Pick<RolloutStep, 'dir'>): StepHandler {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const module = require(join(__dirname, '..', 'lambdas', step.dir, 'index')) as { handler?: StepHandler };
  if (typeof module.handler !== 'function') throw new Error(`lambdas/${step.dir}/index.ts exports no handler`);
  return module.handler;
}

/**
 * Stands in for the outside world completing a `.waitForTaskToken` Task: resolves with the output a
 * SendTaskSuccess would carry, or rejects with an error whose name and message are SendTaskFailure's error
 * and cause. Never settling is allowed: the Task's timeout then fires, as in AWS.
 */
export type TaskTokenResolver = (stateName: string, payload: unknown, taskToken: string) => Promise<unknown>;

const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
const LAMBDA_INVOKE_WAIT_FOR_TOKEN = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

export interface LocalLambdaOptions {
  readonly taskStates: ReadonlyMap<string, Record<string, unknown>>;
  readonly stepsByFunctionArn: ReadonlyMap<string, RolloutStep>;
  readonly handlerFor: (step: RolloutStep) => StepHandler;
  /** Completes `.waitForTaskToken` Tasks; without it such a Task waits until its timeout. */
  readonly resolveTaskToken?: TaskTokenResolver;
  /**
   * The execution's `$$.Task.Token` as the engine's context gives it (one per execution). Each waiting task gets
   * its own token, as in AWS: this one with a per-task suffix, written into the payload wherever it appears.
   */
  readonly contextTaskToken?: string;
  /** Called after each invocation, success or failure (the rehearsal's timeline and call counts). */
  readonly onInvocation?: (invocation: LambdaInvocation) => void;
}

/** `taskResourceLocalHandlers` for aws-local-stepfunctions: one per Task state, dispatching on FunctionName. */
export function localTaskHandlers(options: LocalLambdaOptions): Record<string, (input: unknown) => Promise<unknown>> {
  const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  let taskCount = 0;
  for (const [stateName, state] of options.taskStates) {
    if (state.Resource !== LAMBDA_INVOKE && state.Resource !== LAMBDA_INVOKE_WAIT_FOR_TOKEN) {
      throw new Error(`state "${stateName}": the rehearsal runs lambda:invoke Tasks only, not ${String(state.Resource)}`);
    }
    const waitsForToken = state.Resource === LAMBDA_INVOKE_WAIT_FOR_TOKEN;
    handlers[stateName] = async (input: unknown) => {
      const { FunctionName, Payload } = (input ?? {}) as { FunctionName?: string; Payload?: unknown };
      const step = FunctionName ? options.stepsByFunctionArn.get(FunctionName) : undefined;
      // Lambda's own error for an unknown function, so a wrong substitution fails the way it would in AWS.
      if (!step) throw new LambdaFunctionError('Lambda.ResourceNotFoundException', `Function not found: ${FunctionName}`);
      let taskToken = '';
      let payloadText = JSON.stringify(Payload ?? null);
      if (waitsForToken && options.contextTaskToken) {
        taskCount += 1;
        taskToken = `${options.contextTaskToken}-${taskCount}`;
        payloadText = payloadText.split(JSON.stringify(options.contextTaskToken)).join(JSON.stringify(taskToken));
      }
      const event = JSON.parse(payloadText);
      const startedAtMs = Date.now();
      try {
        const result = await options.handlerFor(step)(event);
        const output = result === undefined ? null : JSON.parse(JSON.stringify(result));
        options.onInvocation?.({ stateName, step: step.dir, startedAtMs, endedAtMs: Date.now(), input: event, output });
        if (!waitsForToken) return { ExecutedVersion: '$LATEST', Payload: output, StatusCode: 200 };
      } catch (error) {
        const errorType = error instanceof Error ? error.name : 'Error';
        const errorMessage = error instanceof Error ? error.message : String(error);
        options.onInvocation?.({ stateName, step: step.dir, startedAtMs, endedAtMs: Date.now(), input: event, error: { errorType, errorMessage } });
        throw new LambdaFunctionError(errorType, errorMessage);
      }
      // The function only announced the wait; the Task's result is what the decision sends back.
      if (!options.resolveTaskToken) return new Promise(() => undefined);
      return options.resolveTaskToken(stateName, event, taskToken);
    };
  }
  return handlers;
}

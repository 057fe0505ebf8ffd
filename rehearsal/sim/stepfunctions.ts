/**
 * Step Functions task tokens: the callback side of `.waitForTaskToken` tasks. The rehearsal's engine registers
 * each waiting task's token with handlers that complete it; SendTaskSuccess, SendTaskFailure and
 * SendTaskHeartbeat then behave as Step Functions does: a token never issued is InvalidToken, a token whose task
 * already ended (completed by an earlier call, timed out, or its execution gone) is TaskTimedOut.
 */
import { z } from 'zod';
import { nowMs } from './clock';
import { AwsServiceError } from './errors';
import { parseAwsInput } from './validation';

/** What completes a waiting task. Called synchronously by SendTaskSuccess / SendTaskFailure; must not throw. */
export interface TaskTokenHandlers {
  succeed(output: unknown): void;
  fail(error: string, cause: string): void;
}

/** How a token's task ended, or that it still waits. */
export type TaskTokenState =
  | { readonly status: 'waiting' }
  | { readonly status: 'succeeded'; readonly output: unknown; readonly atMs: number }
  | { readonly status: 'failed'; readonly error: string; readonly cause: string; readonly atMs: number }
  /** Ended for another reason (`settleTaskToken`: a timeout, the execution stopped). */
  | { readonly status: 'settled'; readonly atMs: number };

interface RegisteredToken {
  readonly handlers: TaskTokenHandlers;
  state: TaskTokenState;
  heartbeats: number;
}

const taskToken = z.string().min(1).max(2048);
const sendTaskSuccessInput = z.object({ taskToken, output: z.string().max(262144) });
const sendTaskFailureInput = z.object({ taskToken, error: z.string().max(256).optional(), cause: z.string().max(32768).optional() });
const sendTaskHeartbeatInput = z.object({ taskToken });

function sfnError(code: string, message: string): AwsServiceError {
  return new AwsServiceError(code, message, { service: 'sfn' });
}

export class StepFunctionsSimulation {
  private readonly tokens = new Map<string, RegisteredToken>();

  /** The operations this simulation implements, by API name. */
  private readonly operations: Readonly<Record<string, (input: unknown) => object>> = {
    SendTaskSuccess: (input) => this.sendTaskSuccess(input),
    SendTaskFailure: (input) => this.sendTaskFailure(input),
    SendTaskHeartbeat: (input) => this.sendTaskHeartbeat(input),
  };

  /** Whether `operation` is one this simulation implements. */
  supports(operation: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.operations, operation);
  }

  /** Executes one API operation on its decoded JSON input; throws AwsServiceError as Step Functions would answer. */
  execute(operation: string, input: unknown): object {
    const run = this.supports(operation) ? this.operations[operation] : undefined;
    if (!run) {
      throw sfnError('UnknownOperationException', `The requested operation ${operation} is not recognized by the service.`);
    }
    return run(input);
  }

  // ---------------------------------------------------------------- the engine's side

  /** Makes `token` a waiting task's token: SendTaskSuccess/Failure with it will call `handlers`. */
  registerTaskToken(token: string, handlers: TaskTokenHandlers): void {
    if (this.tokens.has(token)) throw new Error(`task token ${token} is already registered`);
    this.tokens.set(token, { handlers, state: { status: 'waiting' }, heartbeats: 0 });
  }

  /** The task of `token` ended for another reason (timeout, execution stopped): later calls with it are TaskTimedOut. */
  settleTaskToken(token: string): void {
    const registered = this.tokens.get(token);
    if (registered?.state.status === 'waiting') registered.state = { status: 'settled', atMs: nowMs() };
  }

  /** How the task of `token` ended (or that it waits); undefined for a token never registered. */
  taskTokenState(token: string): TaskTokenState | undefined {
    return this.tokens.get(token)?.state;
  }

  /** SendTaskHeartbeat calls accepted for `token`. */
  heartbeats(token: string): number {
    return this.tokens.get(token)?.heartbeats ?? 0;
  }

  // ---------------------------------------------------------------- API

  /** The waiting task of `token`, or the error Step Functions answers. */
  private waiting(token: string): RegisteredToken {
    const registered = this.tokens.get(token);
    if (!registered) throw sfnError('InvalidToken', "Invalid Token: 'Invalid token'");
    if (registered.state.status !== 'waiting') throw sfnError('TaskTimedOut', "Task Timed Out: 'Provided task does not exist anymore'");
    return registered;
  }

  private sendTaskSuccess(rawInput: unknown): object {
    const input = parseAwsInput(sendTaskSuccessInput, rawInput);
    const registered = this.waiting(input.taskToken);
    let output: unknown;
    try {
      output = JSON.parse(input.output);
    } catch {
      throw sfnError('InvalidOutput', "Invalid Output: 'The provided JSON output data is not valid JSON'");
    }
    registered.state = { status: 'succeeded', output, atMs: nowMs() };
    registered.handlers.succeed(output);
    return {};
  }

  private sendTaskFailure(rawInput: unknown): object {
    const input = parseAwsInput(sendTaskFailureInput, rawInput);
    const registered = this.waiting(input.taskToken);
    const error = input.error ?? '';
    const cause = input.cause ?? '';
    registered.state = { status: 'failed', error, cause, atMs: nowMs() };
    registered.handlers.fail(error, cause);
    return {};
  }

  private sendTaskHeartbeat(rawInput: unknown): object {
    const input = parseAwsInput(sendTaskHeartbeatInput, rawInput);
    this.waiting(input.taskToken).heartbeats += 1;
    return {};
  }
}

/**
 * SageMaker helpers shared by the steps. SageMaker reports a missing resource, an existing one and a busy
 * endpoint all as `ValidationException`, with the message as the only discriminator: the message patterns
 * live here and nowhere else, so a change in wording is fixed in one place (the rehearsal's simulation
 * reproduces these messages exactly).
 */
import {
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  DescribeModelPackageCommand,
  ListTagsCommand,
  UpdateEndpointCommand,
  type CreateEndpointConfigInput,
  type CreateModelInput,
  type DescribeEndpointConfigOutput,
  type DescribeEndpointOutput,
  type DescribeModelOutput,
  type DescribeModelPackageOutput,
  type SageMakerClient,
  type Tag,
} from '@aws-sdk/client-sagemaker';
import { sleep } from './time';

/** Kinds of resource whose absence SageMaker reports with a recognizable message. */
export type SageMakerResourceKind = 'endpoint' | 'endpoint configuration' | 'model' | 'model package';
/** Kinds of resource a rollout creates (and may find already created by an earlier attempt). */
export type CreatableResourceKind = 'endpoint' | 'endpoint configuration' | 'model';

// `Could not find endpoint "` cannot match `Could not find endpoint configuration "`: the quote follows.
const NOT_FOUND_PATTERNS: Readonly<Record<SageMakerResourceKind, RegExp>> = {
  endpoint: /^Could not find endpoint "/,
  'endpoint configuration': /^Could not find endpoint configuration "/,
  model: /^Could not find model "/,
  'model package': /^ModelPackage \S+ does not exist/,
};
const ALREADY_EXISTS_PATTERN = /^Cannot create already existing (model|endpoint configuration|endpoint) "/;
const ENDPOINT_BUSY_PATTERN = /^Cannot update in-progress endpoint "/;

/** The message of a SageMaker `ValidationException`, or undefined for any other error. */
function validationMessage(error: unknown): string | undefined {
  return error instanceof Error && error.name === 'ValidationException' ? error.message : undefined;
}

/** True when `error` is SageMaker saying the resource of this kind does not exist. */
export function isNotFoundError(error: unknown, kind: SageMakerResourceKind): boolean {
  const message = validationMessage(error);
  return message !== undefined && NOT_FOUND_PATTERNS[kind].test(message);
}

/** True when `error` is SageMaker refusing to create a resource of this kind because the name is taken. */
export function isAlreadyExistsError(error: unknown, kind: CreatableResourceKind): boolean {
  const match = ALREADY_EXISTS_PATTERN.exec(validationMessage(error) ?? '');
  return match !== null && match[1] === kind;
}

/** True when `error` is SageMaker refusing a mutation because the endpoint is Creating/Updating. */
export function isEndpointBusyError(error: unknown): boolean {
  return ENDPOINT_BUSY_PATTERN.test(validationMessage(error) ?? '');
}

/** Runs `call`; a "not found" error of this kind becomes `undefined`, any other error propagates. */
export async function unlessNotFound<T>(kind: SageMakerResourceKind, call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (isNotFoundError(error, kind)) return undefined;
    throw error;
  }
}

/** Whether a create call made the resource or found it made by an earlier attempt of the same step. */
export type CreateOutcome = 'created' | 'existing';

/**
 * Runs a create call; "already existing" becomes `'existing'`. Only for names unique to this rollout (they
 * carry its deployment id): a resource of that name can only come from an earlier attempt of this step.
 */
export async function createUnlessExists(kind: CreatableResourceKind, call: () => Promise<unknown>): Promise<CreateOutcome> {
  try {
    await call();
    return 'created';
  } catch (error) {
    if (isAlreadyExistsError(error, kind)) return 'existing';
    throw error;
  }
}

export function describeEndpointIfExists(client: SageMakerClient, endpointName: string): Promise<DescribeEndpointOutput | undefined> {
  return unlessNotFound('endpoint', () => client.send(new DescribeEndpointCommand({ EndpointName: endpointName })));
}

export function describeEndpointConfigIfExists(
  client: SageMakerClient,
  endpointConfigName: string,
): Promise<DescribeEndpointConfigOutput | undefined> {
  return unlessNotFound('endpoint configuration', () =>
    client.send(new DescribeEndpointConfigCommand({ EndpointConfigName: endpointConfigName })),
  );
}

export function describeModelIfExists(client: SageMakerClient, modelName: string): Promise<DescribeModelOutput | undefined> {
  return unlessNotFound('model', () => client.send(new DescribeModelCommand({ ModelName: modelName })));
}

export function describeModelPackageIfExists(
  client: SageMakerClient,
  modelPackageArn: string,
): Promise<DescribeModelPackageOutput | undefined> {
  return unlessNotFound('model package', () =>
    client.send(new DescribeModelPackageCommand({ ModelPackageName: modelPackageArn })),
  );
}

export function createModelUnlessExists(client: SageMakerClient, input: CreateModelInput): Promise<CreateOutcome> {
  return createUnlessExists('model', () => client.send(new CreateModelCommand(input)));
}

export function createEndpointConfigUnlessExists(client: SageMakerClient, input: CreateEndpointConfigInput): Promise<CreateOutcome> {
  return createUnlessExists('endpoint configuration', () => client.send(new CreateEndpointConfigCommand(input)));
}

export interface ConfigVisibilityRetryOptions {
  /** Calls in all, the first included. @default 4 */
  readonly attempts?: number;
  /** Pause between two calls. @default 2000 */
  readonly delayMs?: number;
}

/**
 * Runs a CreateEndpoint/UpdateEndpoint that names a config created moments ago. SageMaker is eventually
 * consistent there: the call may not see the new config yet ("Could not find endpoint configuration"), so
 * that one error is retried a few times, a few seconds apart. Every other error propagates at once.
 */
export async function whenEndpointConfigVisible<T>(call: () => Promise<T>, options: ConfigVisibilityRetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 4;
  const delayMs = options.delayMs ?? 2000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= attempts || !isNotFoundError(error, 'endpoint configuration')) throw error;
      await sleep(delayMs);
    }
  }
}

/** What a step that asked for an endpoint update returns: check-endpoint waits for exactly this. */
export interface EndpointUpdateRequest {
  /** The endpoint config the endpoint was asked to run. */
  readonly requestedEndpointConfigName: string;
  /** When it was asked (ISO 8601): the update's timeout counts from here. */
  readonly requestedAt: string;
}

/**
 * Whether an earlier attempt of this step already asked the endpoint to move from `fromConfigName` to
 * `toConfigName` (Step Functions retries steps): the endpoint is on, or updating to, `toConfigName`; or it
 * is Updating from `fromConfigName` without saying where to (a second UpdateEndpoint would be refused
 * anyway, and check-endpoint sees where the update really ends).
 */
export function endpointUpdateAlreadyRequested(endpoint: DescribeEndpointOutput, fromConfigName: string, toConfigName: string): boolean {
  const pendingConfigName = endpoint.PendingDeploymentSummary?.EndpointConfigName;
  if (endpoint.EndpointConfigName === toConfigName || pendingConfigName === toConfigName) return true;
  return endpoint.EndpointStatus === 'Updating' && endpoint.EndpointConfigName === fromConfigName && pendingConfigName === undefined;
}

/**
 * UpdateEndpoint to a config created moments ago (retried while it is not visible yet). If the endpoint
 * became busy between the caller's DescribeEndpoint and this call, that was an earlier attempt's update:
 * it counts as requested. Returns whether this call made the request.
 */
export async function requestEndpointUpdate(
  client: SageMakerClient,
  endpointName: string,
  endpointConfigName: string,
  visibility?: ConfigVisibilityRetryOptions,
): Promise<'requested' | 'already-requested'> {
  try {
    await whenEndpointConfigVisible(
      () => client.send(new UpdateEndpointCommand({ EndpointName: endpointName, EndpointConfigName: endpointConfigName })),
      visibility,
    );
    return 'requested';
  } catch (error) {
    if (!isEndpointBusyError(error)) throw error;
    return 'already-requested';
  }
}

/** Every tag of a resource (ListTags pages through them). */
export async function listAllTags(client: SageMakerClient, resourceArn: string): Promise<Tag[]> {
  const tags: Tag[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(new ListTagsCommand({ ResourceArn: resourceArn, NextToken: nextToken }));
    tags.push(...(page.Tags ?? []));
    nextToken = page.NextToken;
  } while (nextToken);
  return tags;
}

export function tagValue(tags: readonly Tag[], key: string): string | undefined {
  return tags.find((tag) => tag.Key === key)?.Value;
}

/** Statuses in which SageMaker is still working on the endpoint (another mutation would be refused). */
export const ENDPOINT_IN_PROGRESS_STATUSES: ReadonlySet<string> = new Set(['Creating', 'Updating', 'SystemUpdating', 'RollingBack']);
/** Statuses from which the endpoint does not come back by itself (on Failed only DeleteEndpoint is allowed). */
export const ENDPOINT_BROKEN_STATUSES: ReadonlySet<string> = new Set(['Failed', 'UpdateRollbackFailed', 'OutOfService']);

export function findVariant<V extends { readonly VariantName?: string }>(
  variants: readonly V[] | undefined,
  variantName: string,
): V | undefined {
  return variants?.find((variant) => variant.VariantName === variantName);
}

/** The variants of an endpoint for a message: `v6-0a1b2c3d (weight 1), v7-3f9a2c1b (weight 0)`. */
export function variantList(endpoint: DescribeEndpointOutput): string {
  const variants = endpoint.ProductionVariants ?? [];
  if (variants.length === 0) return 'no variants';
  return variants.map((v) => `${v.VariantName} (weight ${v.CurrentWeight ?? v.DesiredWeight ?? '?'})`).join(', ');
}

/** ` (FailureReason: ...)` when SageMaker gave one, else nothing. */
export function failureReasonSuffix(endpoint: Pick<DescribeEndpointOutput, 'FailureReason'>): string {
  return endpoint.FailureReason ? ` (FailureReason: ${endpoint.FailureReason})` : '';
}

/** One line for messages: `endpoint E is Updating on config C (FailureReason: ...)`. */
export function endpointState(endpoint: DescribeEndpointOutput): string {
  return `endpoint ${endpoint.EndpointName} is ${endpoint.EndpointStatus} on config ${endpoint.EndpointConfigName}${failureReasonSuffix(endpoint)}`;
}

/**
 * Errors the simulation answers with. Each one is rendered on the wire the way AWS renders it (error
 * name in the `x-amzn-errortype` header and in the JSON body; for S3, `<Error><Code>` in an XML body),
 * so the real SDK clients turn it into an exception with the same `name`, `message` and
 * `$metadata.httpStatusCode` that AWS would produce.
 */

/** The services the simulation answers for. */
export type SimService =
  | 'sagemaker'
  | 'sagemaker-runtime'
  | 's3'
  | 'cloudwatch'
  | 'application-autoscaling'
  | 'dynamodb'
  | 'sfn'
  | 'servicequotas'
  | 'events';

/**
 * HTTP status AWS uses for each error name the simulation can produce. Names not listed answer 400
 * (a client error), except names that read as server faults (`Internal...`), which answer 500.
 */
const HTTP_STATUS_BY_ERROR: Readonly<Record<string, number>> = {
  ValidationException: 400,
  SerializationException: 400,
  UnknownOperationException: 400,
  ThrottlingException: 400,
  ResourceLimitExceeded: 400,
  ResourceNotFound: 400,
  ResourceInUse: 400,
  AccessDeniedException: 400,
  ConflictException: 409,
  InternalFailure: 500,
  ServiceUnavailable: 503,
  InternalDependencyException: 530,
  // SageMaker Runtime (restJson1): status codes from the service model's httpError traits.
  ValidationError: 400,
  ModelError: 424,
  ModelNotReadyException: 429,
  // S3 (restXml): status codes from S3's error code list.
  NoSuchKey: 404,
  NoSuchBucket: 404,
  NotFound: 404,
  InvalidRange: 416,
  AccessDenied: 403,
  SlowDown: 503,
  InternalError: 500,
  NotImplemented: 501,
  PreconditionFailed: 412,
  MissingContentLength: 411,
  // CloudWatch (awsJson1_0, query-compatible): status codes from the service model's awsQueryError traits.
  // CloudWatch's ResourceNotFound and ResourceNotFoundException are 404s, unlike SageMaker's ResourceNotFound
  // and DynamoDB's ResourceNotFoundException (400): cloudwatch.ts passes their status explicitly.
  InvalidParameterValue: 400,
  InvalidParameterCombination: 400,
  MissingParameter: 400,
  LimitExceeded: 400,
  LimitExceededException: 400,
  InvalidNextToken: 400,
  InvalidFormat: 400,
  InternalServiceError: 500,
  ConcurrentModificationException: 429,
  // DynamoDB, Step Functions and Application Auto Scaling (awsJson1_0/1_1): statuses from the service models.
  ConditionalCheckFailedException: 400,
  ProvisionedThroughputExceededException: 400,
  RequestLimitExceeded: 400,
  ItemCollectionSizeLimitExceededException: 400,
  TransactionConflictException: 400,
  InternalServerError: 500,
  InvalidToken: 400,
  InvalidOutput: 400,
  TaskDoesNotExist: 400,
  TaskTimedOut: 400,
  ObjectNotFoundException: 400,
  FailedResourceAccessException: 400,
  ConcurrentUpdateException: 500,
  InternalServiceException: 500,
};

/**
 * Statuses that differ from one service to another for the same error name (DynamoDB's
 * ResourceNotFoundException is a 400, CloudWatch's and Application Auto Scaling's a 404).
 */
const HTTP_STATUS_BY_SERVICE_ERROR: Readonly<Partial<Record<SimService, Readonly<Record<string, number>>>>> = {
  cloudwatch: { ResourceNotFound: 404, ResourceNotFoundException: 404 },
  'application-autoscaling': { ResourceNotFoundException: 404 },
  dynamodb: { ResourceNotFoundException: 400 },
  // Service Quotas' API reference gives 400 for its client errors (whatever the model's httpError traits say).
  servicequotas: {
    NoSuchResourceException: 400,
    IllegalArgumentException: 400,
    InvalidPaginationTokenException: 400,
    TooManyRequestsException: 400,
    ServiceException: 500,
  },
};

/** The HTTP status AWS answers `errorName` with (from `service`, when given and it differs there). */
export function httpStatusFor(errorName: string, service?: SimService): number {
  const known = (service !== undefined ? HTTP_STATUS_BY_SERVICE_ERROR[service]?.[errorName] : undefined) ?? HTTP_STATUS_BY_ERROR[errorName];
  if (known !== undefined) return known;
  return /^Internal/.test(errorName) ? 500 : 400;
}

/** A plausible message for an error injected by a fault rule that did not give one. */
export function defaultMessageFor(errorName: string): string {
  switch (errorName) {
    case 'ThrottlingException':
      return 'Rate exceeded';
    case 'ResourceLimitExceeded':
      return 'The account-level service limit for this resource type has been exceeded.';
    case 'InternalFailure':
      return 'An internal error occurred. Try again.';
    case 'ServiceUnavailable':
      return 'The service is unavailable. Try again later.';
    case 'ModelNotReadyException':
      return 'Model is not ready to serve inference requests. Try again later.';
    case 'ModelError':
      return 'Received server error (500) from primary with message "Internal Server Error".';
    case 'NoSuchKey':
      return 'The specified key does not exist.';
    case 'NoSuchBucket':
      return 'The specified bucket does not exist';
    case 'InvalidRange':
      return 'The requested range is not satisfiable';
    case 'AccessDenied':
      return 'Access Denied';
    case 'SlowDown':
      return 'Please reduce your request rate.';
    case 'InternalError':
      return 'We encountered an internal error. Please try again.';
    case 'ProvisionedThroughputExceededException':
      return 'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.';
    case 'InternalServerError':
      return 'Internal server error';
    case 'ConcurrentUpdateException':
      return 'You already have a pending update to an Auto Scaling resource.';
    default:
      return `${errorName} (simulated)`;
  }
}

/** An error answered by a simulated AWS service. */
export class AwsServiceError extends Error {
  /** The HTTP status of the error response. */
  readonly httpStatus: number;
  /**
   * Extra members of the JSON error body, besides the message (e.g. ModelError's OriginalStatusCode).
   * @default {}
   */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    /** The AWS error name (`ValidationException`, `ModelError`, ...): the SDK exception's `name`. */
    readonly code: string,
    message: string,
    options: {
      readonly httpStatus?: number;
      readonly details?: Record<string, unknown>;
      /** The answering service, for the names whose status depends on it. */
      readonly service?: SimService;
    } = {},
  ) {
    super(message);
    this.name = code;
    this.httpStatus = options.httpStatus ?? httpStatusFor(code, options.service);
    this.details = options.details ?? {};
  }
}

/** SageMaker's catch-all client error. */
export function validationException(message: string): AwsServiceError {
  return new AwsServiceError('ValidationException', message);
}

/** SageMaker Runtime's client error (note: `ValidationError`, not `ValidationException`). */
export function runtimeValidationError(message: string): AwsServiceError {
  return new AwsServiceError('ValidationError', message);
}

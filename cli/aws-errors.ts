/**
 * AWS failures in plain words. The SDK's messages name exceptions; an operator needs to know what went wrong
 * and what to do about it (which ARN, which region, which permission, how to sign in).
 */
import { OperationError } from './command';

/** What was being attempted when a call failed. */
export interface AwsCallTarget {
  /** The IAM action of the call, e.g. `states:SendTaskSuccess`. */
  readonly action: string;
  /** The execution the command works on. */
  readonly executionArn: string;
  /** The region the client sends to, once known. @default - not resolved yet (not named in messages) */
  readonly region?: string;
}

const TOO_LATE = new Set(['TaskTimedOut', 'TaskDoesNotExist']);
const EXPIRED_CREDENTIALS = new Set(['ExpiredToken', 'ExpiredTokenException', 'RequestExpired']);
const REJECTED_CREDENTIALS = new Set(['UnrecognizedClientException', 'InvalidClientTokenId', 'InvalidSignatureException', 'SignatureDoesNotMatch']);
const THROTTLED = new Set(['ThrottlingException', 'TooManyRequestsException', 'KmsThrottlingException']);
const NETWORK_CODES = new Set(['ENOTFOUND', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN', 'EHOSTUNREACH']);

/** One sentence (or two) saying what failed and what to do. */
export function explainAwsError(error: unknown, target: AwsCallTarget): string {
  const { name, message, code } = errorParts(error);
  const arn = target.executionArn;
  if (name === 'ExecutionDoesNotExist') return `no execution ${arn} (check the ARN and --region)`;
  if (name === 'InvalidArn') return `${arn} is not an execution ARN Step Functions accepts: ${message} (check the ARN and --region)`;
  if (TOO_LATE.has(name)) {
    return (
      `the decision came too late: the approval timed out (${name}: ${message}). The timeout rejected the rollout, ` +
      'or someone else decided first; this decision was not recorded'
    );
  }
  if (name === 'InvalidToken') return `Step Functions did not accept the task token (${message}): the execution has probably moved on; run the command again to see its state`;
  if (name === 'InvalidOutput') return `Step Functions refused the decision (${message})`;
  if (name === 'AccessDeniedException' || name === 'AccessDenied') {
    return `permission missing: your AWS identity may not call ${target.action} (AWS said: ${message}). Ask for ${target.action} on the rollout state machine and its executions`;
  }
  if (name === 'KmsAccessDeniedException') {
    return `the execution's data is encrypted with a KMS key your identity may not use for ${target.action} (AWS said: ${message}). Ask for kms:Decrypt on that key`;
  }
  if (name === 'CredentialsProviderError') {
    return (
      `no AWS credentials found (${message}). Provide them the usual way: \`aws sso login --profile NAME\` then ` +
      'AWS_PROFILE=NAME, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), or run where a role is attached'
    );
  }
  if (name === 'TokenProviderError') return `your SSO session cannot be used (${message}): run \`aws sso login\` and try again`;
  if (EXPIRED_CREDENTIALS.has(name)) return `your AWS credentials have expired (${message}): refresh them (e.g. \`aws sso login\`) and try again`;
  if (REJECTED_CREDENTIALS.has(name)) return `AWS did not accept your credentials (${name}: ${message}): check AWS_PROFILE or your access keys`;
  if (message === 'Region is missing') return 'no AWS region configured: pass --region (the one in the execution ARN), or set AWS_REGION or a region in your AWS profile';
  if (THROTTLED.has(name)) return `AWS throttled ${target.action} even after retries (${message}): wait a moment and run the command again`;
  if (code && NETWORK_CODES.has(code)) {
    return `cannot reach ${serviceOf(target.action)}${target.region ? ` in ${target.region}` : ''} (${code}: ${message}): check the network, a proxy, or --region`;
  }
  return `${target.action} failed: ${name}: ${message}`;
}

/** The service an IAM action belongs to, as people name it (`dynamodb:Query` → DynamoDB). */
function serviceOf(action: string): string {
  const prefix = action.split(':')[0] ?? '';
  return { states: 'Step Functions', dynamodb: 'DynamoDB', sagemaker: 'SageMaker', events: 'EventBridge', cloudwatch: 'CloudWatch' }[prefix] ?? prefix;
}

/** Runs one AWS call; a failure becomes an OperationError in plain words. */
export async function awsCall<T>(target: AwsCallTarget, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new OperationError(explainAwsError(error, target));
  }
}

function errorParts(error: unknown): { name: string; message: string; code?: string } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, message: error.message, code: typeof code === 'string' ? code : undefined };
  }
  return { name: 'Error', message: String(error) };
}

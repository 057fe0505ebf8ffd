/**
 * Everything a command touches outside its arguments: output, AWS clients, the clock and the OS user. The
 * real process gets `defaultCliContext()`; tests pass their own, with mocked clients and captured output.
 */
import { userInfo } from 'node:os';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { SFNClient } from '@aws-sdk/client-sfn';

/** Builds the AWS clients a command needs. `region` undefined means the default chain's region. */
export interface AwsClientFactory {
  stepFunctions(region: string | undefined): SFNClient;
}

export interface CliContext {
  /** Writes one line of the command's output (stdout). */
  readonly out: (line: string) => void;
  /** Writes one line of diagnostics: errors and usage after a mistake (stderr). */
  readonly err: (line: string) => void;
  readonly aws: AwsClientFactory;
  /** The time a decision is recorded with. */
  readonly now: () => Date;
  /** Who is at the keyboard, the default of `--by`; undefined when the OS cannot tell. */
  readonly userName: () => string | undefined;
}

/** Shows up in CloudTrail's userAgent, so decisions sent by this tool can be told from console clicks. */
const USER_AGENT = 'sagemaker-blue-green-operator';

/**
 * Clients with the default credential chain and region (AWS_PROFILE, AWS_REGION, SSO, ...), one per region.
 * Only `region` is overridden, and only when the operator gave --region.
 */
export function defaultAwsClientFactory(): AwsClientFactory {
  const stepFunctionsClients = new Map<string, SFNClient>();
  return {
    stepFunctions(region) {
      const key = region ?? '(default)';
      let client = stepFunctionsClients.get(key);
      if (!client) {
        client = new SFNClient({ ...(region ? { region } : {}), customUserAgent: USER_AGENT });
        stepFunctionsClients.set(key, client);
      }
      return client;
    },
  };
}

/** The clients `rollback` needs besides Step Functions. */
export interface RollbackClients {
  readonly sageMaker: SageMakerClient;
  readonly sageMakerRuntime: SageMakerRuntimeClient;
  readonly s3: S3Client;
  readonly dynamoDb: DynamoDBClient;
}

/**
 * Clients that share `stepFunctions`'s region and credentials (the factory's client for --region): one command
 * talks to one region as one identity, and resolves (or prompts for) credentials once.
 */
export function clientsBeside(stepFunctions: SFNClient): RollbackClients {
  const shared = { region: stepFunctions.config.region, credentials: stepFunctions.config.credentials, customUserAgent: USER_AGENT };
  return {
    sageMaker: new SageMakerClient(shared),
    sageMakerRuntime: new SageMakerRuntimeClient(shared),
    s3: new S3Client(shared),
    dynamoDb: new DynamoDBClient(shared),
  };
}

/**
 * The OS login name. `os.userInfo()` throws where the user has no passwd entry (some containers), so the
 * usual environment variables are the fallback.
 */
export function osUserName(): string | undefined {
  let name: string | undefined;
  try {
    name = userInfo().username;
  } catch {
    name = process.env.USER ?? process.env.LOGNAME ?? process.env.USERNAME;
  }
  return name?.trim() || undefined;
}

export function defaultCliContext(): CliContext {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    aws: defaultAwsClientFactory(),
    now: () => new Date(),
    userName: osUserName,
  };
}

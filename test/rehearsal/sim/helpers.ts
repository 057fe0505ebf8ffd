/**
 * Shared by the simulation tests: a fake clock (the rehearsal's virtual time), SDK clients (SageMaker,
 * SageMaker Runtime, S3) wired to a SimulatedAws exactly as the rehearsal wires them, and a driver that
 * fires timers until a call settles.
 */
import { install } from '@sinonjs/fake-timers';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { S3Client } from '@aws-sdk/client-s3';
import { SimulatedAws, type SimulationOptions } from '../../../rehearsal/sim/world';

export type FakeClock = ReturnType<typeof install>;

// Captured before any fake clock is installed: waiting for real work (the SDK's first call reads its
// user-agent metadata asynchronously) needs real time.
const realSetTimeout = globalThis.setTimeout;
const realPause = (ms: number): Promise<void> => new Promise((resolve) => realSetTimeout(resolve, ms));

export const START_MS = Date.UTC(2026, 0, 1, 9, 0, 0);
export const ROLE_ARN = 'arn:aws:iam::123456789012:role/sagemaker-execution';
export const BLUE_DATA = 's3://models/fraud/v1/model.tar.gz';
export const GREEN_DATA = 's3://models/fraud/v2/model.tar.gz';
export const IMAGE = '763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.3-gpu';

export function installClock(): FakeClock {
  return install({ now: START_MS, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
}

/** Fires timers one at a time until `work` settles (as the rehearsal drives its virtual clock). */
export async function drive<T>(clock: FakeClock, work: Promise<T>): Promise<T> {
  let settled = false;
  const observed = work.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  while (!settled) {
    if (clock.countTimers() === 0) {
      // No virtual timer pending: the call may still be doing real asynchronous work. Give it up to 2 s.
      for (let waited = 0; waited < 2000 && !settled && clock.countTimers() === 0; waited += 5) await realPause(5);
      if (!settled && clock.countTimers() === 0) throw new Error('deadlock: nothing left to fire and the call is still pending');
      continue;
    }
    await clock.nextAsync();
  }
  await observed;
  return work;
}

/** The rejection of `work` (fails the test if it resolves). */
export async function driveError(clock: FakeClock, work: Promise<unknown>): Promise<Error & Record<string, any>> {
  try {
    await drive(clock, work);
  } catch (error) {
    return error as Error & Record<string, any>;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

export interface Harness {
  readonly aws: SimulatedAws;
  readonly sagemaker: SageMakerClient;
  readonly runtime: SageMakerRuntimeClient;
  /** Virtual-hosted-style addressing, the SDK's default. */
  readonly s3: S3Client;
}

export function harness(options: SimulationOptions = {}): Harness {
  const aws = new SimulatedAws(options);
  const config = { region: aws.region, credentials: aws.credentials, requestHandler: aws.requestHandler };
  return { aws, sagemaker: new SageMakerClient(config), runtime: new SageMakerRuntimeClient(config), s3: new S3Client(config) };
}

/** Advances virtual time by `seconds`, firing every timer due on the way. */
export async function advanceSeconds(clock: FakeClock, seconds: number): Promise<void> {
  await clock.tickAsync(seconds * 1000);
}

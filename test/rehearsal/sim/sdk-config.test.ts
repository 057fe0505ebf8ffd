/**
 * The SDK's first call, isolated from the host's AWS config files, involves no real IO: a driver that only
 * fires virtual timers (as the rehearsal's does) sees it answered after the API latency, before any later
 * timer. Its own file: the SDK caches config file reads per module registry, and jest gives each test file
 * a fresh one, so this is the first SDK call of the registry.
 */
import { DescribeModelPackageCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { isolateSdkFromHostConfig, SimulatedAws } from '../../../rehearsal/sim/world';
import { installClock, START_MS } from './helpers';

test('a fresh client answers its first call on virtual time alone', async () => {
  const restore = isolateSdkFromHostConfig();
  const clock = installClock();
  try {
    const aws = new SimulatedAws();
    const arn = aws.sagemaker.putModelPackage({ groupName: 'fraud-detector', version: 1, approvalStatus: 'Approved', containers: [{ image: 'image:1' }] });
    const client = new SageMakerClient({ region: aws.region, credentials: aws.credentials, requestHandler: aws.requestHandler });
    const events: string[] = [];
    setTimeout(() => events.push(`timeout at ${Date.now() - START_MS}`), 60_000);
    const call = client.send(new DescribeModelPackageCommand({ ModelPackageName: arn })).then((output) => {
      events.push(`answered at ${Date.now() - START_MS}: ${output.ModelPackageArn}`);
    });
    // Fire timers one at a time, with no real waiting in between.
    while (events.length < 2) await clock.nextAsync();
    await call;
    expect(events).toEqual([`answered at 40: ${arn}`, 'timeout at 60000']);
  } finally {
    clock.uninstall();
    restore();
  }
});

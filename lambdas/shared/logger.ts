import { Logger } from '@aws-lambda-powertools/logger';
import { SYSTEM_NAME } from './tags';

/** One logger per function; handlers add the rollout's keys (execution, endpoint, package) per invocation. */
export function createLogger(step: string): Logger {
  return new Logger({ serviceName: SYSTEM_NAME, persistentKeys: { step } });
}

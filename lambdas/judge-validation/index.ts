/** "Judge green": evaluates the validation gates over the stored samples, writes the report, returns the verdict. */
import { s3Client } from '../shared/aws-clients';
import { lifecycleSinkFromEnvironment } from '../shared/lifecycle-sink';
import { createLogger, logFailures, planLogKeys, setInvocationLogKeys } from '../shared/logger';
import { parseInput } from '../shared/plan';
import { judgeValidation, JudgeValidationInputSchema, STEP, type JudgeValidationResult } from './judge';

const logger = createLogger(STEP);

export const handler = async (event: unknown): Promise<JudgeValidationResult> => {
  setInvocationLogKeys(logger, {});
  return logFailures(logger, async () => {
    const input = parseInput(JudgeValidationInputSchema, event, STEP);
    setInvocationLogKeys(logger, planLogKeys(input.plan));
    const result = await judgeValidation(input, { s3: s3Client(), logger, lifecycle: lifecycleSinkFromEnvironment(logger, input.plan.endpointName) });
    logger.info('Green judged', { verdict: result.verdict, gates: result.gates, reportUri: result.reportUri });
    return result;
  });
};

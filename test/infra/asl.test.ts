import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import aslValidator from 'asl-validator';
import { REPO_ROOT } from './helpers';

const STATE_MACHINES_DIR = path.join(REPO_ROOT, 'state-machines');
const aslFiles = readdirSync(STATE_MACHINES_DIR).filter((file) => file.endsWith('.asl.json'));
// The validator annotates the definition it receives, so each check gets a fresh parse.
const load = (file: string): Record<string, any> => JSON.parse(readFileSync(path.join(STATE_MACHINES_DIR, file), 'utf8'));

test('there is at least the rollout definition', () => {
  expect(aslFiles).toContain('rollout.asl.json');
});

test.each(aslFiles)('%s is valid ASL (schema, transitions, paths, terminal states)', (file) => {
  const result = aslValidator(load(file), { checkPaths: true, checkArn: true });
  expect(result.errorsText('\n')).toBe('');
  expect(result.isValid).toBe(true);
});

test.each(aslFiles)('%s is written in JSONPath, which the local rehearsal runs faithfully', (file) => {
  const definition = load(file);
  expect(definition.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
  for (const state of Object.values(definition.States as Record<string, { QueryLanguage?: string }>)) {
    expect(state.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
  }
});

test('the validator catches a transition to a missing state (control for the tests above)', () => {
  const definition = load('rollout.asl.json');
  definition.States['Keep plan'].Next = 'No such state';
  const result = aslValidator(definition, { checkPaths: true, checkArn: true });
  expect(result.isValid).toBe(false);
  expect(result.errorsText('\n')).toContain('No such state');
});

describe('every rollout Lambda knows which rollout it works for (its log lines and traces carry it)', () => {
  const rollout = load('rollout.asl.json');
  const lambdaTasks: [string, Record<string, unknown>][] = [];
  const collect = (states: Record<string, any>): void => {
    for (const [name, state] of Object.entries(states)) {
      if (state.ItemProcessor) collect(state.ItemProcessor.States);
      if (state.Type === 'Task' && state.Parameters?.Payload) lambdaTasks.push([name, state.Parameters.Payload]);
    }
  };
  collect(rollout.States);

  test.each(lambdaTasks)('%s passes the plan, the whole state or the execution ARN', (_, payload) => {
    expect(Object.keys(payload).some((key) => ['plan.$', 'state.$', 'executionArn.$'].includes(key))).toBe(true);
  });

  test('the endpoint polls pass the rollout identity explicitly', () => {
    const polls = lambdaTasks.filter(([, payload]) => 'expectedEndpointConfigName.$' in payload);
    expect(polls.map(([name]) => name)).toEqual(['Check green provisioning', 'Check 100% shift', 'Check blue removal']);
    for (const [, payload] of polls) {
      expect(payload).toMatchObject({ 'executionArn.$': '$$.Execution.Id', 'deploymentId.$': '$.plan.deploymentId', 'modelPackageArn.$': '$.plan.modelPackage.arn' });
    }
  });
});

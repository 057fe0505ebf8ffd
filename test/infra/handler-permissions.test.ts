/**
 * The rehearsal's simulated AWS does not enforce IAM, so a handler calling an API its role lacks would
 * only fail in AWS, with AccessDenied. This reads the handlers' sources (their own files and the
 * lambdas/shared helpers they import) for SDK commands and checks that each one is granted to that step.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ROLLOUT_STEPS } from '../../lambdas/steps';
import { grantsOfStep, REPO_ROOT, synthStack } from './helpers';

const LAMBDAS_DIR = path.join(REPO_ROOT, 'lambdas');
const SHARED_DIR = path.join(LAMBDAS_DIR, 'shared');
const COMMAND = /\b([A-Z][A-Za-z0-9]+)Command\b/g;

const sourcesIn = (directory: string) =>
  readdirSync(directory)
    .filter((file) => file.endsWith('.ts'))
    .map((file) => readFileSync(path.join(directory, file), 'utf8'));

/** For each exported function of lambdas/shared, the SDK commands its body sends (up to the next export). */
function sharedHelperCommands(): Map<string, Set<string>> {
  const helpers = new Map<string, Set<string>>();
  for (const source of sourcesIn(SHARED_DIR)) {
    const chunks = source.split(/^export /m).slice(1);
    for (const chunk of chunks) {
      const name = /^(?:async\s+)?function\s+(\w+)|^const\s+(\w+)/.exec(chunk);
      if (!name) continue;
      const commands = new Set([...chunk.matchAll(COMMAND)].map((m) => m[1]).filter((c) => !chunk.includes(`type ${c}Command`)));
      helpers.set(name[1] ?? name[2], commands);
    }
  }
  return helpers;
}

/** The SDK operations a step's handler sends, directly or through a lambdas/shared helper. */
function operationsOf(dir: string, helpers: Map<string, Set<string>>): Set<string> {
  const operations = new Set<string>();
  for (const source of sourcesIn(path.join(LAMBDAS_DIR, dir))) {
    for (const match of source.matchAll(/new ([A-Z][A-Za-z0-9]+)Command\(/g)) operations.add(match[1]);
    for (const [helper, commands] of helpers) {
      if (new RegExp(`\\b${helper}\\(`).test(source)) commands.forEach((c) => operations.add(c));
    }
  }
  return operations;
}

const { template } = synthStack();
const helpers = sharedHelperCommands();

test('every step has a handler at lambdas/<dir>/index.ts', () => {
  const missing = ROLLOUT_STEPS.filter((step) => !existsSync(path.join(LAMBDAS_DIR, step.dir, 'index.ts')));
  expect(missing.map((s) => s.dir)).toEqual([]);
});

test.each(ROLLOUT_STEPS.map((s) => s.dir))('%s is granted every SageMaker operation its handler sends', (dir) => {
  const operations = operationsOf(dir, helpers);
  expect(operations.size).toBeGreaterThan(0);
  const granted = new Set(grantsOfStep(template, dir).map((g) => g.action));
  // SageMaker Runtime's InvokeEndpoint is authorized as sagemaker:InvokeEndpoint too.
  const missing = [...operations].map((operation) => `sagemaker:${operation}`).filter((action) => !granted.has(action));
  expect(missing).toEqual([]);
});

test('a stack whose handlers are missing fails synth, listing every missing entry', () => {
  const empty = mkdtempSync(path.join(tmpdir(), 'no-handlers-'));
  expect(() => synthStack({ handlersDirectory: empty })).toThrow(
    new RegExp(`Missing rollout handlers .*${path.join(empty, 'resolve-rollout', 'index.ts')}.*${path.join(empty, 'delete-resources', 'index.ts')}`),
  );
});

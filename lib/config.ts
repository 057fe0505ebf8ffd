/**
 * Reads the deployment-target configuration at synth time. The same zod schema validates it here and in
 * the Lambdas (lambdas/shared/config.ts), so a target that synthesizes is a target the handlers accept.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Node } from 'constructs';
import { parseRolloutConfig, type RolloutConfig } from '../lambdas/shared/config';
import { ConfigurationError } from '../lambdas/shared/errors';

/** Context key holding the path of a JSON file with the configuration (`-c blueGreenConfigFile=targets.json`). */
export const CONFIG_FILE_CONTEXT_KEY = 'blueGreenConfigFile';
/** Context key holding the configuration itself: an object in cdk.json, or a JSON string given with `-c`. */
export const CONFIG_CONTEXT_KEY = 'blueGreen';

/**
 * The validated configuration, from (in order of precedence) the file named by context
 * `blueGreenConfigFile`, else context `blueGreen`. Throws a ConfigurationError naming the source, the target
 * and the field when the configuration is missing, unreadable or invalid, so `cdk synth` fails with it.
 *
 * @param node the node whose context is read (usually `app.node`)
 * @param cwd directory a relative `blueGreenConfigFile` is resolved against @default process.cwd()
 */
export function loadRolloutConfig(node: Node, cwd: string = process.cwd()): RolloutConfig {
  const configFile: unknown = node.tryGetContext(CONFIG_FILE_CONTEXT_KEY);
  if (configFile !== undefined && configFile !== null && configFile !== '') {
    if (typeof configFile !== 'string') {
      throw new ConfigurationError(`Context ${CONFIG_FILE_CONTEXT_KEY} must be a file path, got ${typeof configFile}`);
    }
    const filePath = path.resolve(cwd, configFile);
    return parseRolloutConfig(readJsonFile(filePath), `configuration in ${filePath} (context ${CONFIG_FILE_CONTEXT_KEY})`);
  }

  const inline: unknown = node.tryGetContext(CONFIG_CONTEXT_KEY);
  if (inline === undefined || inline === null || inline === '') {
    throw new ConfigurationError(
      `No deployment targets configured: set context "${CONFIG_CONTEXT_KEY}" in cdk.json ` +
        `or pass a file with "npx cdk synth -c ${CONFIG_FILE_CONTEXT_KEY}=targets.json"`,
    );
  }
  // `-c blueGreen='{"targets":[...]}'` arrives as a string; cdk.json gives the object itself.
  const raw = typeof inline === 'string' ? parseJson(inline, `context ${CONFIG_CONTEXT_KEY}`) : inline;
  return parseRolloutConfig(raw, `configuration in context ${CONFIG_CONTEXT_KEY}`);
}

function readJsonFile(filePath: string): unknown {
  let text: string;
  try {
    text = readFileSync(filePath, 'utf8');
  } catch (error) {
    throw new ConfigurationError(
      `Cannot read the configuration file ${filePath} (context ${CONFIG_FILE_CONTEXT_KEY}): ${(error as Error).message}`,
    );
  }
  return parseJson(text, `configuration file ${filePath}`);
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigurationError(`The ${what} is not valid JSON: ${(error as Error).message}`);
  }
}

#!/usr/bin/env node
/**
 * `npx sagemaker-blue-green <command> [options]`: the operator CLI (bin/operator.ts) for a clone after `npm ci`,
 * where npm exec runs the root package's own `bin`. Plain CommonJS so Node runs it as it is; tsx's API compiles
 * the TypeScript on the fly, as `npm run operator` does with the tsx CLI. Arguments and the exit code pass
 * through unchanged: bin/operator.ts reads process.argv and sets process.exitCode in this same process.
 */
'use strict';

const path = require('node:path');

// tsx reads the tsconfig of the working directory unless told otherwise; npx may run from any folder of the clone.
process.env.TSX_TSCONFIG_PATH ??= path.join(__dirname, '..', 'tsconfig.json');

async function main() {
  // require() of .ts files (the operator's static imports)...
  require('tsx/cjs/api').register();
  // ...and import() of them (the rehearse command loads the rehearsal on demand). The ESM build of this API,
  // not its CommonJS one: in tsx 4.23 the latter registers its loader by a path that does not exist on Node 20.
  const { register } = await import('tsx/esm/api');
  register();
  require('./operator.ts');
}

main().catch((error) => {
  process.stderr.write(`sagemaker-blue-green: cannot start the operator CLI: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});

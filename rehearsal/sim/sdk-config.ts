/**
 * Keeps the SDK clients of a rehearsal from reading the host's AWS configuration files.
 *
 * On its first call, every SDK client resolves settings it was not given (retry mode, max attempts, FIPS,
 * user-agent app id, ...) from the environment and then from ~/.aws/config and ~/.aws/credentials, read
 * with real asynchronous file IO. Under a fake clock that IO is invisible: a driver that fires the next
 * virtual timer when nothing else is pending fires it while the file read is still in flight (a Lambda's
 * 60 s task timeout before its first API call is even sent). And a developer's profile (`max_attempts`,
 * `retry_mode`) would change what the rehearsal does. Serving both files as empty, from memory, makes the
 * clients' setup a chain of resolved promises and the rehearsal independent of the machine it runs on.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { externalDataInterceptor } from '@smithy/core/config';

/** Every path the SDK may resolve the shared config and credentials files to on this machine. */
function sharedFilePaths(): string[] {
  const homes = new Set<string>([homedir()]);
  if (process.env.HOME) homes.add(process.env.HOME);
  if (process.env.USERPROFILE) homes.add(process.env.USERPROFILE);
  const paths = new Set<string>();
  for (const home of homes) {
    paths.add(join(home, '.aws', 'config'));
    paths.add(join(home, '.aws', 'credentials'));
    for (const variable of ['AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE']) {
      const configured = process.env[variable];
      if (configured) paths.add(configured.startsWith('~/') ? join(home, configured.slice(2)) : configured);
    }
  }
  return [...paths];
}

/**
 * Makes the SDK see empty shared config and credentials files (process-wide, for clients created before
 * or after). Call it before the first SDK call of a rehearsal. Returns a function that restores file reads.
 */
export function isolateSdkFromHostConfig(): () => void {
  const record = externalDataInterceptor.getFileRecord() as Record<string, unknown>;
  const added = sharedFilePaths().filter((path) => record[path] === undefined);
  for (const path of added) externalDataInterceptor.interceptFile(path, '');
  return () => {
    for (const path of added) delete record[path];
  };
}

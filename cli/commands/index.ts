/**
 * Every operator command, in the order `operator --help` lists them. A new command is a module in this
 * folder and one entry here.
 */
import type { Command } from '../command';
import { abortCommand } from './abort';
import { approveCommand } from './approve';
import { deployCommand } from './deploy';
import { historyCommand } from './history';
import { rehearseCommand } from './rehearse';
import { rejectCommand } from './reject';
import { rollbackCommand } from './rollback';
import { statusCommand } from './status';
import { traceCommand } from './trace';

export const COMMANDS: readonly Command[] = [approveCommand, rejectCommand, rollbackCommand, abortCommand, traceCommand, statusCommand, historyCommand, deployCommand, rehearseCommand];

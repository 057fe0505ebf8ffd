/**
 * Every operator command, in the order `operator --help` lists them. A new command is a module in this
 * folder and one entry here.
 */
import type { Command } from '../command';
import { approveCommand } from './approve';
import { rejectCommand } from './reject';
import { rollbackCommand } from './rollback';

export const COMMANDS: readonly Command[] = [approveCommand, rejectCommand, rollbackCommand];

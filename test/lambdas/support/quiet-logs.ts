/**
 * Imported first by every handler test: handlers create their Powertools logger when their module loads,
 * and it reads its level from the environment then. SILENT keeps test output readable.
 */
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
export {};

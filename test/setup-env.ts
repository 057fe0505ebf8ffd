// Handlers log every step; in tests that is noise unless asked for (POWERTOOLS_LOG_LEVEL=INFO npm test).
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';

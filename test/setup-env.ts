// Handlers log every step; in tests that is noise unless asked for (POWERTOOLS_LOG_LEVEL=INFO npm test).
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
// Handlers publish EMF metrics to stdout in Lambda; tests that check them set a sink (configureMetricsSink).
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';

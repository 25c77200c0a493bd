#!/usr/bin/env node
// The `outpost` command: the compiled entry in dist/ (`npm run build`; scripts/bootstrap rebuilds it when stale).
try {
  await import('../dist/main.js');
} catch (error) {
  const missing = error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/main.js');
  if (!missing) throw error;
  console.error('outpost: dist/ is not built; run `npm run build` (or scripts/bootstrap) in the repository');
  process.exitCode = 1;
}

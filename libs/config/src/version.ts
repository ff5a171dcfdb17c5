/**
 * The release of this code, as workers report it in their heartbeats. Kept
 * equal to package.json's version by version.spec.ts (the bundles in the
 * images carry no package.json of the workspace to read it from).
 */
export const APP_VERSION = '0.1.0';

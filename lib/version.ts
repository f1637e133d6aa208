/** The package version; a test keeps it equal to package.json's (bundles carry no package.json). */
export const VERSION = '0.1.0';

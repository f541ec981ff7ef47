export * from './env-name.js';
export * from './provider.js';
export * from './environment.js';
export * from './names.js';
export * from './errors.js';
export * from './redact.js';
export * from './operation.js';
export * from './net.js';

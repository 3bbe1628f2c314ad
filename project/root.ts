import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root (this file lives in project/): where the model, corpus/ and mutation/patches/ are. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

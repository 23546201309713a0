/** mcsec client SDK: what an MC client links. */
export { checkKeyMaterial, type KeyCheckResult, type KeyVerdict } from './key-check.js';

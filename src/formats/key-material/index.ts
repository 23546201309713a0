/** The key-material JSON read by `mcsec keys check`. */
export { decodeKeyMaterial, type KeyMaterial, type KeyMaterialUser } from './key-material.js';

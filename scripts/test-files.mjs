// Every test file, listed explicitly (Node 20's runner does not discover .ts files).
export const testFiles = [
  'test/errors/errors.test.ts',
  'test/util/bytes.test.ts',
  'test/crypto/fp.test.ts',
  'test/crypto/kdf.test.ts',
  'test/crypto/uid.test.ts',
  'test/crypto/key-derivation.test.ts',
  'test/crypto/key-id.test.ts',
  'test/crypto/eccsi.test.ts',
  'test/crypto/sakke.test.ts',
  'test/crypto/sakke-curve.test.ts',
  'test/formats/key-material.test.ts',
  'test/formats/mikey.test.ts',
  'test/interop/wolfssl.test.ts',
  'test/cli/cli.test.ts',
  'test/cli/decode-mikey.test.ts',
  'test/meta/project.test.ts',
];

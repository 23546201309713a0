/**
 * Cross-checks with wolfSSL (Debian libwolfssl-dev, through our C harness wolf-harness.c), both
 * ways: keys, RSKs and SSK/PVT pairs made by either side validate on the other; SAKKE data made
 * by either side decapsulates on the other (and, RFC 6508 encapsulation being deterministic, is
 * byte-identical); ECCSI signatures from either side verify on the other; a tampered byte fails
 * on both. A missing peer fails this file (buildWolfHarness throws), it never skips.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  EccsiVerifier,
  SakkePublicKey,
  eccsiKpakOf,
  encapsulateSsv,
  extractRsk,
  generateEccsiKmsKey,
  generateEccsiPair,
  generateSakkeKmsKey,
  prepareRsk,
  sakkePublicKeyOf,
  signEccsi,
  validateEccsiPair,
  validateRsk,
  verifyEccsi,
} from '../../src/crypto/index.js';
import { fromHex, toHex } from '../../src/util/index.js';
import { McsecError } from '../../src/errors/index.js';
import { WolfHarness } from './wolf-harness.js';

const rnd = (n: number): Uint8Array => new Uint8Array(randomBytes(n));
const flip = (b: Uint8Array, i: number): Uint8Array => {
  const c = b.slice();
  c[i] = (c[i] as number) ^ 0x01;
  return c;
};

let wolf: WolfHarness;
before(() => {
  wolf = WolfHarness.start();
});
after(async () => {
  await wolf.close();
});

async function one(op: string, ...args: (Uint8Array | string | number)[]): Promise<string> {
  const out = await wolf.call(op, ...args);
  assert.ok(out[0] !== undefined, `${op} answered nothing`);
  return out[0];
}

describe('SAKKE with wolfSSL (RFC 6508, RFC 6509 parameter set 1)', () => {
  test('a wolfSSL KMS key: same Z from z, RSKs agree byte for byte and validate both ways', async () => {
    const [z, zT] = (await wolf.call('sakke-kms')).map((h) => fromHex(h)) as [Uint8Array, Uint8Array];
    assert.equal(toHex(sakkePublicKeyOf(z)), toHex(zT));
    const kms = new SakkePublicKey(zT);
    for (let i = 0; i < 3; i++) {
      const id = rnd(32);
      const wolfRsk = fromHex(await one('sakke-rsk', z, zT, id));
      const ourRsk = extractRsk(z, id);
      assert.equal(toHex(ourRsk), toHex(wolfRsk), 'K_b = [(b+z)^-1]P is unique');
      validateRsk(kms, id, wolfRsk);
      prepareRsk(kms, id, wolfRsk);
      assert.equal(await one('sakke-validate', zT, id, ourRsk), '1');
    }
  });

  test('an mcsec KMS key: wolfSSL validates our RSK and rejects one for another identity', async () => {
    const key = generateSakkeKmsKey();
    const id = rnd(32);
    const rsk = extractRsk(key.z, id);
    assert.equal(await one('sakke-validate', key.zT, id, rsk), '1');
    assert.equal(await one('sakke-validate', key.zT, rnd(32), rsk), '0');
    assert.equal(toHex(fromHex(await one('sakke-rsk', key.z, key.zT, id))), toHex(rsk));
  });

  test('encapsulation: wolfSSL and mcsec produce the same R || H and each decapsulates the other', async () => {
    const key = generateSakkeKmsKey();
    const kms = new SakkePublicKey(key.zT);
    const id = rnd(32);
    const rsk = extractRsk(key.z, id);
    const me = prepareRsk(kms, id, rsk);
    for (let i = 0; i < 3; i++) {
      const ssv = rnd(16);
      const ours = encapsulateSsv(kms, id, ssv);
      const theirs = fromHex(await one('sakke-encap', key.zT, id, ssv));
      assert.equal(toHex(ours), toHex(theirs));
      assert.equal(toHex(me.decapsulate(theirs)), toHex(ssv));
      assert.equal(await one('sakke-decap', key.zT, id, rsk, ours), toHex(ssv));
    }
  });

  test('a tampered byte of R || H fails on both sides', async () => {
    const key = generateSakkeKmsKey();
    const kms = new SakkePublicKey(key.zT);
    const id = rnd(32);
    const rsk = extractRsk(key.z, id);
    const me = prepareRsk(kms, id, rsk);
    const data = encapsulateSsv(kms, id, rnd(16));
    for (const at of [1, 100, 200, 257, 272]) {
      const bad = flip(data, at);
      // A changed coordinate leaves the curve (or, rarely, lands on another point); a changed H
      // decapsulates to a wrong SSV whose R does not re-derive: both refused, typed.
      const want = at < 257 ? /^ERR_(NOT_ON_CURVE|DECRYPT|NOT_IN_SUBGROUP)$/ : /^ERR_DECRYPT$/;
      assert.throws(() => me.decapsulate(bad), (e: unknown) => e instanceof McsecError && want.test(e.code), `offset ${at}`);
      await assert.rejects(wolf.call('sakke-decap', key.zT, id, rsk, bad), /^Error: wolfssl sakke-decap: decap$/);
    }
  });
});

describe('ECCSI with wolfSSL (RFC 6507, P-256, SHA-256)', () => {
  test('a wolfSSL KMS key: same KPAK; wolfSSL pairs validate in mcsec and ours in wolfSSL', async () => {
    const [ksak, kpak] = (await wolf.call('eccsi-kms')).map((h) => fromHex(h)) as [Uint8Array, Uint8Array];
    assert.equal(toHex(eccsiKpakOf(ksak)), toHex(kpak));
    const id = rnd(32);
    const [ssk, pvt] = (await wolf.call('eccsi-pair', ksak, kpak, id)).map((h) => fromHex(h)) as [Uint8Array, Uint8Array];
    validateEccsiPair(kpak, id, { ssk, pvt });
    const ours = generateEccsiPair({ ksak, kpak }, id);
    assert.equal(await one('eccsi-validate', kpak, id, ours.ssk, ours.pvt), '1');
    assert.equal(await one('eccsi-validate', kpak, id, flip(ours.ssk, 31), ours.pvt), '0');
    assert.throws(() => validateEccsiPair(kpak, id, { ssk: flip(ssk, 31), pvt }), { code: 'ERR_INVALID_KEY' });
  });

  test('signatures verify both ways; a tampered byte fails on both', async () => {
    const kmsKey = generateEccsiKmsKey();
    const id = rnd(32);
    const pair = generateEccsiPair(kmsKey, id);
    const verifier = new EccsiVerifier();
    for (const len of [0, 1, 32, 500]) {
      const msg = rnd(len);
      const ours = signEccsi(msg, { ...pair, kpak: kmsKey.kpak, id });
      assert.equal(await one('eccsi-verify', kmsKey.kpak, id, msg, ours), '1');
      const theirs = fromHex(await one('eccsi-sign', '-', kmsKey.kpak, id, pair.ssk, pair.pvt, msg));
      verifyEccsi(msg, theirs, kmsKey.kpak, id);
      verifier.verify(msg, theirs, kmsKey.kpak, id);
      verifier.verify(msg, theirs, kmsKey.kpak, id);
      for (const at of [0, 40, 100]) {
        const bad = flip(theirs, at);
        assert.equal(await one('eccsi-verify', kmsKey.kpak, id, msg, bad), '0');
        // r and s changes fail the signature; a PVT change leaves P-256 (or fails the signature).
        const want = at < 64 ? /^ERR_SIGNATURE$/ : /^ERR_(NOT_ON_CURVE|SIGNATURE)$/;
        assert.throws(() => verifier.verify(msg, bad, kmsKey.kpak, id), (e: unknown) => e instanceof McsecError && want.test(e.code), `offset ${at}`);
      }
    }
  });
});

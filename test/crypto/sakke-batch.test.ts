/**
 * SAKKE batch encapsulation (crypto/sakke-batch.ts, RFC 6508 §6.2.1): the RFC 6508 Appendix A
 * encapsulation byte for byte among others in one batch, equality with `encapsulateSsv` for many
 * identifiers and window widths (encapsulation is deterministic), decapsulation by the
 * recipient, and the refusals (the sums of table terms are tested in sakke-wasm.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SakkePublicKey, encapsulateSsv, prepareRsk } from '../../src/crypto/index.js';
import { SakkeBatchEncapsulator } from '../../src/crypto/sakke-batch.js';
import { onlyCase } from '../fixtures/vectors.js';

const v = onlyCase('rfc6508/appendix-a.json');
const rnd = (n: number): Uint8Array => new Uint8Array(randomBytes(n));
const vectorKms = new SakkePublicKey(v.hex('Z'));
// Narrow tables keep the file quick; the widths change the work, never the result.
const batch = new SakkeBatchEncapsulator(vectorKms, { pointWindow: 5, gtWindow: 5 });

test('RFC 6508 Appendix A: the example encapsulation byte for byte, in a batch with other identifiers', () => {
  const ids = [rnd(32), v.hex('b'), rnd(7)];
  const out = batch.encapsulate(ids, v.hex('ssv'));
  assert.deepEqual(out[1], v.hex('encapsulatedData'));
  assert.deepEqual(out[0], encapsulateSsv(vectorKms, ids[0] as Uint8Array, v.hex('ssv')));
  assert.deepEqual(out[2], encapsulateSsv(vectorKms, ids[2] as Uint8Array, v.hex('ssv')));
});

test('equal to encapsulateSsv for every identifier, for several window widths; the recipient decapsulates', () => {
  const ssv = rnd(16);
  const ids = [...Array.from({ length: 5 }, () => rnd(32)), v.hex('b')];
  const expected = ids.map((id) => encapsulateSsv(vectorKms, id, ssv));
  for (const [pointWindow, gtWindow] of [[4, 4], [6, 7]] as const) {
    assert.deepEqual(new SakkeBatchEncapsulator(vectorKms, { pointWindow, gtWindow }).encapsulate(ids, ssv), expected, `windows ${pointWindow}/${gtWindow}`);
  }
  assert.deepEqual(prepareRsk(vectorKms, v.hex('b'), v.hex('rsk')).decapsulate(expected[5] as Uint8Array), ssv);
  assert.deepEqual(batch.encapsulate([], ssv), []);
});

test('refusals: an SSV of the wrong length, an empty or oversized identifier, a bad window width', () => {
  assert.throws(() => batch.encapsulate([rnd(32)], rnd(15)), { name: 'FormatError', code: 'ERR_BAD_LENGTH', field: 'sakke.ssv' });
  assert.throws(() => batch.encapsulate([new Uint8Array(0)], rnd(16)), { name: 'FormatError', code: 'ERR_BAD_LENGTH', field: 'sakke.identifier' });
  assert.throws(() => batch.encapsulate([rnd(257)], rnd(16)), { name: 'FormatError', code: 'ERR_BAD_LENGTH', field: 'sakke.identifier' });
  assert.throws(() => new SakkeBatchEncapsulator(vectorKms, { pointWindow: 13 }), { name: 'FormatError', code: 'ERR_BAD_VALUE', field: 'sakkeBatch.pointWindow' });
  assert.throws(() => new SakkeBatchEncapsulator(vectorKms, { gtWindow: 1 }), { name: 'FormatError', code: 'ERR_BAD_VALUE', field: 'sakkeBatch.gtWindow' });
});

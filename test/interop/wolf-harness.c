/*
 * mcsec's wolfSSL peer: a line protocol over stdin/stdout that drives Debian's libwolfssl
 * (ECCSI, RFC 6507; SAKKE, RFC 6508 with RFC 6509 parameter set 1) for the interop tests
 * (test/interop/wolfssl.test.ts) and the benchmark (bench/main.ts). Built by wolf-harness.ts.
 *
 * Request: one line, "<op> <arg> ...", byte values as hex ("-" for empty).
 * Reply:   one line, "ok <value> ..." or "err <reason>".
 * Formats: KSAK, SSK 32 octets; KPAK, PVT 0x04||x||y (65); signature r||s||PVT (129);
 *          z 128 octets; Z, RSK, R 0x04||x||y (257); encapsulated data R||H (273).
 * Ops: eccsi-kms | eccsi-pair ksak kpak id | eccsi-validate kpak id ssk pvt |
 *      eccsi-sign ksak|- kpak id ssk pvt msg | eccsi-verify kpak id msg sig |
 *      sakke-kms | sakke-rsk z Z id | sakke-validate Z id rsk | sakke-encap Z id ssv |
 *      sakke-decap Z id rsk data | bench <op-name> <iterations> | quit
 * bench replies "ok <median-ms> <ms of each call>...".
 */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/sakke.h>
#include <wolfssl/wolfcrypt/eccsi.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAXB 8192
#define MAXARGS 8

static WC_RNG rng;
static int quiet_tables = 0;

typedef struct { byte b[MAXB]; word32 n; } buf_t;

static int unhex(const char* s, buf_t* out) {
  size_t l = strlen(s);
  out->n = 0;
  if (strcmp(s, "-") == 0) return 0;
  if (l % 2 != 0 || l / 2 > MAXB) return -1;
  for (size_t i = 0; i < l; i += 2) {
    unsigned v;
    if (sscanf(s + i, "%2x", &v) != 1) return -1;
    out->b[out->n++] = (byte)v;
  }
  return 0;
}

static void puthex(const byte* b, word32 n) {
  static const char* d = "0123456789abcdef";
  putchar(' ');
  for (word32 i = 0; i < n; i++) { putchar(d[b[i] >> 4]); putchar(d[b[i] & 15]); }
}

static void err(const char* why) { printf("err %s\n", why); }

/* ---------------------------------------------------------------- SAKKE */

static int sakke_init(SakkeKey* k) { return wc_InitSakkeKey_ex(k, 128, ECC_SAKKE_1, NULL, INVALID_DEVID); }

/* Loads z (may be empty) and Z (0x04||x||y or x||y). */
static int sakke_load(SakkeKey* k, const buf_t* z, const buf_t* Z) {
  if (sakke_init(k) != 0) return -1;
  if (z != NULL && z->n > 0 && wc_ImportSakkePrivateKey(k, z->b, z->n) != 0) return -1;
  if (Z != NULL && Z->n > 0) {
    const byte* p = Z->b; word32 n = Z->n;
    if (n == 257 && p[0] == 0x04) { p++; n--; }
    if (wc_ImportSakkePublicKey(k, p, n, 0) != 0) return -1;
  }
  return 0;
}

static int rsk_decode(SakkeKey* k, const buf_t* in, ecc_point* rsk) {
  const byte* p = in->b; word32 n = in->n;
  if (n == 257 && p[0] == 0x04) { p++; n--; }
  return wc_DecodeSakkeRsk(k, p, n, rsk);
}

static int rsk_encode(SakkeKey* k, ecc_point* rsk, byte* out, word32* n) {
  *n = 257;
  return wc_EncodeSakkeRsk(k, rsk, out, n, 0);
}

static int sakke_encap(SakkeKey* k, const byte* id, word32 idn, const byte* ssv, byte* out) {
  byte h[16];
  word16 rl = 257;
  memcpy(h, ssv, 16);
  if (wc_SetSakkeIdentity(k, id, (word16)idn) != 0) return -1;
  if (wc_MakeSakkeEncapsulatedSSV(k, WC_HASH_TYPE_SHA256, h, 16, out, &rl) != 0 || rl != 257) return -1;
  memcpy(out + 257, h, 16);
  return 0;
}

static int sakke_decap(SakkeKey* k, const byte* id, word32 idn, const byte* data, word32 n, byte* ssv) {
  if (n != 273) return -1;
  memcpy(ssv, data + 257, 16);
  if (wc_SetSakkeIdentity(k, id, (word16)idn) != 0) return -1;
  return wc_DeriveSakkeSSV(k, WC_HASH_TYPE_SHA256, ssv, 16, data, 257);
}

/* ---------------------------------------------------------------- ECCSI */

static int eccsi_load(EccsiKey* k, const buf_t* ksak, const buf_t* kpak) {
  const byte* p = kpak != NULL ? kpak->b : NULL;
  word32 n = kpak != NULL ? kpak->n : 0;
  if (wc_InitEccsiKey(k, NULL, INVALID_DEVID) != 0) return -1;
  if (n == 65 && p[0] == 0x04) { p++; n--; }
  if (ksak != NULL && ksak->n > 0) {
    /* Whole key: KSAK || KPAK (x || y), the form wc_ExportEccsiKey writes. */
    byte all[32 + 64];
    if (ksak->n != 32 || n != 64) return -1;
    memcpy(all, ksak->b, 32);
    memcpy(all + 32, p, 64);
    return wc_ImportEccsiKey(k, all, sizeof all);
  }
  if (n > 0 && wc_ImportEccsiPublicKey(k, p, n, 0) != 0) return -1;
  return 0;
}

static int pvt_decode(EccsiKey* k, const buf_t* in, ecc_point* pvt) {
  const byte* p = in->b; word32 n = in->n;
  if (n == 65 && p[0] == 0x04) { p++; n--; }
  return wc_DecodeEccsiPvt(k, p, n, pvt);
}

/* Sets the signer's hash HS and pair on k. */
static int eccsi_set_signer(EccsiKey* k, const byte* id, word32 idn, mp_int* ssk, ecc_point* pvt) {
  byte hs[WC_MAX_DIGEST_SIZE]; byte hl = sizeof hs;
  if (wc_HashEccsiId(k, WC_HASH_TYPE_SHA256, id, idn, pvt, hs, &hl) != 0) return -1;
  if (wc_SetEccsiHash(k, hs, hl) != 0) return -1;
  return wc_SetEccsiPair(k, ssk, pvt);
}

/* Verifies; 1 valid, 0 not, -1 error (malformed input counts as 0 where wolfSSL says so). */
static int eccsi_verify(EccsiKey* k, const byte* id, word32 idn, const byte* msg, word32 mn, const byte* sig, word32 sn) {
  ecc_point* pvt = wc_ecc_new_point();
  byte hs[WC_MAX_DIGEST_SIZE]; byte hl = sizeof hs;
  int ok = 0;
  if (pvt == NULL) return -1;
  if (sn != 129 || wc_DecodeEccsiPvtFromSig(k, sig, sn, pvt) != 0) { wc_ecc_del_point(pvt); return 0; }
  if (wc_HashEccsiId(k, WC_HASH_TYPE_SHA256, id, idn, pvt, hs, &hl) != 0 || wc_SetEccsiHash(k, hs, hl) != 0) {
    wc_ecc_del_point(pvt); return 0;
  }
  if (wc_VerifyEccsiHash(k, WC_HASH_TYPE_SHA256, msg, mn, sig, sn, &ok) != 0) ok = 0;
  wc_ecc_del_point(pvt);
  return ok ? 1 : 0;
}

/* ---------------------------------------------------------------- bench */

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}
static int cmpd(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}
static void rnd(byte* b, word32 n) { wc_RNG_GenerateBlock(&rng, b, n); }

static int bench(const char* op, int iters) {
  if (iters < 1 || iters > 100000) return -1;
  double* t = calloc((size_t)iters, sizeof(double));
  int total = iters + 2, ok = 0;
  SakkeKey sk; EccsiKey ek;
  byte id[32], ssv[16], data[273], out[273];
  ecc_point* rsk = wc_ecc_new_point();
  ecc_point* pvt = wc_ecc_new_point();
  mp_int ssk; mp_init(&ssk);
  byte* table = NULL; word32 tlen = 0;
  byte msg[200]; rnd(msg, sizeof msg);
  if (t == NULL || rsk == NULL || pvt == NULL) return -1;
  if (sakke_init(&sk) != 0 || wc_MakeSakkeKey(&sk, &rng) != 0) return -1;
  if (wc_InitEccsiKey(&ek, NULL, INVALID_DEVID) != 0 || wc_MakeEccsiKey(&ek, &rng) != 0) return -1;
  rnd(id, 32);

  if (strcmp(op, "sakke.encapsulate_cached") == 0) {
    if (wc_SetSakkeIdentity(&sk, id, 32) != 0 || wc_MakeSakkePointI(&sk, id, 32) != 0) return -1;
    if (wc_GenerateSakkePointITable(&sk, NULL, &tlen) != LENGTH_ONLY_E) tlen = 0;
    if (tlen > 0) table = malloc(tlen);
    if (table == NULL || wc_GenerateSakkePointITable(&sk, table, &tlen) != 0 || wc_SetSakkePointITable(&sk, table, tlen) != 0) {
      /* This wolfSSL build has no tables (length query gives 0): the point I stays cached. */
      if (!quiet_tables) fprintf(stderr, "wolf-harness: no point-I table in this wolfSSL build; using the cached point I\n");
    }
  }
  if (strcmp(op, "sakke.decapsulate") == 0) {
    if (wc_MakeSakkeRsk(&sk, id, 32, rsk) != 0) return -1;
    tlen = 0;
    if (wc_GenerateSakkeRskTable(&sk, rsk, NULL, &tlen) != LENGTH_ONLY_E) tlen = 0;
    if (tlen > 0) table = malloc(tlen);
    if (table == NULL || wc_GenerateSakkeRskTable(&sk, rsk, table, &tlen) != 0 || wc_SetSakkeRsk(&sk, rsk, table, tlen) != 0) {
      if (!quiet_tables) fprintf(stderr, "wolf-harness: no RSK table in this wolfSSL build; decapsulating without it\n");
      if (wc_SetSakkeRsk(&sk, rsk, NULL, 0) != 0) return -1;
    }
  }
  if (strncmp(op, "eccsi.", 6) == 0 && strcmp(op, "eccsi.pair_generate") != 0) {
    if (wc_MakeEccsiPair(&ek, &rng, WC_HASH_TYPE_SHA256, id, 32, &ssk, pvt) != 0) return -1;
    if (eccsi_set_signer(&ek, id, 32, &ssk, pvt) != 0) return -1;
  }
  byte sig[129]; word32 sl = sizeof sig;
  if (strcmp(op, "eccsi.verify") == 0) {
    if (wc_SignEccsiHash(&ek, &rng, WC_HASH_TYPE_SHA256, msg, sizeof msg, sig, &sl) != 0) return -1;
  }

  for (int i = 0; i < total; i++) {
    double t0 = 0, t1 = 0;
    int r = 0, valid = 0;
    if (strcmp(op, "sakke.rsk_extract") == 0) {
      rnd(id, 32);
      t0 = now_ms(); r = wc_MakeSakkeRsk(&sk, id, 32, rsk); t1 = now_ms();
    } else if (strcmp(op, "sakke.rsk_validate") == 0) {
      /* wolfSSL 5.5.4 leaves key state behind after wc_ValidateSakkeRsk (a second validation with
         the same key object fails), so each validation gets a freshly loaded public key. */
      SakkeKey vk; buf_t Zb; Zb.n = 257;
      rnd(id, 32);
      r = wc_MakeSakkeRsk(&sk, id, 32, rsk);
      r |= wc_ExportSakkePublicKey(&sk, Zb.b, &Zb.n, 0);
      r |= sakke_load(&vk, NULL, &Zb);
      t0 = now_ms(); r |= wc_ValidateSakkeRsk(&vk, id, 32, rsk, &valid); t1 = now_ms();
      wc_FreeSakkeKey(&vk);
      if (!valid) r = -1;
    } else if (strcmp(op, "sakke.encapsulate_new_peer") == 0) {
      rnd(id, 32); rnd(ssv, 16);
      t0 = now_ms(); r = sakke_encap(&sk, id, 32, ssv, data); t1 = now_ms();
    } else if (strcmp(op, "sakke.encapsulate_cached") == 0) {
      rnd(ssv, 16);
      byte h[16]; word16 rl = 257; memcpy(h, ssv, 16);
      t0 = now_ms(); r = wc_MakeSakkeEncapsulatedSSV(&sk, WC_HASH_TYPE_SHA256, h, 16, data, &rl); t1 = now_ms();
    } else if (strcmp(op, "sakke.decapsulate") == 0) {
      rnd(ssv, 16);
      if (sakke_encap(&sk, id, 32, ssv, data) != 0) return -1;
      /* sakke_encap set the identity to id, the RSK's own. */
      memcpy(out, data + 257, 16);
      t0 = now_ms(); r = wc_DeriveSakkeSSV(&sk, WC_HASH_TYPE_SHA256, out, 16, data, 257); t1 = now_ms();
      if (r == 0 && memcmp(out, ssv, 16) != 0) r = -1;
    } else if (strcmp(op, "eccsi.pair_generate") == 0) {
      rnd(id, 32);
      t0 = now_ms(); r = wc_MakeEccsiPair(&ek, &rng, WC_HASH_TYPE_SHA256, id, 32, &ssk, pvt); t1 = now_ms();
    } else if (strcmp(op, "eccsi.pair_validate") == 0) {
      rnd(id, 32);
      r = wc_MakeEccsiPair(&ek, &rng, WC_HASH_TYPE_SHA256, id, 32, &ssk, pvt);
      t0 = now_ms(); r |= wc_ValidateEccsiPair(&ek, WC_HASH_TYPE_SHA256, id, 32, &ssk, pvt, &valid); t1 = now_ms();
      if (!valid) r = -1;
    } else if (strcmp(op, "eccsi.sign") == 0) {
      sl = sizeof sig;
      t0 = now_ms(); r = wc_SignEccsiHash(&ek, &rng, WC_HASH_TYPE_SHA256, msg, sizeof msg, sig, &sl); t1 = now_ms();
    } else if (strcmp(op, "eccsi.verify") == 0) {
      /* A signer seen before: HS already set on the key (wc_SetEccsiHash), PVT from the signature. */
      t0 = now_ms(); r = wc_VerifyEccsiHash(&ek, WC_HASH_TYPE_SHA256, msg, sizeof msg, sig, sl, &valid); t1 = now_ms();
      if (!valid) r = -1;
    } else if (strcmp(op, "eccsi.verify_first") == 0) {
      /* A new signer each time: HS computed from the PVT in the signature. */
      rnd(id, 32);
      if (wc_MakeEccsiPair(&ek, &rng, WC_HASH_TYPE_SHA256, id, 32, &ssk, pvt) != 0) return -1;
      if (eccsi_set_signer(&ek, id, 32, &ssk, pvt) != 0) return -1;
      sl = sizeof sig;
      if (wc_SignEccsiHash(&ek, &rng, WC_HASH_TYPE_SHA256, msg, sizeof msg, sig, &sl) != 0) return -1;
      t0 = now_ms(); valid = eccsi_verify(&ek, id, 32, msg, sizeof msg, sig, sl); t1 = now_ms();
      if (valid != 1) r = -1;
    } else {
      free(t); return -2;
    }
    if (r != 0) { fprintf(stderr, "wolf-harness: %s failed at %d (%d, valid %d)\n", op, i, r, valid); free(t); return -1; }
    if (i >= 2) t[i - 2] = t1 - t0;
  }
  /* Reply: the median, then every sample in the order measured. */
  {
    double* sorted = malloc((size_t)iters * sizeof(double));
    if (sorted == NULL) { free(t); return -1; }
    memcpy(sorted, t, (size_t)iters * sizeof(double));
    qsort(sorted, (size_t)iters, sizeof(double), cmpd);
    printf("ok %.6f", sorted[iters / 2]);
    for (int i = 0; i < iters; i++) printf(" %.6f", t[i]);
    putchar('\n');
    free(sorted);
  }
  ok = 1;
  free(t); free(table);
  wc_ecc_del_point(rsk); wc_ecc_del_point(pvt); mp_clear(&ssk);
  wc_FreeSakkeKey(&sk); wc_FreeEccsiKey(&ek);
  return ok ? 0 : -1;
}

/* ---------------------------------------------------------------- dispatch */

static void handle(char** a, int n) {
  static buf_t v[MAXARGS];
  const char* op = a[0];
  for (int i = 1; i < n; i++) {
    if (strcmp(op, "bench") == 0) break;
    if (unhex(a[i], &v[i]) != 0) { err("bad-hex"); return; }
  }
  if (strcmp(op, "sakke-kms") == 0) {
    SakkeKey k; byte z[128], Z[257]; word32 zl = sizeof z, Zl = sizeof Z;
    if (sakke_init(&k) != 0 || wc_MakeSakkeKey(&k, &rng) != 0 || wc_ExportSakkePrivateKey(&k, z, &zl) != 0 ||
        wc_ExportSakkePublicKey(&k, Z, &Zl, 0) != 0) { err("make"); return; }
    printf("ok"); puthex(z, zl); puthex(Z, Zl); putchar('\n');
    wc_FreeSakkeKey(&k);
  } else if (strcmp(op, "sakke-rsk") == 0 && n == 4) {
    SakkeKey k; ecc_point* rsk = wc_ecc_new_point(); byte out[257]; word32 ol;
    if (sakke_load(&k, &v[1], &v[2]) != 0 || wc_MakeSakkeRsk(&k, v[3].b, (word16)v[3].n, rsk) != 0 ||
        rsk_encode(&k, rsk, out, &ol) != 0) err("rsk");
    else { printf("ok"); puthex(out, ol); putchar('\n'); }
    wc_ecc_del_point(rsk); wc_FreeSakkeKey(&k);
  } else if (strcmp(op, "sakke-validate") == 0 && n == 4) {
    SakkeKey k; ecc_point* rsk = wc_ecc_new_point(); int valid = 0;
    if (sakke_load(&k, NULL, &v[1]) != 0) err("key");
    else {
      if (rsk_decode(&k, &v[3], rsk) != 0 || wc_ValidateSakkeRsk(&k, v[2].b, (word16)v[2].n, rsk, &valid) != 0) valid = 0;
      printf("ok %d\n", valid ? 1 : 0);
    }
    wc_ecc_del_point(rsk); wc_FreeSakkeKey(&k);
  } else if (strcmp(op, "sakke-encap") == 0 && n == 4) {
    SakkeKey k; byte out[273];
    if (v[3].n != 16 || sakke_load(&k, NULL, &v[1]) != 0 || sakke_encap(&k, v[2].b, v[2].n, v[3].b, out) != 0) err("encap");
    else { printf("ok"); puthex(out, 273); putchar('\n'); }
    wc_FreeSakkeKey(&k);
  } else if (strcmp(op, "sakke-decap") == 0 && n == 5) {
    SakkeKey k; ecc_point* rsk = wc_ecc_new_point(); byte ssv[16];
    if (sakke_load(&k, NULL, &v[1]) != 0 || rsk_decode(&k, &v[3], rsk) != 0 || wc_SetSakkeRsk(&k, rsk, NULL, 0) != 0 ||
        sakke_decap(&k, v[2].b, v[2].n, v[4].b, v[4].n, ssv) != 0) err("decap");
    else { printf("ok"); puthex(ssv, 16); putchar('\n'); }
    wc_ecc_del_point(rsk); wc_FreeSakkeKey(&k);
  } else if (strcmp(op, "eccsi-kms") == 0) {
    EccsiKey k; byte ksak[32], kpak[65]; word32 sl = sizeof ksak, pl = sizeof kpak;
    if (wc_InitEccsiKey(&k, NULL, INVALID_DEVID) != 0 || wc_MakeEccsiKey(&k, &rng) != 0 ||
        wc_ExportEccsiPrivateKey(&k, ksak, &sl) != 0 || wc_ExportEccsiPublicKey(&k, kpak, &pl, 0) != 0) { err("make"); return; }
    printf("ok"); puthex(ksak, sl); puthex(kpak, pl); putchar('\n');
    wc_FreeEccsiKey(&k);
  } else if (strcmp(op, "eccsi-pair") == 0 && n == 4) {
    EccsiKey k; mp_int ssk; ecc_point* pvt = wc_ecc_new_point(); byte s[32], p[65]; word32 sl = sizeof s, pl = sizeof p;
    mp_init(&ssk);
    if (eccsi_load(&k, &v[1], &v[2]) != 0 || wc_MakeEccsiPair(&k, &rng, WC_HASH_TYPE_SHA256, v[3].b, v[3].n, &ssk, pvt) != 0 ||
        wc_EncodeEccsiSsk(&k, &ssk, s, &sl) != 0 || wc_EncodeEccsiPvt(&k, pvt, p, &pl, 0) != 0) err("pair");
    else { printf("ok"); puthex(s, sl); puthex(p, pl); putchar('\n'); }
    mp_clear(&ssk); wc_ecc_del_point(pvt); wc_FreeEccsiKey(&k);
  } else if (strcmp(op, "eccsi-validate") == 0 && n == 5) {
    EccsiKey k; mp_int ssk; ecc_point* pvt = wc_ecc_new_point(); int valid = 0;
    mp_init(&ssk);
    if (eccsi_load(&k, NULL, &v[1]) != 0) err("key");
    else {
      if (wc_DecodeEccsiSsk(&k, v[3].b, v[3].n, &ssk) != 0 || pvt_decode(&k, &v[4], pvt) != 0 ||
          wc_ValidateEccsiPair(&k, WC_HASH_TYPE_SHA256, v[2].b, v[2].n, &ssk, pvt, &valid) != 0) valid = 0;
      printf("ok %d\n", valid ? 1 : 0);
    }
    mp_clear(&ssk); wc_ecc_del_point(pvt); wc_FreeEccsiKey(&k);
  } else if (strcmp(op, "eccsi-sign") == 0 && n == 7) {
    EccsiKey k; mp_int ssk; ecc_point* pvt = wc_ecc_new_point(); byte sig[129]; word32 sl = sizeof sig;
    mp_init(&ssk);
    if (eccsi_load(&k, &v[1], &v[2]) != 0 || wc_DecodeEccsiSsk(&k, v[4].b, v[4].n, &ssk) != 0 || pvt_decode(&k, &v[5], pvt) != 0 ||
        eccsi_set_signer(&k, v[3].b, v[3].n, &ssk, pvt) != 0 ||
        wc_SignEccsiHash(&k, &rng, WC_HASH_TYPE_SHA256, v[6].b, v[6].n, sig, &sl) != 0) err("sign");
    else { printf("ok"); puthex(sig, sl); putchar('\n'); }
    mp_clear(&ssk); wc_ecc_del_point(pvt); wc_FreeEccsiKey(&k);
  } else if (strcmp(op, "eccsi-verify") == 0 && n == 5) {
    EccsiKey k;
    if (eccsi_load(&k, NULL, &v[1]) != 0) err("key");
    else printf("ok %d\n", eccsi_verify(&k, v[2].b, v[2].n, v[3].b, v[3].n, v[4].b, v[4].n) == 1 ? 1 : 0);
    wc_FreeEccsiKey(&k);
  } else if (strcmp(op, "bench") == 0 && n == 3) {
    int r = bench(a[1], atoi(a[2]));
    if (r == -2) err("unknown-bench-op");
    else if (r != 0) err("bench-failed");
  } else {
    err("unknown-op-or-arity");
  }
}

int main(void) {
  char* line = NULL; size_t cap = 0; ssize_t len;
  if (wc_InitRng(&rng) != 0) return 1;
  while ((len = getline(&line, &cap, stdin)) > 0) {
    char* a[MAXARGS + 1]; int n = 0;
    for (char* tok = strtok(line, " \t\r\n"); tok != NULL && n <= MAXARGS; tok = strtok(NULL, " \t\r\n")) a[n++] = tok;
    if (n == 0) continue;
    if (strcmp(a[0], "quit") == 0) break;
    if (n > MAXARGS) err("too-many-args");
    else handle(a, n);
    fflush(stdout);
  }
  free(line);
  wc_FreeRng(&rng);
  return 0;
}

/*
 * wolf-harness: a wolfSSL (wolfCrypt ECCSI / SAKKE) peer for mcsec's interop tests and benchmarks.
 *
 * Built against Debian's libwolfssl-dev (5.5.x):
 *   cc -O2 -o build/wolf-harness test/interop/wolf-harness.c -lwolfssl
 *
 * A persistent process: one request line on stdin, one reply line on stdout (flushed each time).
 * Byte values are hex (either case in, lowercase out); "-" is the empty byte string.
 * Replies: "ok <v1> <v2> ..." or "err <reason>" (the reason has no spaces).
 *
 * ECCSI: RFC 6507, P-256, SHA-256. SAKKE: RFC 6508 with RFC 6509 parameter set 1 (SHA-256).
 * Wire formats used here (wolfSSL's own encodings are converted to and from these):
 *   ECCSI KSAK 32 octets; KPAK and PVT 04||x||y (65); SSK 32; signature r||s||PVT (129).
 *   SAKKE z 128 octets (shorter input is left-padded); Z_T and RSK 04||x||y (257);
 *   encapsulated data R_(b,S) as 04||x||y (257) || H.
 *
 * Ops:
 *   eccsi-kms                                        -> ok <ksak> <kpak>
 *   eccsi-pair <ksak> <kpak> <id>                    -> ok <ssk> <pvt>
 *   eccsi-validate <kpak> <id> <ssk> <pvt>           -> ok 1|0
 *   eccsi-sign <ksak|-> <kpak> <id> <ssk> <pvt> <msg> -> ok <sig>
 *   eccsi-verify <kpak> <id> <msg> <sig>             -> ok 1|0 (plus RFC 6507 5.2.2 step 6's
 *                                                       "Jx mod p non-zero", which 5.5.4 lacks)
 *   sakke-kms                                        -> ok <z> <Z>
 *   sakke-rsk <z> <Z> <id>                           -> ok <rsk>
 *   sakke-validate <Z> <id> <rsk>                    -> ok 1|0
 *   sakke-encap <Z> <id> <ssv>                       -> ok <R||H>
 *   sakke-decap <Z> <id> <rsk> <R||H>                -> ok <ssv> | err decap
 *   bench <op> <iterations>                          -> ok <median-ms> <sample-ms> x iterations
 *   quit                                             -> exits 0 (so does EOF)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/types.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/eccsi.h>
#include <wolfssl/wolfcrypt/sakke.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if !defined(WOLFCRYPT_HAVE_ECCSI) || !defined(WOLFCRYPT_HAVE_SAKKE)
#error "this wolfSSL build lacks ECCSI or SAKKE (WOLFCRYPT_HAVE_ECCSI / WOLFCRYPT_HAVE_SAKKE)"
#endif

#define HASH WC_HASH_TYPE_SHA256

#define E_N 32                /* ECCSI octet length (P-256) */
#define E_PT (2 * E_N + 1)    /* 65: 04||x||y */
#define E_SIG (4 * E_N + 1)   /* 129: r||s||PVT */
#define S_N 128               /* SAKKE octet length (parameter set 1) */
#define S_PT (2 * S_N + 1)    /* 257: 04||x||y */
#define ID_BENCH 32           /* bench identities: 32 octets, like MIKEY-SAKKE UIDs */

static WC_RNG rng;

/* ---------------------------------------------------------------- output ---------------- */

static char reason[96];

static int fail(const char* what, int code)
{
    if (code != 0) {
        snprintf(reason, sizeof(reason), "%s:%d", what, code);
    } else {
        snprintf(reason, sizeof(reason), "%s", what);
    }
    return -1;
}

static void put_hex(const byte* b, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    putchar(' ');
    if (n == 0) {
        putchar('-');
        return;
    }
    for (size_t i = 0; i < n; i++) {
        putchar(digits[b[i] >> 4]);
        putchar(digits[b[i] & 15]);
    }
}

/* ---------------------------------------------------------------- input ----------------- */

typedef struct {
    byte* b;
    size_t n;
} Bytes;

static int nibble(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes hex ("-" = empty). The buffer is never NULL (wolfSSL rejects NULL even for 0 bytes). */
static int parse_hex(const char* s, Bytes* out)
{
    size_t len = strlen(s);
    out->b = NULL;
    out->n = 0;
    if (strcmp(s, "-") == 0) len = 0;
    if (len % 2 != 0) return -1;
    out->b = (byte*)malloc(len / 2 + 1);
    if (out->b == NULL) return -1;
    for (size_t i = 0; i < len / 2; i++) {
        int hi = nibble(s[2 * i]);
        int lo = nibble(s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(out->b);
            out->b = NULL;
            return -1;
        }
        out->b[i] = (byte)((hi << 4) | lo);
    }
    out->n = len / 2;
    return 0;
}

/*
 * A point as x||y (2*n octets) from either 04||x||y or x||y. Returns 0, or -1 for a wrong length
 * or a first octet other than 04 on the 2n+1 form.
 */
static int point_raw(const Bytes* in, size_t n, byte* xy)
{
    if (in->n == 2 * n + 1 && in->b[0] == 0x04) {
        memcpy(xy, in->b + 1, 2 * n);
        return 0;
    }
    if (in->n == 2 * n) {
        memcpy(xy, in->b, 2 * n);
        return 0;
    }
    return -1;
}

/* A wolfSSL point encoding (04||x||y or x||y) to 04||x||y. */
static int point_std(const byte* in, word32 inSz, size_t n, byte* out)
{
    if (inSz == 2 * n + 1 && in[0] == 0x04) {
        memmove(out, in, inSz);
        return 0;
    }
    if (inSz == 2 * n) {
        memmove(out + 1, in, inSz);
        out[0] = 0x04;
        return 0;
    }
    return -1;
}

/* ---------------------------------------------------------------- ECCSI helpers --------- */

static EccsiKey* eccsi_new(void)
{
    EccsiKey* k = (EccsiKey*)calloc(1, sizeof(EccsiKey));
    if (k != NULL && wc_InitEccsiKey(k, NULL, INVALID_DEVID) != 0) {
        free(k);
        k = NULL;
    }
    return k;
}

static void eccsi_del(EccsiKey* k)
{
    if (k != NULL) {
        wc_FreeEccsiKey(k);
        free(k);
    }
}

/* Loads KSAK (optional: n == 0) and KPAK. trusted=0 has wolfSSL check KPAK on the curve. */
static int eccsi_load(EccsiKey* k, const Bytes* ksak, const Bytes* kpak, int trusted)
{
    byte buf[E_N + 2 * E_N];
    int r;
    if (point_raw(kpak, E_N, buf + E_N) != 0) return fail("badkpak", 0);
    if (ksak != NULL && ksak->n != 0) {
        if (ksak->n != E_N) return fail("badksak", 0);
        memcpy(buf, ksak->b, E_N);
        r = wc_ImportEccsiKey(k, buf, sizeof(buf));
        if (r != 0) return fail("importkms", r);
        if (!trusted) {
            r = wc_ecc_check_key(&k->ecc);
            if (r != 0) return fail("badkpak", r);
        }
        return 0;
    }
    r = wc_ImportEccsiPublicKey(k, buf + E_N, 2 * E_N, trusted);
    if (r != 0) return fail("badkpak", r);
    return 0;
}

static int eccsi_export_pair(EccsiKey* k, mp_int* ssk, ecc_point* pvt, byte* sskOut, byte* pvtOut)
{
    word32 sz = E_N;
    int r = wc_EncodeEccsiSsk(k, ssk, sskOut, &sz);
    if (r != 0 || sz != E_N) return fail("encodessk", r);
    byte tmp[E_PT];
    sz = sizeof(tmp);
    r = wc_EncodeEccsiPvt(k, pvt, tmp, &sz, 0);
    if (r != 0 || point_std(tmp, sz, E_N, pvtOut) != 0) return fail("encodepvt", r);
    return 0;
}

/* ---------------------------------------------------------------- SAKKE helpers --------- */

static SakkeKey* sakke_new(void)
{
    SakkeKey* k = (SakkeKey*)calloc(1, sizeof(SakkeKey));
    if (k != NULL && wc_InitSakkeKey(k, NULL, INVALID_DEVID) != 0) {
        free(k);
        k = NULL;
    }
    return k;
}

static void sakke_del(SakkeKey* k)
{
    if (k != NULL) {
        wc_FreeSakkeKey(k);
        free(k);
    }
}

/* Client key: imports Z_T. trusted=0 has wolfSSL check it (on the curve). */
static int sakke_load_public(SakkeKey* k, const Bytes* Z, int trusted)
{
    byte xy[2 * S_N];
    if (point_raw(Z, S_N, xy) != 0) return fail("badZ", 0);
    int r = wc_ImportSakkePublicKey(k, xy, sizeof(xy), trusted);
    if (r != 0) return fail("badZ", r);
    return 0;
}

/* KMS key: z (<= 128 octets, left-padded) and Z_T. */
static int sakke_load_kms(SakkeKey* k, const Bytes* z, const Bytes* Z)
{
    byte buf[3 * S_N];
    if (z->n == 0 || z->n > S_N) return fail("badz", 0);
    memset(buf, 0, S_N);
    memcpy(buf + S_N - z->n, z->b, z->n);
    if (point_raw(Z, S_N, buf + S_N) != 0) return fail("badZ", 0);
    int r = wc_ImportSakkeKey(k, buf, sizeof(buf));
    if (r != 0) return fail("importkms", r);
    return 0;
}

static int sakke_id_ok(const Bytes* id)
{
    return id->n <= SAKKE_ID_MAX_SIZE;
}

/* R||H from wolfSSL's auth (R) and the in-place encrypted SSV (H). */
static int sakke_join(const byte* auth, word16 authSz, const byte* h, size_t hSz, byte* out)
{
    if (point_std(auth, authSz, S_N, out) != 0) return -1;
    memcpy(out + S_PT, h, hSz);
    return 0;
}

/* ---------------------------------------------------------------- ops ------------------- */

static int op_eccsi_kms(void)
{
    EccsiKey* k = eccsi_new();
    byte ksak[E_N], kpak[E_PT];
    word32 sz;
    int r, ret = -1;
    if (k == NULL) return fail("init", 0);
    r = wc_MakeEccsiKey(k, &rng);
    if (r != 0) { fail("makekey", r); goto done; }
    sz = sizeof(ksak);
    r = wc_ExportEccsiPrivateKey(k, ksak, &sz);
    if (r != 0 || sz != E_N) { fail("exportksak", r); goto done; }
    sz = sizeof(kpak);
    r = wc_ExportEccsiPublicKey(k, kpak, &sz, 0);
    if (r != 0 || point_std(kpak, sz, E_N, kpak) != 0) { fail("exportkpak", r); goto done; }
    printf("ok");
    put_hex(ksak, E_N);
    put_hex(kpak, E_PT);
    ret = 0;
done:
    eccsi_del(k);
    return ret;
}

static int op_eccsi_pair(const Bytes* ksak, const Bytes* kpak, const Bytes* id)
{
    EccsiKey* k = eccsi_new();
    ecc_point* pvt = wc_ecc_new_point();
    mp_int ssk;
    byte sskB[E_N], pvtB[E_PT];
    int r, ret = -1;
    mp_init(&ssk);
    if (k == NULL || pvt == NULL) { fail("init", 0); goto done; }
    if (ksak->n != E_N) { fail("badksak", 0); goto done; }
    if (eccsi_load(k, ksak, kpak, 0) != 0) goto done;
    r = wc_MakeEccsiPair(k, &rng, HASH, id->b, (word32)id->n, &ssk, pvt);
    if (r != 0) { fail("makepair", r); goto done; }
    if (eccsi_export_pair(k, &ssk, pvt, sskB, pvtB) != 0) goto done;
    printf("ok");
    put_hex(sskB, E_N);
    put_hex(pvtB, E_PT);
    ret = 0;
done:
    mp_forcezero(&ssk);
    mp_free(&ssk);
    if (pvt != NULL) wc_ecc_del_point(pvt);
    eccsi_del(k);
    return ret;
}

static int op_eccsi_validate(const Bytes* kpak, const Bytes* id, const Bytes* ssk, const Bytes* pvt)
{
    EccsiKey* k = eccsi_new();
    ecc_point* p = wc_ecc_new_point();
    mp_int s;
    int r, valid = 0, ret = -1;
    mp_init(&s);
    if (k == NULL || p == NULL) { fail("init", 0); goto done; }
    if (ssk->n != E_N) { fail("badssk", 0); goto done; }
    if (pvt->n != E_PT && pvt->n != 2 * E_N) { fail("badpvt", 0); goto done; }
    if (eccsi_load(k, NULL, kpak, 0) != 0) goto done;
    r = wc_DecodeEccsiSsk(k, ssk->b, (word32)ssk->n, &s);
    if (r != 0) { fail("decodessk", r); goto done; }
    /* A PVT of the right length that wolfSSL cannot take (prefix, off the curve) is invalid. */
    if (wc_DecodeEccsiPvt(k, pvt->b, (word32)pvt->n, p) == 0) {
        r = wc_ValidateEccsiPair(k, HASH, id->b, (word32)id->n, &s, p, &valid);
        if (r != 0) valid = 0;
    }
    printf("ok %d", valid ? 1 : 0);
    ret = 0;
done:
    mp_forcezero(&s);
    mp_free(&s);
    if (p != NULL) wc_ecc_del_point(p);
    eccsi_del(k);
    return ret;
}

static int op_eccsi_sign(const Bytes* ksak, const Bytes* kpak, const Bytes* id, const Bytes* ssk,
                         const Bytes* pvt, const Bytes* msg)
{
    EccsiKey* k = eccsi_new();
    ecc_point* p = wc_ecc_new_point();
    mp_int s;
    byte hs[WC_MAX_DIGEST_SIZE], sig[E_SIG + 8];
    byte hsSz = sizeof(hs);
    word32 sigSz = sizeof(sig);
    int r, ret = -1;
    mp_init(&s);
    if (k == NULL || p == NULL) { fail("init", 0); goto done; }
    if (ssk->n != E_N) { fail("badssk", 0); goto done; }
    if (eccsi_load(k, ksak, kpak, 0) != 0) goto done;
    r = wc_DecodeEccsiSsk(k, ssk->b, (word32)ssk->n, &s);
    if (r != 0) { fail("decodessk", r); goto done; }
    r = wc_DecodeEccsiPvt(k, pvt->b, (word32)pvt->n, p);
    if (r != 0) { fail("badpvt", r); goto done; }
    r = wc_HashEccsiId(k, HASH, id->b, (word32)id->n, p, hs, &hsSz);
    if (r != 0) { fail("hashid", r); goto done; }
    r = wc_SetEccsiHash(k, hs, hsSz);
    if (r != 0) { fail("sethash", r); goto done; }
    r = wc_SetEccsiPair(k, &s, p);
    if (r != 0) { fail("setpair", r); goto done; }
    r = wc_SignEccsiHash(k, &rng, HASH, msg->b, (word32)msg->n, sig, &sigSz);
    if (r != 0) { fail("sign", r); goto done; }
    if (sigSz == E_SIG - 1) {
        /* r||s||x||y: put the 04 back in front of the PVT. */
        memmove(sig + 2 * E_N + 1, sig + 2 * E_N, 2 * E_N);
        sig[2 * E_N] = 0x04;
        sigSz = E_SIG;
    }
    if (sigSz != E_SIG || sig[2 * E_N] != 0x04) { fail("sigformat", (int)sigSz); goto done; }
    printf("ok");
    put_hex(sig, E_SIG);
    ret = 0;
done:
    mp_forcezero(&s);
    mp_free(&s);
    if (p != NULL) wc_ecc_del_point(p);
    eccsi_del(k);
    return ret;
}

/* P-256 prime p, big-endian. */
static const byte p256_p[E_N] = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

/*
 * RFC 6507 section 5.2.2 step 6 asks for Jx = r (mod p) AND Jx (mod p) non-zero. wolfSSL 5.5.4's
 * wc_VerifyEccsiHash omits the second half: with r = s = 0 the point J is at infinity, its "x" is
 * 0 and equals r, so the all-zero r||s with any valid PVT verifies for every message (later
 * wolfSSL releases reject r or s outside [1, q-1]). The harness applies that one missing check.
 */
static int eccsi_r_is_zero_mod_p(const byte* sig)
{
    static const byte zero[E_N] = { 0 };
    return memcmp(sig, zero, E_N) == 0 || memcmp(sig, p256_p, E_N) == 0;
}

/*
 * Verification of one signature: PVT taken from the signature, HS = hash(G||KPAK||ID||PVT),
 * then wolfSSL's verify. Anything that does not verify gives 0.
 */
static int eccsi_verify_one(EccsiKey* k, ecc_point* p, const byte* id, word32 idSz, const byte* msg,
                            word32 msgSz, const byte* sig, word32 sigSz)
{
    byte hs[WC_MAX_DIGEST_SIZE];
    byte hsSz = sizeof(hs);
    int verified = 0;
    if (sigSz != E_SIG || eccsi_r_is_zero_mod_p(sig)) return 0;
    if (wc_DecodeEccsiPvtFromSig(k, sig, sigSz, p) != 0) return 0;
    if (wc_HashEccsiId(k, HASH, id, idSz, p, hs, &hsSz) != 0) return 0;
    if (wc_SetEccsiHash(k, hs, hsSz) != 0) return 0;
    if (wc_VerifyEccsiHash(k, HASH, msg, msgSz, sig, sigSz, &verified) != 0) return 0;
    return verified ? 1 : 0;
}

static int op_eccsi_verify(const Bytes* kpak, const Bytes* id, const Bytes* msg, const Bytes* sig)
{
    EccsiKey* k = eccsi_new();
    ecc_point* p = wc_ecc_new_point();
    int ret = -1;
    if (k == NULL || p == NULL) { fail("init", 0); goto done; }
    if (eccsi_load(k, NULL, kpak, 0) != 0) goto done;
    printf("ok %d", eccsi_verify_one(k, p, id->b, (word32)id->n, msg->b, (word32)msg->n, sig->b,
                                     (word32)sig->n));
    ret = 0;
done:
    if (p != NULL) wc_ecc_del_point(p);
    eccsi_del(k);
    return ret;
}

static int op_sakke_kms(void)
{
    SakkeKey* k = sakke_new();
    byte z[S_N], Z[S_PT];
    word32 sz;
    int r, ret = -1;
    if (k == NULL) return fail("init", 0);
    r = wc_MakeSakkeKey(k, &rng);
    if (r != 0) { fail("makekey", r); goto done; }
    sz = sizeof(z);
    r = wc_ExportSakkePrivateKey(k, z, &sz);
    if (r != 0 || sz != S_N) { fail("exportz", r); goto done; }
    sz = sizeof(Z);
    r = wc_ExportSakkePublicKey(k, Z, &sz, 0);
    if (r != 0 || point_std(Z, sz, S_N, Z) != 0) { fail("exportZ", r); goto done; }
    printf("ok");
    put_hex(z, S_N);
    put_hex(Z, S_PT);
    ret = 0;
done:
    sakke_del(k);
    return ret;
}

static int op_sakke_rsk(const Bytes* z, const Bytes* Z, const Bytes* id)
{
    SakkeKey* k = sakke_new();
    ecc_point* rsk = wc_ecc_new_point();
    byte out[S_PT];
    word32 sz = sizeof(out);
    int r, ret = -1;
    if (k == NULL || rsk == NULL) { fail("init", 0); goto done; }
    if (!sakke_id_ok(id)) { fail("idtoolong", 0); goto done; }
    if (sakke_load_kms(k, z, Z) != 0) goto done;
    r = wc_MakeSakkeRsk(k, id->b, (word16)id->n, rsk);
    if (r != 0) { fail("makersk", r); goto done; }
    r = wc_EncodeSakkeRsk(k, rsk, out, &sz, 0);
    if (r != 0 || point_std(out, sz, S_N, out) != 0) { fail("encodersk", r); goto done; }
    printf("ok");
    put_hex(out, S_PT);
    ret = 0;
done:
    if (rsk != NULL) wc_ecc_del_point(rsk);
    sakke_del(k);
    return ret;
}

static int op_sakke_validate(const Bytes* Z, const Bytes* id, const Bytes* rsk)
{
    SakkeKey* k = sakke_new();
    ecc_point* p = wc_ecc_new_point();
    byte xy[2 * S_N];
    int r, valid = 0, ret = -1;
    if (k == NULL || p == NULL) { fail("init", 0); goto done; }
    if (!sakke_id_ok(id)) { fail("idtoolong", 0); goto done; }
    if (rsk->n != S_PT && rsk->n != 2 * S_N) { fail("badrsk", 0); goto done; }
    if (sakke_load_public(k, Z, 0) != 0) goto done;
    if (point_raw(rsk, S_N, xy) == 0 && wc_DecodeSakkeRsk(k, xy, sizeof(xy), p) == 0) {
        r = wc_ValidateSakkeRsk(k, id->b, (word16)id->n, p, &valid);
        if (r != 0) valid = 0;
    }
    printf("ok %d", valid ? 1 : 0);
    ret = 0;
done:
    if (p != NULL) wc_ecc_del_point(p);
    sakke_del(k);
    return ret;
}

static int op_sakke_encap(const Bytes* Z, const Bytes* id, const Bytes* ssv)
{
    SakkeKey* k = sakke_new();
    byte auth[S_PT], h[S_N], out[S_PT + S_N];
    word16 authSz = sizeof(auth);
    int r, ret = -1;
    if (k == NULL) return fail("init", 0);
    if (!sakke_id_ok(id)) { fail("idtoolong", 0); goto done; }
    if (ssv->n == 0 || ssv->n > S_N) { fail("badssv", 0); goto done; }
    if (sakke_load_public(k, Z, 0) != 0) goto done;
    r = wc_SetSakkeIdentity(k, id->b, (word16)id->n);
    if (r != 0) { fail("setid", r); goto done; }
    memcpy(h, ssv->b, ssv->n); /* wolfSSL encrypts the SSV in place: it becomes H */
    r = wc_MakeSakkeEncapsulatedSSV(k, HASH, h, (word16)ssv->n, auth, &authSz);
    if (r != 0) { fail("encap", r); goto done; }
    if (sakke_join(auth, authSz, h, ssv->n, out) != 0) { fail("authformat", authSz); goto done; }
    printf("ok");
    put_hex(out, S_PT + ssv->n);
    ret = 0;
done:
    sakke_del(k);
    return ret;
}

static int op_sakke_decap(const Bytes* Z, const Bytes* id, const Bytes* rsk, const Bytes* enc)
{
    SakkeKey* k = sakke_new();
    ecc_point* p = wc_ecc_new_point();
    byte xy[2 * S_N], ssv[S_N];
    size_t ssvSz;
    int r, ret = -1;
    if (k == NULL || p == NULL) { fail("init", 0); goto done; }
    if (!sakke_id_ok(id)) { fail("idtoolong", 0); goto done; }
    if (sakke_load_public(k, Z, 0) != 0) goto done;
    if (point_raw(rsk, S_N, xy) != 0) { fail("badrsk", 0); goto done; }
    r = wc_DecodeSakkeRsk(k, xy, sizeof(xy), p);
    if (r != 0) { fail("badrsk", r); goto done; }
    if (enc->n <= S_PT || enc->n > S_PT + S_N) { fail("decap", 0); goto done; }
    ssvSz = enc->n - S_PT;
    r = wc_SetSakkeRsk(k, p, NULL, 0);
    if (r != 0) { fail("setrsk", r); goto done; }
    r = wc_SetSakkeIdentity(k, id->b, (word16)id->n);
    if (r != 0) { fail("setid", r); goto done; }
    memcpy(ssv, enc->b + S_PT, ssvSz); /* H in, SSV out */
    r = wc_DeriveSakkeSSV(k, HASH, ssv, (word16)ssvSz, enc->b, S_PT);
    if (r != 0) { fail("decap", 0); goto done; }
    printf("ok");
    put_hex(ssv, ssvSz);
    ret = 0;
done:
    if (p != NULL) wc_ecc_del_point(p);
    sakke_del(k);
    return ret;
}

/* ---------------------------------------------------------------- bench ----------------- */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

#define WARMUP 2
#define TIME(slot, call)                 \
    do {                                 \
        double t0_ = now_ms();           \
        r = (call);                      \
        (slot) = now_ms() - t0_;         \
    } while (0)

static int rnd(byte* b, word32 n)
{
    return wc_RNG_GenerateBlock(&rng, b, n);
}

static int said_rsk_table = 0;
static int said_i_table = 0;

/* Each bench function fills t[0 .. total-1] (total = iterations + WARMUP). */

static int bench_sakke_rsk_extract(int total, double* t)
{
    SakkeKey* kms = sakke_new();
    ecc_point* rsk = wc_ecc_new_point();
    byte id[ID_BENCH];
    int r = 0;
    if (kms == NULL || rsk == NULL) { r = fail("init", 0); goto done; }
    if ((r = wc_MakeSakkeKey(kms, &rng)) != 0) { r = fail("makekey", r); goto done; }
    for (int i = 0; i < total; i++) {
        if ((r = rnd(id, sizeof(id))) != 0) { r = fail("rng", r); goto done; }
        TIME(t[i], wc_MakeSakkeRsk(kms, id, sizeof(id), rsk));
        if (r != 0) { r = fail("makersk", r); goto done; }
    }
done:
    if (rsk != NULL) wc_ecc_del_point(rsk);
    sakke_del(kms);
    return r;
}

/* A KMS key and a client key holding only its Z_T. */
static int sakke_pair_of_keys(SakkeKey* kms, SakkeKey* client)
{
    byte Z[S_PT];
    word32 sz = sizeof(Z);
    int r = wc_MakeSakkeKey(kms, &rng);
    if (r != 0) return fail("makekey", r);
    r = wc_ExportSakkePublicKey(kms, Z, &sz, 1);
    if (r != 0) return fail("exportZ", r);
    r = wc_ImportSakkePublicKey(client, Z, sz, 1);
    if (r != 0) return fail("importZ", r);
    return 0;
}

static int bench_sakke_rsk_validate(int total, double* t)
{
    SakkeKey* kms = sakke_new();
    SakkeKey* client = sakke_new();
    ecc_point* rsk = wc_ecc_new_point();
    byte id[ID_BENCH];
    int r = 0, valid = 0;
    if (kms == NULL || client == NULL || rsk == NULL) { r = fail("init", 0); goto done; }
    if ((r = sakke_pair_of_keys(kms, client)) != 0) goto done;
    for (int i = 0; i < total; i++) {
        if ((r = rnd(id, sizeof(id))) != 0) { r = fail("rng", r); goto done; }
        if ((r = wc_MakeSakkeRsk(kms, id, sizeof(id), rsk)) != 0) { r = fail("makersk", r); goto done; }
        TIME(t[i], wc_ValidateSakkeRsk(client, id, sizeof(id), rsk, &valid));
        if (r != 0 || !valid) { r = fail("validate", r); goto done; }
    }
done:
    if (rsk != NULL) wc_ecc_del_point(rsk);
    sakke_del(client);
    sakke_del(kms);
    return r;
}

/* Encapsulation to a new peer identity each call: point I = [b]P + Z is computed every time. */
static int bench_sakke_encap_new(int total, double* t)
{
    SakkeKey* kms = sakke_new();
    SakkeKey* client = sakke_new();
    byte id[ID_BENCH], ssv[16], auth[S_PT];
    word16 authSz;
    int r = 0;
    if (kms == NULL || client == NULL) { r = fail("init", 0); goto done; }
    if ((r = sakke_pair_of_keys(kms, client)) != 0) goto done;
    for (int i = 0; i < total; i++) {
        if ((r = rnd(id, sizeof(id))) != 0 || (r = rnd(ssv, sizeof(ssv))) != 0) { r = fail("rng", r); goto done; }
        authSz = sizeof(auth);
        double t0 = now_ms();
        r = wc_SetSakkeIdentity(client, id, sizeof(id));
        if (r == 0) r = wc_MakeSakkeEncapsulatedSSV(client, HASH, ssv, sizeof(ssv), auth, &authSz);
        t[i] = now_ms() - t0;
        if (r != 0) { r = fail("encap", r); goto done; }
    }
done:
    sakke_del(client);
    sakke_del(kms);
    return r;
}

/* Encapsulation to the same peer each call: point I cached, with its precomputation table. */
static int bench_sakke_encap_cached(int total, double* t)
{
    SakkeKey* kms = sakke_new();
    SakkeKey* client = sakke_new();
    byte id[ID_BENCH], ssv[16], auth[S_PT];
    byte* table = NULL;
    word32 len = 0;
    word16 authSz;
    int r = 0;
    if (kms == NULL || client == NULL) { r = fail("init", 0); goto done; }
    if ((r = sakke_pair_of_keys(kms, client)) != 0) goto done;
    if ((r = rnd(id, sizeof(id))) != 0) { r = fail("rng", r); goto done; }
    if ((r = wc_SetSakkeIdentity(client, id, sizeof(id))) != 0) { r = fail("setid", r); goto done; }
    if ((r = wc_MakeSakkePointI(client, id, sizeof(id))) != 0) { r = fail("pointi", r); goto done; }
    r = wc_GenerateSakkePointITable(client, NULL, &len);
    if (r != LENGTH_ONLY_E && r != 0) { r = fail("pointitablelen", r); goto done; }
    if (len > 0) {
        table = (byte*)malloc(len);
        if (table == NULL) { r = fail("nomem", 0); goto done; }
        if ((r = wc_GenerateSakkePointITable(client, table, &len)) != 0) { r = fail("pointitable", r); goto done; }
        if ((r = wc_SetSakkePointITable(client, table, len)) != 0) { r = fail("setpointitable", r); goto done; }
        if (!said_i_table) {
            fprintf(stderr, "wolf-harness: sakke.encapsulate_cached: point-I table in use (%u bytes)\n", len);
            said_i_table = 1;
        }
    } else if (!said_i_table) {
        fprintf(stderr, "wolf-harness: sakke.encapsulate_cached: this wolfSSL build has no point-I "
                        "precomputation table (0 bytes: no WOLFSSL_HAVE_SP_ECC/WOLFSSL_SP_1024); "
                        "using the cached point I (wc_MakeSakkePointI)\n");
        said_i_table = 1;
    }
    r = 0;
    for (int i = 0; i < total; i++) {
        if ((r = rnd(ssv, sizeof(ssv))) != 0) { r = fail("rng", r); goto done; }
        authSz = sizeof(auth);
        TIME(t[i], wc_MakeSakkeEncapsulatedSSV(client, HASH, ssv, sizeof(ssv), auth, &authSz));
        if (r != 0) { r = fail("encap", r); goto done; }
    }
done:
    if (client != NULL) wc_ClearSakkePointITable(client);
    sakke_del(client);
    sakke_del(kms);
    free(table);
    return r;
}

/* Decapsulation by a fixed recipient: its RSK (with the RSK pairing table when available). */
static int bench_sakke_decap(int total, double* t)
{
    SakkeKey* kms = sakke_new();
    SakkeKey* sender = sakke_new();
    SakkeKey* me = sakke_new();
    ecc_point* rsk = wc_ecc_new_point();
    byte id[ID_BENCH], ssv[16], h[16], auth[S_PT], Z[2 * S_N];
    byte* table = NULL;
    word32 len = 0, zSz = sizeof(Z);
    word16 authSz;
    int r = 0;
    if (kms == NULL || sender == NULL || me == NULL || rsk == NULL) { r = fail("init", 0); goto done; }
    if ((r = sakke_pair_of_keys(kms, sender)) != 0) goto done;
    if ((r = wc_ExportSakkePublicKey(kms, Z, &zSz, 1)) != 0) { r = fail("exportZ", r); goto done; }
    if ((r = wc_ImportSakkePublicKey(me, Z, zSz, 1)) != 0) { r = fail("importZ", r); goto done; }
    if ((r = rnd(id, sizeof(id))) != 0) { r = fail("rng", r); goto done; }
    if ((r = wc_MakeSakkeRsk(kms, id, sizeof(id), rsk)) != 0) { r = fail("makersk", r); goto done; }
    if ((r = wc_SetSakkeIdentity(me, id, sizeof(id))) != 0) { r = fail("setid", r); goto done; }
    if ((r = wc_SetSakkeIdentity(sender, id, sizeof(id))) != 0) { r = fail("setid", r); goto done; }
    r = wc_GenerateSakkeRskTable(me, rsk, NULL, &len);
    if (r != LENGTH_ONLY_E && r != 0) len = 0;
    if (len > 0) {
        table = (byte*)malloc(len);
        if (table == NULL) { r = fail("nomem", 0); goto done; }
        r = wc_GenerateSakkeRskTable(me, rsk, table, &len);
        if (r == 0) r = wc_SetSakkeRsk(me, rsk, table, len);
        if (r != 0) {
            free(table);
            table = NULL;
            len = 0;
        }
    }
    if (table == NULL) {
        if ((r = wc_SetSakkeRsk(me, rsk, NULL, 0)) != 0) { r = fail("setrsk", r); goto done; }
    }
    if (!said_rsk_table) {
        if (table != NULL) {
            fprintf(stderr, "wolf-harness: sakke.decapsulate: RSK table in use (%u bytes)\n", len);
        } else {
            fprintf(stderr, "wolf-harness: sakke.decapsulate: this wolfSSL build has no RSK "
                            "precomputation table (0 bytes: no WOLFSSL_HAVE_SP_ECC/WOLFSSL_SP_1024); "
                            "decapsulating plain (wc_SetSakkeRsk without table)\n");
        }
        said_rsk_table = 1;
    }
    r = 0;
    for (int i = 0; i < total; i++) {
        if ((r = rnd(ssv, sizeof(ssv))) != 0) { r = fail("rng", r); goto done; }
        memcpy(h, ssv, sizeof(h));
        authSz = sizeof(auth);
        if ((r = wc_MakeSakkeEncapsulatedSSV(sender, HASH, h, sizeof(h), auth, &authSz)) != 0) {
            r = fail("encap", r);
            goto done;
        }
        TIME(t[i], wc_DeriveSakkeSSV(me, HASH, h, sizeof(h), auth, authSz));
        if (r != 0 || memcmp(h, ssv, sizeof(h)) != 0) { r = fail("decap", r); goto done; }
    }
done:
    if (rsk != NULL) wc_ecc_del_point(rsk);
    sakke_del(me);
    sakke_del(sender);
    sakke_del(kms);
    free(table);
    return r;
}

/* A KMS key and a client key holding only its KPAK. */
static int eccsi_pair_of_keys(EccsiKey* kms, EccsiKey* client)
{
    byte kpak[E_PT];
    word32 sz = sizeof(kpak);
    int r = wc_MakeEccsiKey(kms, &rng);
    if (r != 0) return fail("makekey", r);
    r = wc_ExportEccsiPublicKey(kms, kpak, &sz, 1);
    if (r != 0) return fail("exportkpak", r);
    r = wc_ImportEccsiPublicKey(client, kpak, sz, 1);
    if (r != 0) return fail("importkpak", r);
    return 0;
}

static int bench_eccsi_pair_generate(int total, double* t)
{
    EccsiKey* kms = eccsi_new();
    ecc_point* pvt = wc_ecc_new_point();
    mp_int ssk;
    byte id[ID_BENCH];
    int r = 0;
    mp_init(&ssk);
    if (kms == NULL || pvt == NULL) { r = fail("init", 0); goto done; }
    if ((r = wc_MakeEccsiKey(kms, &rng)) != 0) { r = fail("makekey", r); goto done; }
    for (int i = 0; i < total; i++) {
        if ((r = rnd(id, sizeof(id))) != 0) { r = fail("rng", r); goto done; }
        TIME(t[i], wc_MakeEccsiPair(kms, &rng, HASH, id, sizeof(id), &ssk, pvt));
        if (r != 0) { r = fail("makepair", r); goto done; }
    }
done:
    mp_free(&ssk);
    if (pvt != NULL) wc_ecc_del_point(pvt);
    eccsi_del(kms);
    return r;
}

static int bench_eccsi_pair_validate(int total, double* t)
{
    EccsiKey* kms = eccsi_new();
    EccsiKey* client = eccsi_new();
    ecc_point* pvt = wc_ecc_new_point();
    mp_int ssk;
    byte id[ID_BENCH];
    int r = 0, valid = 0;
    mp_init(&ssk);
    if (kms == NULL || client == NULL || pvt == NULL) { r = fail("init", 0); goto done; }
    if ((r = eccsi_pair_of_keys(kms, client)) != 0) goto done;
    for (int i = 0; i < total; i++) {
        if ((r = rnd(id, sizeof(id))) != 0) { r = fail("rng", r); goto done; }
        if ((r = wc_MakeEccsiPair(kms, &rng, HASH, id, sizeof(id), &ssk, pvt)) != 0) { r = fail("makepair", r); goto done; }
        TIME(t[i], wc_ValidateEccsiPair(client, HASH, id, sizeof(id), &ssk, pvt, &valid));
        if (r != 0 || !valid) { r = fail("validate", r); goto done; }
    }
done:
    mp_free(&ssk);
    if (pvt != NULL) wc_ecc_del_point(pvt);
    eccsi_del(client);
    eccsi_del(kms);
    return r;
}

/* A signer for a fresh identity: pair from the KMS, HS and the pair set in `signer`. */
static int eccsi_make_signer(EccsiKey* kms, EccsiKey* signer, byte* id, mp_int* ssk, ecc_point* pvt)
{
    byte hs[WC_MAX_DIGEST_SIZE];
    byte hsSz = sizeof(hs);
    int r;
    if ((r = rnd(id, ID_BENCH)) != 0) return fail("rng", r);
    if ((r = wc_MakeEccsiPair(kms, &rng, HASH, id, ID_BENCH, ssk, pvt)) != 0) return fail("makepair", r);
    if ((r = wc_HashEccsiId(signer, HASH, id, ID_BENCH, pvt, hs, &hsSz)) != 0) return fail("hashid", r);
    if ((r = wc_SetEccsiHash(signer, hs, hsSz)) != 0) return fail("sethash", r);
    if ((r = wc_SetEccsiPair(signer, ssk, pvt)) != 0) return fail("setpair", r);
    return 0;
}

#define BENCH_MSG 64

static int bench_eccsi_sign(int total, double* t)
{
    EccsiKey* kms = eccsi_new();
    EccsiKey* signer = eccsi_new();
    ecc_point* pvt = wc_ecc_new_point();
    mp_int ssk;
    byte id[ID_BENCH], msg[BENCH_MSG], sig[E_SIG];
    word32 sigSz;
    int r = 0;
    mp_init(&ssk);
    if (kms == NULL || signer == NULL || pvt == NULL) { r = fail("init", 0); goto done; }
    if ((r = eccsi_pair_of_keys(kms, signer)) != 0) goto done;
    if ((r = eccsi_make_signer(kms, signer, id, &ssk, pvt)) != 0) goto done;
    for (int i = 0; i < total; i++) {
        if ((r = rnd(msg, sizeof(msg))) != 0) { r = fail("rng", r); goto done; }
        sigSz = sizeof(sig);
        TIME(t[i], wc_SignEccsiHash(signer, &rng, HASH, msg, sizeof(msg), sig, &sigSz));
        if (r != 0) { r = fail("sign", r); goto done; }
    }
done:
    mp_free(&ssk);
    if (pvt != NULL) wc_ecc_del_point(pvt);
    eccsi_del(signer);
    eccsi_del(kms);
    return r;
}

/*
 * first = 0: the same signer each call; the verifier holds HS (wc_HashEccsiId + wc_SetEccsiHash
 * once), each call is wc_VerifyEccsiHash alone.
 * first = 1: a new signer each call; each call takes the PVT from the signature, computes HS and
 * verifies.
 */
static int bench_eccsi_verify(int total, double* t, int first)
{
    EccsiKey* kms = eccsi_new();
    EccsiKey* signer = eccsi_new();
    EccsiKey* verifier = eccsi_new();
    ecc_point* pvt = wc_ecc_new_point();
    ecc_point* p = wc_ecc_new_point();
    mp_int ssk;
    byte* ids = (byte*)malloc((size_t)total * ID_BENCH);
    byte* msgs = (byte*)malloc((size_t)total * BENCH_MSG);
    byte* sigs = (byte*)malloc((size_t)total * E_SIG);
    byte kpak[2 * E_N], hs[WC_MAX_DIGEST_SIZE];
    byte hsSz = sizeof(hs);
    word32 sz = sizeof(kpak), sigSz;
    int r = 0, verified = 0;
    mp_init(&ssk);
    if (kms == NULL || signer == NULL || verifier == NULL || pvt == NULL || p == NULL || ids == NULL ||
        msgs == NULL || sigs == NULL) {
        r = fail("init", 0);
        goto done;
    }
    if ((r = eccsi_pair_of_keys(kms, signer)) != 0) goto done;
    if ((r = wc_ExportEccsiPublicKey(kms, kpak, &sz, 1)) != 0) { r = fail("exportkpak", r); goto done; }
    if ((r = wc_ImportEccsiPublicKey(verifier, kpak, sz, 1)) != 0) { r = fail("importkpak", r); goto done; }
    for (int i = 0; i < total; i++) {
        if (i == 0 || first) {
            if ((r = eccsi_make_signer(kms, signer, ids + (size_t)i * ID_BENCH, &ssk, pvt)) != 0) goto done;
        } else {
            memcpy(ids + (size_t)i * ID_BENCH, ids, ID_BENCH);
        }
        if ((r = rnd(msgs + (size_t)i * BENCH_MSG, BENCH_MSG)) != 0) { r = fail("rng", r); goto done; }
        sigSz = E_SIG;
        r = wc_SignEccsiHash(signer, &rng, HASH, msgs + (size_t)i * BENCH_MSG, BENCH_MSG,
                             sigs + (size_t)i * E_SIG, &sigSz);
        if (r != 0 || sigSz != E_SIG) { r = fail("sign", r); goto done; }
    }
    if (!first) {
        if ((r = wc_HashEccsiId(verifier, HASH, ids, ID_BENCH, pvt, hs, &hsSz)) != 0) { r = fail("hashid", r); goto done; }
        if ((r = wc_SetEccsiHash(verifier, hs, hsSz)) != 0) { r = fail("sethash", r); goto done; }
    }
    for (int i = 0; i < total; i++) {
        const byte* sig = sigs + (size_t)i * E_SIG;
        const byte* msg = msgs + (size_t)i * BENCH_MSG;
        if (first) {
            TIME(t[i], eccsi_verify_one(verifier, p, ids + (size_t)i * ID_BENCH, ID_BENCH, msg, BENCH_MSG,
                                        sig, E_SIG) == 1 ? 0 : -1);
            verified = (r == 0);
        } else {
            TIME(t[i], wc_VerifyEccsiHash(verifier, HASH, msg, BENCH_MSG, sig, E_SIG, &verified));
        }
        if (r != 0 || !verified) { r = fail("verify", r); goto done; }
    }
done:
    mp_free(&ssk);
    if (p != NULL) wc_ecc_del_point(p);
    if (pvt != NULL) wc_ecc_del_point(pvt);
    eccsi_del(verifier);
    eccsi_del(signer);
    eccsi_del(kms);
    free(ids);
    free(msgs);
    free(sigs);
    return r;
}

static int cmp_double(const void* a, const void* b)
{
    double x = *(const double*)a, y = *(const double*)b;
    return (x > y) - (x < y);
}

static int op_bench(const char* name, const char* itersArg)
{
    char* end = NULL;
    long n = strtol(itersArg, &end, 10);
    if (end == itersArg || *end != '\0' || n < 1 || n > 100000) return fail("baditerations", 0);
    int total = (int)n + WARMUP;
    double* t = (double*)calloc((size_t)total, sizeof(double));
    double* s = (double*)calloc((size_t)n, sizeof(double));
    int r;
    if (t == NULL || s == NULL) {
        free(t);
        free(s);
        return fail("nomem", 0);
    }
    if (strcmp(name, "sakke.rsk_extract") == 0) r = bench_sakke_rsk_extract(total, t);
    else if (strcmp(name, "sakke.rsk_validate") == 0) r = bench_sakke_rsk_validate(total, t);
    else if (strcmp(name, "sakke.encapsulate_new_peer") == 0) r = bench_sakke_encap_new(total, t);
    else if (strcmp(name, "sakke.encapsulate_cached") == 0) r = bench_sakke_encap_cached(total, t);
    else if (strcmp(name, "sakke.decapsulate") == 0) r = bench_sakke_decap(total, t);
    else if (strcmp(name, "eccsi.pair_generate") == 0) r = bench_eccsi_pair_generate(total, t);
    else if (strcmp(name, "eccsi.pair_validate") == 0) r = bench_eccsi_pair_validate(total, t);
    else if (strcmp(name, "eccsi.sign") == 0) r = bench_eccsi_sign(total, t);
    else if (strcmp(name, "eccsi.verify") == 0) r = bench_eccsi_verify(total, t, 0);
    else if (strcmp(name, "eccsi.verify_first") == 0) r = bench_eccsi_verify(total, t, 1);
    else r = fail("unknownbench", 0);
    if (r == 0) {
        memcpy(s, t + WARMUP, (size_t)n * sizeof(double));
        qsort(s, (size_t)n, sizeof(double), cmp_double);
        double median = (n % 2 == 1) ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2.0;
        printf("ok %.6f", median);
        for (int i = WARMUP; i < total; i++) printf(" %.6f", t[i]);
    }
    free(t);
    free(s);
    return r == 0 ? 0 : -1;
}

/* ---------------------------------------------------------------- dispatch -------------- */

#define MAX_ARGS 12

typedef struct {
    const char* name;
    int nargs;      /* byte arguments after the op name */
} OpSpec;

static const OpSpec specs[] = {
    { "eccsi-kms", 0 },      { "eccsi-pair", 3 }, { "eccsi-validate", 4 }, { "eccsi-sign", 6 },
    { "eccsi-verify", 4 },   { "sakke-kms", 0 },  { "sakke-rsk", 3 },      { "sakke-validate", 3 },
    { "sakke-encap", 3 },    { "sakke-decap", 4 },
};

static int dispatch(char** argv, int argc)
{
    const char* op = argv[0];
    if (strcmp(op, "bench") == 0) {
        if (argc != 3) return fail("args", 0);
        return op_bench(argv[1], argv[2]);
    }
    int nargs = -1;
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
        if (strcmp(op, specs[i].name) == 0) nargs = specs[i].nargs;
    }
    if (nargs < 0) return fail("unknownop", 0);
    if (argc - 1 != nargs) return fail("args", 0);

    Bytes a[MAX_ARGS];
    int parsed = 0, ret = -1;
    for (int i = 0; i < nargs; i++) {
        if (parse_hex(argv[i + 1], &a[i]) != 0) {
            fail("badhex", 0);
            goto done;
        }
        parsed++;
    }
    if (strcmp(op, "eccsi-kms") == 0) ret = op_eccsi_kms();
    else if (strcmp(op, "eccsi-pair") == 0) ret = op_eccsi_pair(&a[0], &a[1], &a[2]);
    else if (strcmp(op, "eccsi-validate") == 0) ret = op_eccsi_validate(&a[0], &a[1], &a[2], &a[3]);
    else if (strcmp(op, "eccsi-sign") == 0) ret = op_eccsi_sign(&a[0], &a[1], &a[2], &a[3], &a[4], &a[5]);
    else if (strcmp(op, "eccsi-verify") == 0) ret = op_eccsi_verify(&a[0], &a[1], &a[2], &a[3]);
    else if (strcmp(op, "sakke-kms") == 0) ret = op_sakke_kms();
    else if (strcmp(op, "sakke-rsk") == 0) ret = op_sakke_rsk(&a[0], &a[1], &a[2]);
    else if (strcmp(op, "sakke-validate") == 0) ret = op_sakke_validate(&a[0], &a[1], &a[2]);
    else if (strcmp(op, "sakke-encap") == 0) ret = op_sakke_encap(&a[0], &a[1], &a[2]);
    else if (strcmp(op, "sakke-decap") == 0) ret = op_sakke_decap(&a[0], &a[1], &a[2], &a[3]);
done:
    for (int i = 0; i < parsed; i++) free(a[i].b);
    return ret;
}

int main(void)
{
    char* line = NULL;
    size_t cap = 0;
    ssize_t len;
    int status = 0;

    if (wc_InitRng(&rng) != 0) {
        fprintf(stderr, "wolf-harness: wc_InitRng failed\n");
        return 1;
    }
    while ((len = getline(&line, &cap, stdin)) >= 0) {
        char* argv[MAX_ARGS + 2];
        int argc = 0;
        char* save = NULL;
        for (char* tok = strtok_r(line, " \t\r\n", &save); tok != NULL; tok = strtok_r(NULL, " \t\r\n", &save)) {
            if (argc == MAX_ARGS + 1) {
                argc++;
                break;
            }
            argv[argc++] = tok;
        }
        if (argc == 0) {
            fputs("err empty\n", stdout);
        } else if (strcmp(argv[0], "quit") == 0) {
            break;
        } else if (argc > MAX_ARGS + 1) {
            fputs("err args\n", stdout);
        } else {
            reason[0] = '\0';
            if (dispatch(argv, argc) != 0) {
                printf("err %s", reason[0] != '\0' ? reason : "failed");
            }
            putchar('\n');
        }
        if (fflush(stdout) != 0) {
            status = 1;
            break;
        }
    }
    free(line);
    wc_FreeRng(&rng);
    return status;
}

/*
 * srtp-harness: a libsrtp2 peer for mcsec's SRTP / SRTCP interop tests and benchmarks.
 *
 * Built against Debian's libsrtp2-dev (2.5.x):
 *   cc -O2 -o build/srtp-harness test/interop/srtp-harness.c -lsrtp2
 *
 * A persistent process: one request line on stdin, one reply line on stdout (flushed each time).
 * Byte values are hex (either case in, lowercase out); "-" is the empty byte string.
 * Replies: "ok <v1> <v2> ..." or "err <reason>" (the reason has no spaces; for libsrtp calls it is
 * the srtp_err_status_t number, e.g. 7 auth_fail, 9 replay_fail, 10 replay_old, 25 bad_mki).
 *
 * Profile: AEAD_AES_128_GCM with the 16-octet tag (RFC 7714) for SRTP and SRTCP, that is
 * srtp_crypto_policy_set_aes_gcm_128_16_auth: a 16-octet master key and 12-octet master salt,
 * session keys by libsrtp's AES-CM KDF (kdr 0). MKIs through srtp_master_key_t arrays.
 *
 * Ops:
 *   session <slot> <window> <key:salt:mki> [...]   -> ok   (slot 0-31; mki "-" = no MKI; every
 *                                                      key of a slot has the same MKI length;
 *                                                      window 0 = libsrtp's default 128)
 *   protect <slot> <mki-index> <rtp>               -> ok <srtp>
 *   unprotect <slot> <srtp>                        -> ok <rtp>
 *   protect-rtcp <slot> <mki-index> <rtcp>         -> ok <srtcp>
 *   unprotect-rtcp <slot> <srtcp>                  -> ok <rtcp>
 *   roc <slot> <ssrc>                              -> ok <roc> (the receiving stream's ROC)
 *   free <slot>                                    -> ok
 *   bench <samples> <batch> <payload> <mki-len> [both|protect|unprotect]
 *                                                  -> ok <median-ms> <sample-ms> x samples, each
 *                                                      sample the mean ms of one protect plus one
 *                                                      unprotect (or of one protect, or of one
 *                                                      unprotect of packets protected untimed)
 *                                                      over <batch> packets
 *   quit                                           -> exits 0 (so does EOF)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <srtp2/srtp.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLOTS 32
#define MAX_KEYS 8
#define MAX_ARGS (3 + MAX_KEYS)
#define KEY_LEN 16
#define SALT_LEN 12
#define ROOM 512 /* trailer room for protect: tag, E || index, MKI */

typedef struct {
    int used;
    srtp_t tx;
    srtp_t rx;
    int use_mki;
} Slot;

static Slot slots[SLOTS];
static char reason[64];

static int fail(const char* what)
{
    snprintf(reason, sizeof(reason), "%s", what);
    return -1;
}

static int fail_status(srtp_err_status_t s)
{
    snprintf(reason, sizeof(reason), "%d", (int)s);
    return -1;
}

static void put_hex(const uint8_t* b, size_t n)
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

static int nibble(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes hex of length len ("-" = empty) into out (capacity cap); returns the octet count or -1. */
static long parse_hex_n(const char* s, size_t len, uint8_t* out, size_t cap)
{
    if (len == 1 && s[0] == '-') return 0;
    if (len % 2 != 0 || len / 2 > cap) return -1;
    for (size_t i = 0; i < len / 2; i++) {
        int hi = nibble(s[2 * i]);
        int lo = nibble(s[2 * i + 1]);
        if (hi < 0 || lo < 0) return -1;
        out[i] = (uint8_t)((hi << 4) | lo);
    }
    return (long)(len / 2);
}

static long parse_hex(const char* s, uint8_t* out, size_t cap)
{
    return parse_hex_n(s, strlen(s), out, cap);
}

static int parse_int(const char* s, long lo, long hi, long* out)
{
    char* end = NULL;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static void slot_free(Slot* s)
{
    if (!s->used) return;
    srtp_dealloc(s->tx);
    srtp_dealloc(s->rx);
    memset(s, 0, sizeof(*s));
}

typedef struct {
    uint8_t key[KEY_LEN + SALT_LEN];
    uint8_t mki[SRTP_MAX_MKI_LEN];
    srtp_master_key_t mk;
} KeySpec;

/* Creates a session (outbound and inbound) from key specs "key:salt:mki". */
static int create_slot(Slot* s, long window, char** specs, int n)
{
    static KeySpec ks[MAX_KEYS];
    srtp_master_key_t* keys[MAX_KEYS];
    long mki_len = -1;
    srtp_policy_t p;
    srtp_err_status_t st;

    for (int i = 0; i < n; i++) {
        char* a = specs[i];
        char* c1 = strchr(a, ':');
        char* c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;
        if (c2 == NULL) return fail("spec");
        if (parse_hex_n(a, (size_t)(c1 - a), ks[i].key, KEY_LEN) != KEY_LEN) return fail("key");
        if (parse_hex_n(c1 + 1, (size_t)(c2 - c1 - 1), ks[i].key + KEY_LEN, SALT_LEN) != SALT_LEN) return fail("salt");
        long m = parse_hex(c2 + 1, ks[i].mki, sizeof(ks[i].mki));
        if (m < 0 || (mki_len >= 0 && m != mki_len)) return fail("mki");
        mki_len = m;
        ks[i].mk.key = ks[i].key;
        ks[i].mk.mki_id = ks[i].mki;
        ks[i].mk.mki_size = (unsigned int)m;
        keys[i] = &ks[i].mk;
    }
    if (mki_len == 0 && n != 1) return fail("one-key-without-mki");

    memset(&p, 0, sizeof(p));
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
    if (mki_len > 0) {
        p.keys = keys;
        p.num_master_keys = (unsigned long)n;
    } else {
        p.key = ks[0].key;
    }
    p.window_size = (unsigned long)window;
    p.allow_repeat_tx = 0;
    p.next = NULL;

    p.ssrc.type = ssrc_any_outbound;
    st = srtp_create(&s->tx, &p);
    if (st != srtp_err_status_ok) return fail_status(st);
    p.ssrc.type = ssrc_any_inbound;
    st = srtp_create(&s->rx, &p);
    if (st != srtp_err_status_ok) {
        srtp_dealloc(s->tx);
        return fail_status(st);
    }
    s->used = 1;
    s->use_mki = mki_len > 0;
    return 0;
}

static Slot* slot_of(const char* a)
{
    long i;
    if (parse_int(a, 0, SLOTS - 1, &i) != 0 || !slots[i].used) return NULL;
    return &slots[i];
}

enum { PROTECT, UNPROTECT, PROTECT_RTCP, UNPROTECT_RTCP };

static int transform(int op, Slot* s, long mki_index, const char* hex)
{
    size_t cap = strlen(hex) / 2 + ROOM;
    uint8_t* buf = (uint8_t*)malloc(cap);
    srtp_err_status_t st;
    if (buf == NULL) return fail("alloc");
    long n = parse_hex(hex, buf, cap - ROOM);
    if (n < 0) {
        free(buf);
        return fail("hex");
    }
    int len = (int)n;
    unsigned int use = (unsigned int)s->use_mki;
    unsigned int idx = (unsigned int)mki_index;
    switch (op) {
    case PROTECT: st = srtp_protect_mki(s->tx, buf, &len, use, idx); break;
    case UNPROTECT: st = srtp_unprotect_mki(s->rx, buf, &len, use); break;
    case PROTECT_RTCP: st = srtp_protect_rtcp_mki(s->tx, buf, &len, use, idx); break;
    default: st = srtp_unprotect_rtcp_mki(s->rx, buf, &len, use); break;
    }
    if (st != srtp_err_status_ok) {
        free(buf);
        return fail_status(st);
    }
    fputs("ok", stdout);
    put_hex(buf, (size_t)len);
    free(buf);
    return 0;
}

/* ---------------------------------------------------------------- bench ----------------- */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void* a, const void* b)
{
    double x = *(const double*)a, y = *(const double*)b;
    return x < y ? -1 : x > y ? 1 : 0;
}

enum { BENCH_BOTH, BENCH_PROTECT, BENCH_UNPROTECT };

static int bench(long samples, long batch, long payload, long mki_len, int mode)
{
    Slot s;
    char spec[256];
    char* specs[1] = { spec };
    uint8_t pkt[12 + 2048 + ROOM];
    enum { STRIDE = 12 + 2048 + ROOM };
    double* t = (double*)calloc((size_t)samples, sizeof(double));
    uint8_t* held = mode == BENCH_UNPROTECT ? (uint8_t*)malloc((size_t)batch * STRIDE) : NULL;
    int* held_len = mode == BENCH_UNPROTECT ? (int*)malloc((size_t)batch * sizeof(int)) : NULL;
    if (t == NULL || (mode == BENCH_UNPROTECT && (held == NULL || held_len == NULL))) {
        free(t);
        free(held);
        free(held_len);
        return fail("alloc");
    }
    memset(&s, 0, sizeof(s));
    {
        char* w = spec;
        for (int i = 0; i < KEY_LEN; i++) w += sprintf(w, "%02x", (unsigned)(0x10 + i));
        *w++ = ':';
        for (int i = 0; i < SALT_LEN; i++) w += sprintf(w, "%02x", (unsigned)(0x40 + i));
        *w++ = ':';
        if (mki_len == 0) *w++ = '-';
        for (long i = 0; i < mki_len; i++) w += sprintf(w, "%02x", (unsigned)(0x10 + i));
        *w = '\0';
    }
    if (create_slot(&s, 0, specs, 1) != 0) {
        free(t);
        free(held);
        free(held_len);
        return -1;
    }
    uint16_t seq = 1;
    for (long k = -2; k < samples; k++) { /* two warm-up samples */
        if (mode == BENCH_UNPROTECT) {
            /* the packets of this sample, protected before the clock starts */
            for (long b = 0; b < batch; b++) {
                uint8_t* p = held + (size_t)b * STRIDE;
                int len = (int)(12 + payload);
                memset(p, 0xab, (size_t)len);
                p[0] = 0x80;
                p[1] = 0x00;
                p[2] = (uint8_t)(seq >> 8);
                p[3] = (uint8_t)seq;
                memset(p + 4, 0, 4);
                p[8] = 0x11; p[9] = 0x22; p[10] = 0x33; p[11] = 0x44;
                seq++;
                srtp_err_status_t st = srtp_protect_mki(s.tx, p, &len, (unsigned)s.use_mki, 0);
                if (st != srtp_err_status_ok) {
                    slot_free(&s);
                    free(t);
                    free(held);
                    free(held_len);
                    return fail_status(st);
                }
                held_len[b] = len;
            }
            double t0 = now_ms();
            for (long b = 0; b < batch; b++) {
                int len = held_len[b];
                srtp_err_status_t st = srtp_unprotect_mki(s.rx, held + (size_t)b * STRIDE, &len, (unsigned)s.use_mki);
                if (st != srtp_err_status_ok || len != 12 + payload) {
                    slot_free(&s);
                    free(t);
                    free(held);
                    free(held_len);
                    return fail_status(st);
                }
            }
            if (k >= 0) t[k] = (now_ms() - t0) / (double)batch;
            continue;
        }
        double t0 = now_ms();
        for (long b = 0; b < batch; b++) {
            int len = (int)(12 + payload);
            memset(pkt, 0xab, (size_t)len);
            pkt[0] = 0x80;
            pkt[1] = 0x00;
            pkt[2] = (uint8_t)(seq >> 8);
            pkt[3] = (uint8_t)seq;
            memset(pkt + 4, 0, 4);
            pkt[8] = 0x11; pkt[9] = 0x22; pkt[10] = 0x33; pkt[11] = 0x44;
            seq++;
            srtp_err_status_t st = srtp_protect_mki(s.tx, pkt, &len, (unsigned)s.use_mki, 0);
            if (st == srtp_err_status_ok && mode == BENCH_BOTH) st = srtp_unprotect_mki(s.rx, pkt, &len, (unsigned)s.use_mki);
            if (st != srtp_err_status_ok || (mode == BENCH_BOTH && len != 12 + payload)) {
                slot_free(&s);
                free(t);
                return fail_status(st);
            }
        }
        if (k >= 0) t[k] = (now_ms() - t0) / (double)batch;
    }
    slot_free(&s);
    free(held);
    free(held_len);
    double* sorted = (double*)malloc((size_t)samples * sizeof(double));
    if (sorted == NULL) {
        free(t);
        return fail("alloc");
    }
    memcpy(sorted, t, (size_t)samples * sizeof(double));
    qsort(sorted, (size_t)samples, sizeof(double), cmp_double);
    printf("ok %.6f", sorted[samples / 2]);
    for (long k = 0; k < samples; k++) printf(" %.6f", t[k]);
    free(sorted);
    free(t);
    return 0;
}

/* ---------------------------------------------------------------- dispatch -------------- */

static int dispatch(char** argv, int argc)
{
    const char* op = argv[0];
    long a, b, c, d;
    if (strcmp(op, "session") == 0) {
        if (argc < 4 || parse_int(argv[1], 0, SLOTS - 1, &a) != 0 || parse_int(argv[2], 0, 32768, &b) != 0) return fail("args");
        slot_free(&slots[a]);
        if (create_slot(&slots[a], b, argv + 3, argc - 3) != 0) return -1;
        fputs("ok", stdout);
        return 0;
    }
    if (strcmp(op, "protect") == 0 || strcmp(op, "protect-rtcp") == 0) {
        Slot* s = argc == 4 ? slot_of(argv[1]) : NULL;
        if (s == NULL || parse_int(argv[2], 0, MAX_KEYS - 1, &a) != 0) return fail("args");
        return transform(op[7] == '\0' ? PROTECT : PROTECT_RTCP, s, a, argv[3]);
    }
    if (strcmp(op, "unprotect") == 0 || strcmp(op, "unprotect-rtcp") == 0) {
        Slot* s = argc == 3 ? slot_of(argv[1]) : NULL;
        if (s == NULL) return fail("args");
        return transform(op[9] == '\0' ? UNPROTECT : UNPROTECT_RTCP, s, 0, argv[2]);
    }
    if (strcmp(op, "roc") == 0) {
        Slot* s = argc == 3 ? slot_of(argv[1]) : NULL;
        uint32_t roc = 0;
        if (s == NULL || parse_int(argv[2], 0, 0xffffffffL, &a) != 0) return fail("args");
        srtp_err_status_t st = srtp_get_stream_roc(s->rx, (uint32_t)a, &roc);
        if (st != srtp_err_status_ok) return fail_status(st);
        printf("ok %u", (unsigned)roc);
        return 0;
    }
    if (strcmp(op, "free") == 0) {
        if (argc != 2 || parse_int(argv[1], 0, SLOTS - 1, &a) != 0) return fail("args");
        slot_free(&slots[a]);
        fputs("ok", stdout);
        return 0;
    }
    if (strcmp(op, "bench") == 0) {
        int mode = BENCH_BOTH;
        if ((argc != 5 && argc != 6) || parse_int(argv[1], 1, 100000, &a) != 0 || parse_int(argv[2], 1, 100000, &b) != 0 ||
            parse_int(argv[3], 0, 2048, &c) != 0 || parse_int(argv[4], 0, 8, &d) != 0) {
            return fail("args");
        }
        if (argc == 6) {
            if (strcmp(argv[5], "protect") == 0) mode = BENCH_PROTECT;
            else if (strcmp(argv[5], "unprotect") == 0) mode = BENCH_UNPROTECT;
            else if (strcmp(argv[5], "both") != 0) return fail("args");
        }
        return bench(a, b, c, d, mode);
    }
    return fail("op");
}

int main(void)
{
    char* line = NULL;
    size_t cap = 0;
    ssize_t len;
    int status = 0;

    if (srtp_init() != srtp_err_status_ok) {
        fprintf(stderr, "srtp-harness: srtp_init failed\n");
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
            fputs("err empty", stdout);
        } else if (strcmp(argv[0], "quit") == 0) {
            break;
        } else if (argc > MAX_ARGS + 1) {
            fputs("err args", stdout);
        } else {
            reason[0] = '\0';
            if (dispatch(argv, argc) != 0) printf("err %s", reason[0] != '\0' ? reason : "failed");
        }
        putchar('\n');
        if (fflush(stdout) != 0) {
            status = 1;
            break;
        }
    }
    for (int i = 0; i < SLOTS; i++) slot_free(&slots[i]);
    free(line);
    srtp_shutdown();
    return status;
}

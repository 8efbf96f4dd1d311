/* Errors raised inside compiled kernels (`raise`, `assert`, bounds checks, the Python error
   model): the C half of runtime/raising.py, linked into every library whose kernels can raise.

   A kernel that raises calls ember_err_arg() for each value of its message, then
   ember_raise_at(site): the message is formatted here from the site's template (Python's
   format-spec mini-language on scalars), recorded in a thread-local record, and the call
   longjmps back to the frame its entry thunk (or prange worker) opened with ember_err_enter.
   Allocations of such kernels go through ember_tracked_alloc/free, a thread-local list, so the
   frame frees what the kernel had allocated when it raised. Nothing here runs for kernels
   that cannot raise. Only the ember_error_* accessors are exported (the JIT and the AOT
   loader read the record through them); everything else is hidden, so two libraries in one
   process never share state. */

#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HIDDEN __attribute__((visibility("hidden")))
#define EXPORT __attribute__((visibility("default")))
#define MAX_ARGS 16
#define MESSAGE 1024

typedef struct {          /* one raise site, emitted by runtime/raising.py as LLVM IR */
    const char *kind;     /* the exception's name: "ValueError", ...; ":value" appended when
                             the message is str() of one scalar, which Python gets back */
    int32_t line;
    const char *tmpl;     /* message template: text with {k} / {k:spec} fields */
    const char *tags;     /* one type letter per argument: d f q Q ? */
    const char *file;
    const char *func;
} site_t;

typedef struct {
    int32_t set, line, chunk;
    const char *kind, *file, *func;
    char message[MESSAGE];
} record_t;

typedef struct {          /* opened by a thunk on its stack (raising.FRAME_BYTES) */
    void *prev;
    size_t mark;
    jmp_buf jb;
} frame_t;

_Static_assert(sizeof(frame_t) <= 512, "raising.FRAME_BYTES is too small");
_Static_assert(sizeof(record_t) <= 1536, "raising.SLOT_BYTES is too small");

static __thread record_t error;
static __thread frame_t *current;
static __thread uint64_t values[MAX_ARGS];
static __thread void **tracked;
static __thread size_t used, capacity;
static pthread_mutex_t publish_lock = PTHREAD_MUTEX_INITIALIZER;

/* --- frames and tracked allocations ------------------------------------------------------ */
HIDDEN void *ember_err_enter(frame_t *frame) {
    frame->prev = current;
    frame->mark = used;
    current = frame;
    error.set = 0;
    return &frame->jb;
}

HIDDEN void ember_err_leave(frame_t *frame, int32_t raised) {
    if (raised)
        for (size_t k = used; k > frame->mark; k--) free(tracked[k - 1]);
    if (used > frame->mark) used = frame->mark;  /* on success, the rest is the caller's */
    current = frame->prev;
}

HIDDEN void *ember_tracked_alloc(int64_t size) {
    void *p = malloc(size > 0 ? (size_t)size : 1);
    if (used == capacity) {
        size_t grown = capacity ? 2 * capacity : 64;
        void **bigger = realloc(tracked, grown * sizeof *bigger);
        if (bigger == NULL) return p;   /* untracked: leaks only if the kernel raises */
        tracked = bigger;
        capacity = grown;
    }
    tracked[used++] = p;
    return p;
}

HIDDEN void ember_tracked_free(void *p) {
    for (size_t k = used; k > 0; k--)
        if (tracked[k - 1] == p) {
            memmove(&tracked[k - 1], &tracked[k], (used - k) * sizeof *tracked);
            used--;
            break;
        }
    free(p);
}

/* --- formatting: Python's str() and format spec on scalars --------------------------------- */
/* repr() of a float (`single`: of a float32, as NumPy prints it): the shortest digits that
   read back to the same value, in fixed notation for exponents -4..15, else scientific. */
static void repr_float(double x, int single, char *out, size_t n) {
    char buf[64], digits[32];
    int p, exp10;
    if (isnan(x)) { snprintf(out, n, "nan"); return; }
    if (isinf(x)) { snprintf(out, n, x < 0 ? "-inf" : "inf"); return; }
    for (p = 1; p < 17; p++) {
        snprintf(buf, sizeof buf, "%.*e", p - 1, x);
        if (single ? strtof(buf, NULL) == (float)x : strtod(buf, NULL) == x) break;
    }
    snprintf(buf, sizeof buf, "%.*e", p - 1, x);
    const char *s = buf;
    int neg = *s == '-', k = 0;
    if (neg) s++;
    for (; *s && *s != 'e'; s++) if (*s != '.') digits[k++] = *s;
    digits[k] = 0;
    exp10 = atoi(s + 1);
    while (k > 1 && digits[k - 1] == '0') digits[--k] = 0;
    char *o = out;
    size_t left = n;
#define PUT(...) do { int w = snprintf(o, left, __VA_ARGS__); if (w > 0 && (size_t)w < left) { o += w; left -= (size_t)w; } } while (0)
    if (neg) PUT("-");
    if (exp10 >= -4 && exp10 < 16) {
        if (exp10 >= 0) {
            for (int j = 0; j <= exp10; j++) PUT("%c", j < k ? digits[j] : '0');
            PUT(".%s", k > exp10 + 1 ? digits + exp10 + 1 : "0");
        } else {
            PUT("0.");
            for (int j = 0; j < -exp10 - 1; j++) PUT("0");
            PUT("%s", digits);
        }
    } else {
        PUT("%c", digits[0]);
        if (k > 1) PUT(".%s", digits + 1);
        PUT("e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
    }
#undef PUT
}

typedef struct {
    char fill[5];         /* one character, UTF-8 */
    char align, sign, type;
    int explicit_fill, alt, zero, width, precision, empty;
} spec_t;

static int utf8_length(unsigned char lead) {
    return lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
}

static const char *parse_spec(const char *s, spec_t *sp) {
    memset(sp, 0, sizeof *sp);
    strcpy(sp->fill, " ");
    sp->sign = '-';
    sp->precision = -1;
    sp->empty = *s == 0 || *s == '}';
    int n = *s ? utf8_length((unsigned char)*s) : 0;
    if (n && s[n] && strchr("<>=^", s[n])) {
        memcpy(sp->fill, s, (size_t)n);
        sp->fill[n] = 0;
        sp->explicit_fill = 1;
        sp->align = s[n];
        s += n + 1;
    } else if (*s && strchr("<>=^", *s)) {
        sp->align = *s++;
    }
    if (*s && strchr("+- ", *s)) sp->sign = *s++;
    if (*s == '#') { sp->alt = 1; s++; }
    if (*s == '0') { sp->zero = 1; s++; }
    while (*s >= '0' && *s <= '9') sp->width = 10 * sp->width + (*s++ - '0');
    if (*s == '.') {
        sp->precision = 0;
        s++;
        while (*s >= '0' && *s <= '9') sp->precision = 10 * sp->precision + (*s++ - '0');
    }
    if (*s && *s != '}') sp->type = *s++;
    return s;
}

static int sign_prefix(char sign, int negative, char *out) {
    if (negative) { *out = '-'; return 1; }
    if (sign == '+' || sign == ' ') { *out = sign; return 1; }
    return 0;
}

/* Digits of an integer (no sign) in the base of `type`, with its 0x/0o/0b prefix if `alt`. */
static void int_digits(uint64_t v, char type, int alt, char *out, size_t n) {
    char tmp[80];
    int k = 0;
    int base = type == 'x' || type == 'X' ? 16 : type == 'o' ? 8 : type == 'b' ? 2 : 10;
    const char *dig = type == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
    do { tmp[k++] = dig[v % base]; v /= base; } while (v);
    size_t j = 0;
    if (alt && base != 10 && n > 3) { out[j++] = '0'; out[j++] = type == 'X' ? 'X' : type == 'o' ? 'o' : type == 'b' ? 'b' : 'x'; }
    while (k && j + 1 < n) out[j++] = tmp[--k];
    out[j] = 0;
}

/* Python's format of a float with no type letter and a precision: 'g' that switches to
   exponent notation at exp >= precision - 1 and keeps one digit after a fixed point. */
static void general_no_type(double v, int prec, int alt, char *out, size_t n) {
    char buf[400];
    if (alt) snprintf(buf, sizeof buf, "%#.*e", prec - 1, v);  /* '#': keeps "3.e+00" */
    else snprintf(buf, sizeof buf, "%.*e", prec - 1, v);
    int exp10 = atoi(strchr(buf, 'e') + 1);
    if (exp10 < -4 || exp10 >= prec - 1) {
        char *e = strchr(buf, 'e');
        char *end = e;
        if (!alt && strchr(buf, '.')) {   /* drop trailing zeros of the mantissa */
            while (end[-1] == '0') end--;
            if (end[-1] == '.') end--;
        }
        snprintf(out, n, "%.*s%s", (int)(end - buf), buf, e);
        return;
    }
    snprintf(out, n, "%.*f", prec - 1 - exp10, v);
    if (!alt && strchr(out, '.')) {
        size_t k = strlen(out);
        while (out[k - 1] == '0') out[--k] = 0;
        if (out[k - 1] == '.') { out[k] = '0'; out[k + 1] = 0; }
    } else if (!strchr(out, '.')) {
        strncat(out, ".0", n - strlen(out) - 1);
    }
}

static void float_body(double x, const spec_t *sp, int single, char *out, size_t n) {
    char fmt[16], t = sp->type;
    int prec = sp->precision;
    double v = fabs(x);
    const char *percent = t == '%' ? "%" : "";
    if (isnan(x) || isinf(x)) {
        const char *w = isnan(x) ? "nan" : "inf";
        if (t && strchr("EFG", t)) w = isnan(x) ? "NAN" : "INF";
        snprintf(out, n, "%s%s", w, percent);
        return;
    }
    if (t == 0 && prec < 0) {
        repr_float(v, single, out, n);
        char *e = strchr(out, 'e');
        if (sp->alt && e && !strchr(out, '.') && strlen(out) + 1 < n) {  /* '#': 1.e+22 */
            memmove(e + 1, e, strlen(e) + 1);
            *e = '.';
        }
        return;
    }
    if (t == 0) { general_no_type(v, prec ? prec : 1, sp->alt, out, n); return; }
    if (t == '%') { v *= 100.0; t = 'f'; }
    snprintf(fmt, sizeof fmt, "%%%s.%d%c", sp->alt ? "#" : "", prec < 0 ? 6 : prec, t);
    snprintf(out, n, fmt, v);
    strncat(out, percent, n - strlen(out) - 1);
}

static void pad(const char *prefix, const char *body, const spec_t *sp, char *out,
                size_t n) {
    size_t len = strlen(prefix) + strlen(body);   /* ASCII: one byte a character */
    size_t width = sp->width > 0 ? (size_t)sp->width : 0, fill = width > len ? width - len : 0;
    char align = sp->align ? sp->align : (sp->zero ? '=' : '>');
    const char *c = sp->zero && !sp->explicit_fill ? "0" : sp->fill;
    size_t before = align == '<' || align == '=' ? 0 : align == '^' ? fill / 2 : fill;
    size_t after = align == '=' ? 0 : fill - before;
    size_t middle = align == '=' ? fill : 0, j = 0;
#define PUT(s) for (const char *q = (s); *q && j + 1 < n; q++) out[j++] = *q
    for (size_t k = 0; k < before; k++) { PUT(c); }
    PUT(prefix);
    for (size_t k = 0; k < middle; k++) { PUT(c); }
    PUT(body);
    for (size_t k = 0; k < after; k++) { PUT(c); }
#undef PUT
    out[j] = 0;
}

static void format_value(char tag, uint64_t bits, const spec_t *sp, char *out, size_t n) {
    char body[400], prefix[8] = {0};
    double d;
    if (tag == '?' && sp->empty) {   /* bool.__format__("") is str(); any spec formats 1/0 */
        snprintf(out, n, bits ? "True" : "False");
        return;
    }
    if (tag == 'd' || tag == 'f' || strchr("eEfFgG%", sp->type ? sp->type : 'x')) {
        if (tag == 'd') memcpy(&d, &bits, sizeof d);
        else if (tag == 'f') { float f; uint32_t b = (uint32_t)bits; memcpy(&f, &b, sizeof f); d = f; }
        else if (tag == 'Q') d = (double)bits;
        else d = (double)(int64_t)bits;
        float_body(d, sp, tag == 'f', body, sizeof body);
        sign_prefix(sp->sign, signbit(d) && !isnan(d), prefix);
        pad(prefix, body, sp, out, n);
        return;
    }
    int negative = tag == 'q' && (int64_t)bits < 0;
    uint64_t magnitude = negative ? (uint64_t)0 - bits : bits;
    char digits[80];
    int_digits(magnitude, sp->type, sp->alt, digits, sizeof digits);
    int k = sign_prefix(sp->sign, negative, prefix);
    if (digits[0] == '0' && digits[1] && strchr("xXob", digits[1])) {   /* 0x goes before padding */
        prefix[k++] = digits[0];
        prefix[k++] = digits[1];
        prefix[k] = 0;
        pad(prefix, digits + 2, sp, out, n);
        return;
    }
    pad(prefix, digits, sp, out, n);
}

static void format_message(const site_t *s, char *out, size_t n) {
    size_t j = 0;
    for (const char *p = s->tmpl; *p && j + 1 < n;) {
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            out[j++] = *p;
            p += 2;
            continue;
        }
        if (*p != '{') { out[j++] = *p++; continue; }
        int slot = (int)strtol(p + 1, (char **)&p, 10);
        spec_t sp;
        if (*p == ':') p = parse_spec(p + 1, &sp); else parse_spec("", &sp);
        if (*p == '}') p++;
        char piece[512];
        char tag = slot >= 0 && slot < MAX_ARGS && s->tags[slot] ? s->tags[slot] : 'q';
        format_value(tag, values[slot < MAX_ARGS && slot >= 0 ? slot : 0], &sp, piece, sizeof piece);
        for (const char *q = piece; *q && j + 1 < n; q++) out[j++] = *q;
    }
    out[j] = 0;
}

/* --- raising ------------------------------------------------------------------------------ */
HIDDEN void ember_err_arg(int32_t slot, int64_t bits) {
    if (slot >= 0 && slot < MAX_ARGS) values[slot] = (uint64_t)bits;
}

HIDDEN __attribute__((noreturn, cold)) void ember_raise_at(const site_t *s) {
    error.set = 1;
    error.kind = s->kind;
    error.line = s->line;
    error.file = s->file;
    error.func = s->func;
    error.chunk = 0;
    format_message(s, error.message, sizeof error.message);
    if (current == NULL) {   /* no frame: cannot happen through Ember's entry points */
        fprintf(stderr, "ember: kernel error outside a guarded call: %s\n", error.message);
        abort();
    }
    longjmp(current->jb, 1);
}

/* prange: each worker raises into its own frame; the error of the lowest chunk (the first
   in iteration order, as a sequential run would raise) is published to the launch's slot,
   and the launching thread raises it again after the parallel region. */
HIDDEN void ember_err_slot_init(record_t *slot) { slot->set = 0; }

HIDDEN void ember_err_publish(record_t *slot, int32_t chunk) {
    pthread_mutex_lock(&publish_lock);
    if (!slot->set || chunk < slot->chunk) {
        *slot = error;
        slot->chunk = chunk;
        slot->set = 1;
    }
    pthread_mutex_unlock(&publish_lock);
}

HIDDEN void ember_err_rethrow(record_t *slot) {
    if (!slot->set) return;
    error = *slot;
    if (current == NULL) abort();
    longjmp(current->jb, 1);
}

/* --- accessors (the JIT, the AOT loader and <lib>_last_error) ---------------------------- */
static __thread char text[MESSAGE + 1024];

/* "Kind: message (file, line N, in func)", or NULL when the last call did not raise: what
   an AOT library's <lib>_last_error() returns (hidden, so that libraries never mix). */
HIDDEN const char *ember_err_text(void) {
    if (!error.set) return NULL;
    int kind = (int)strcspn(error.kind, ":");   /* "KeyError:value" names KeyError */
    snprintf(text, sizeof text, "%.*s: %s (%s, line %d, in %s)", kind, error.kind,
             error.message, error.file ? error.file : "?", error.line,
             error.func ? error.func : "?");
    return text;
}

EXPORT const char *ember_error_kind(void) { return error.set ? error.kind : ""; }
EXPORT const char *ember_error_message(void) { return error.set ? error.message : ""; }
EXPORT const char *ember_error_file(void) { return error.set && error.file ? error.file : ""; }
EXPORT const char *ember_error_func(void) { return error.set && error.func ? error.func : ""; }
EXPORT int32_t ember_error_line(void) { return error.set ? error.line : 0; }

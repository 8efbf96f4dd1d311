/* The tape arena: the allocator of gradient libraries (runtime/tape.py builds it, every
   derivative library links it). Derivative code cannot use MLIR's buffer deallocation
   (Enzyme's output already frees its caches), so it allocates through
   _mlir_memref_to_llvm_alloc/_free here, and its entry thunk calls ember_arena_release() at
   the end of each call (also after a kernel raised), which takes back whatever the call left.

   Each thread has its own arena (a thread-local pointer, only read from C code: see
   `current`), whose memory is kept between calls: in steady state a gradient costs no malloc,
   no mmap/munmap and no page faults. Sizes are rounded up to a class (16-byte steps up to 64
   bytes, then four classes per power of two: at most 25% more than asked).
   - Small blocks (up to SMALL_MAX bytes: Enzyme's caches inside loops, millions per call)
     are carved from 1 MiB chunks with a 16-byte header; a freed one goes to its class's free
     list for the rest of the call, and release simply rewinds the chunks (O(chunks)).
   - Large blocks are malloc'ed with a 32-byte header and kept in a doubly linked live list;
     a freed one goes to its class's free list, which later calls reuse.
   Allocation and free are O(1). What a thread keeps between calls (its chunks, then its free
   large blocks) is bounded by $EMBER_TAPE_CACHE_MB (MiB, default 256, read when a library
   first allocates; 0 keeps nothing): beyond it memory goes back to malloc at release.
   ember_tape_trim() frees what the calling thread keeps (ember.release_tape_memory()); a
   thread's arena is freed when the thread exits.

   Everything is hidden (two libraries in one process never share an arena), except in JIT
   libraries ember_tape_trim/ember_tape_cached_bytes, which the JIT looks up in each library
   (compiled with -DEMBER_TAPE_EXPORT); an AOT library calls them from <lib>_release_tape_memory
   and <lib>_tape_cached_bytes of its C API. */

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#define HIDDEN __attribute__((visibility("hidden")))
#ifdef EMBER_TAPE_EXPORT            /* JIT libraries; an AOT library wraps them in its C API */
#define EXPORT __attribute__((visibility("default")))
#else
#define EXPORT HIDDEN
#endif
#define CLASSES 236                 /* 4 classes up to 64 bytes, then 4 per power of two */
#define SMALL_CLASSES 28            /* the classes up to SMALL_MAX */
#define SMALL_MAX 4096
#define SMALL ((uint64_t)1 << 32)   /* tag bit of a block carved from a chunk */
#define CHUNK ((size_t)1 << 20)
#define MAX_REQUEST ((int64_t)1 << 62)
#define DEFAULT_LIMIT_MB 256

/* Both headers end with the tag (class | SMALL for chunk blocks), just before the payload. */
typedef struct block {              /* a large block: 32 bytes, the payload 16-byte aligned */
    struct block *next, *prev;      /* live list (doubly linked) or free list (next only) */
    uint64_t bytes;                 /* header and class size */
    uint64_t tag;
} block_t;

typedef struct chunk {              /* 32 bytes, then `size` bytes carved in 16-byte steps */
    struct chunk *next;
    uint64_t size, used, unused;
} chunk_t;

typedef struct {
    block_t *live;                  /* large blocks in use */
    block_t *free[CLASSES];         /* free large blocks, kept across calls */
    void *small[SMALL_CLASSES];     /* free small blocks of this call (linked through them) */
    chunk_t *chunks, *cur;          /* all chunks; the one being carved (NULL: rewound) */
    size_t chunk_bytes, free_bytes, limit;
} arena_t;

/* Read only by the C functions below, which LLVM-generated code calls like any function: a
   thread's first access to a thread-local of a dlopen'ed library may grow its TLS vector
   inside `__tls_get_addr` (glibc's realloc/memcpy, which use xmm16-31 on AVX-512 machines),
   which LLVM's inline TLS sequence assumes preserves xmm16-31; behind a real call the kernel
   saves its registers itself. A thread-local rather than a pthread key: a process may load
   more derivative libraries than the 1024 keys glibc has; __cxa_thread_atexit_impl (what
   C++ thread_local destructors use) frees the arena at thread exit and keeps the library
   loaded until then. */
static __thread arena_t *current;
static pthread_once_t limit_once = PTHREAD_ONCE_INIT;
static size_t limit_bytes;

extern void *__dso_handle;
extern int __cxa_thread_atexit_impl(void (*)(void *), void *, void *) __attribute__((weak));

/* --- size classes -------------------------------------------------------------------------- */
static unsigned class_of(uint64_t n, uint64_t *size) {
    if (n <= 64) {
        uint64_t k = n ? (n + 15) >> 4 : 1;
        *size = k << 4;
        return (unsigned)k - 1;
    }
    unsigned lg = 63u - (unsigned)__builtin_clzll(n - 1);   /* 2^lg < n <= 2^(lg+1) */
    uint64_t quarter = (uint64_t)1 << (lg - 2);
    uint64_t q = (n - 1 - ((uint64_t)1 << lg)) >> (lg - 2);  /* 0..3 */
    *size = ((uint64_t)1 << lg) + (q + 1) * quarter;
    return 4 + (lg - 6) * 4 + (unsigned)q;
}

/* --- the thread's arena -------------------------------------------------------------------- */
static void read_limit(void) {
    const char *text = getenv("EMBER_TAPE_CACHE_MB");
    char *end = NULL;
    unsigned long long mb = text && *text ? strtoull(text, &end, 10) : DEFAULT_LIMIT_MB;
    if ((end != NULL && *end != '\0') || (text && *text == '-'))
        mb = DEFAULT_LIMIT_MB;                                  /* not a number: the default */
    limit_bytes = mb > (SIZE_MAX >> 20) ? SIZE_MAX : (size_t)mb << 20;
}

static void free_blocks(block_t *b) {
    while (b != NULL) {
        block_t *next = b->next;
        free(b);
        b = next;
    }
}

static void free_chunks(arena_t *a, chunk_t *c) {
    while (c != NULL) {
        chunk_t *next = c->next;
        a->chunk_bytes -= sizeof *c + c->size;
        free(c);
        c = next;
    }
}

/* Frees what the arena keeps; its chunks only between calls (none carved since release). */
static void trim(arena_t *a) {
    for (unsigned k = 0; k < CLASSES; k++) {
        free_blocks(a->free[k]);
        a->free[k] = NULL;
    }
    a->free_bytes = 0;
    if (a->cur == NULL) {
        free_chunks(a, a->chunks);
        a->chunks = NULL;
    }
}

static void destroy(void *p) {   /* at thread exit */
    arena_t *a = p;
    a->cur = NULL;
    trim(a);
    free_blocks(a->live);
    if (current == a) current = NULL;
    free(a);
}

static arena_t *create(void) {
    pthread_once(&limit_once, read_limit);
    arena_t *a = calloc(1, sizeof *a);
    if (a == NULL) return NULL;
    a->limit = limit_bytes;
    if (__cxa_thread_atexit_impl != NULL) __cxa_thread_atexit_impl(destroy, a, &__dso_handle);
    current = a;
    return a;
}

/* --- small blocks: carved from chunks ------------------------------------------------------ */
static chunk_t *next_chunk(arena_t *a, chunk_t *c) {
    chunk_t *next = c != NULL ? c->next : a->chunks;
    if (next == NULL) {
        next = malloc(CHUNK);
        if (next == NULL) return NULL;
        next->next = NULL;
        next->size = CHUNK - sizeof *next;
        a->chunk_bytes += CHUNK;
        if (c != NULL) c->next = next;
        else a->chunks = next;
    }
    next->used = 0;
    return next;
}

static void *small_alloc(arena_t *a, unsigned cls, uint64_t size) {
    void *p = a->small[cls];
    if (p != NULL) {
        a->small[cls] = *(void **)p;
        return p;
    }
    uint64_t need = size + 16;
    chunk_t *c = a->cur;
    while (c == NULL || c->used + need > c->size) {
        c = next_chunk(a, c);
        if (c == NULL) return NULL;
        a->cur = c;
    }
    uint64_t *base = (uint64_t *)((char *)(c + 1) + c->used);
    c->used += need;
    base[1] = cls | SMALL;
    return base + 2;
}

/* --- large blocks: malloc'ed, reused across calls ------------------------------------------ */
/* A large block leaves use: onto its free list while the bound allows, else back to malloc. */
static void retire(arena_t *a, block_t *b) {
    if (a->chunk_bytes + a->free_bytes + b->bytes > a->limit) {
        free(b);
        return;
    }
    b->next = a->free[b->tag];
    a->free[b->tag] = b;
    a->free_bytes += b->bytes;
}

static void *large_alloc(arena_t *a, unsigned cls, uint64_t size) {
    block_t *b = a->free[cls];
    if (b != NULL) {
        a->free[cls] = b->next;
        a->free_bytes -= b->bytes;
    } else {
        b = malloc(sizeof *b + size);
        if (b == NULL) return NULL;
        b->bytes = sizeof *b + size;
        b->tag = cls;
    }
    b->prev = NULL;
    b->next = a->live;
    if (a->live != NULL) a->live->prev = b;
    a->live = b;
    return b + 1;
}

/* --- the allocator of derivative code ------------------------------------------------------ */
HIDDEN void *_mlir_memref_to_llvm_alloc(int64_t request) {
    arena_t *a = current != NULL ? current : create();
    if (a == NULL || request > MAX_REQUEST) return NULL;
    uint64_t size;
    unsigned cls = class_of(request > 0 ? (uint64_t)request : 0, &size);
    return cls < SMALL_CLASSES ? small_alloc(a, cls, size) : large_alloc(a, cls, size);
}

HIDDEN void _mlir_memref_to_llvm_free(void *payload) {
    if (payload == NULL) return;
    arena_t *a = current;
    uint64_t tag = ((uint64_t *)payload)[-1];
    if (tag & SMALL) {
        unsigned cls = (unsigned)(tag & 0xff);
        *(void **)payload = a->small[cls];
        a->small[cls] = payload;
        return;
    }
    block_t *b = (block_t *)payload - 1;
    if (b->prev != NULL) b->prev->next = b->next;
    else a->live = b->next;
    if (b->next != NULL) b->next->prev = b->prev;
    retire(a, b);
}

/* End of a call (or of a raise): the chunks are rewound (those beyond the bound freed) and
   the large blocks the call left go back to the free lists. */
HIDDEN void ember_arena_release(void) {
    arena_t *a = current;
    if (a == NULL) return;
    for (unsigned k = 0; k < SMALL_CLASSES; k++) a->small[k] = NULL;
    a->cur = NULL;
    chunk_t **keep;
    size_t kept = 0;
    for (keep = &a->chunks; *keep != NULL; keep = &(*keep)->next) {
        if (kept + sizeof **keep + (*keep)->size > a->limit) break;
        kept += sizeof **keep + (*keep)->size;
    }
    free_chunks(a, *keep);
    *keep = NULL;
    block_t *b = a->live;
    a->live = NULL;
    while (b != NULL) {
        block_t *next = b->next;
        retire(a, b);
        b = next;
    }
}

/* --- exported: ember.release_tape_memory() and ember.tape_cached_bytes() ----------------- */
EXPORT void ember_tape_trim(void) {
    if (current != NULL) trim(current);
}

EXPORT uint64_t ember_tape_cached_bytes(void) {
    return current != NULL ? current->chunk_bytes + current->free_bytes : 0;
}

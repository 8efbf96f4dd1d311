/* ember._dispatch: the fast call path of compiled kernels (the base class of ember.Kernel).

   A Dispatcher holds the address of a kernel's packed thunk (ember_pk_<name>, see
   runtime/thunk.py) and one letter per parameter. A call converts the arguments straight into
   8-byte slots (numpy arrays as PyObject*, checked natively by the thunk; Python floats and ints
   as C values), releases the GIL, calls the thunk and boxes the result: nothing, one item or a
   tuple of items (result spec "t" + the items, stored one after the other in 8-byte slots, as
   derivative entries return the value and the scalar gradients). An item is a scalar (its
   letter, one slot) or an array (its rank as a digit and its element's letter: the memref
   descriptor's 3 + 2 * rank fields, runtime/abi.py MEMREF_LAYOUT), made into an ndarray here
   (see box_array: who owns its memory). Kernels with defaults, keyword-only, tuple or
   Optional parameters bind keywords, defaults and tuples here too (`bound`, see Dispatcher).
   Anything else (keywords of plain kernels, numpy scalars, bools for ints, a rejected array)
   goes to the `slow`
   Python callable, which gives the same results and the precise errors. A kernel that raised
   (status 2) is not run again: `raise_error` raises its exception. A derivative entry (grad,
   value_and_grad: `derivative`, see run_derivative) binds the primal arguments the same way,
   adds zeroed shadows and the seed, and packs the gradients as runtime/derivcall.py does. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define MAX_ARGS 32
#if defined(__GNUC__) || defined(__clang__)
#define ALWAYS_INLINE inline __attribute__((always_inline))  /* the hot path: one call */
#else
#define ALWAYS_INLINE inline
#endif
#define MAX_RESULTS 16       /* items of a tuple result */
#define MAX_RESULT_SLOTS 64  /* driver/cpu.py MAX_RESULT_SLOTS */

typedef int32_t (*packed_fn)(void **slots, void *result);

typedef struct {
    PyObject_HEAD
    packed_fn fn;
    int nargs;
    char spec[MAX_ARGS + 1];
    char result[2 * MAX_RESULTS + 2];
    PyObject *slow;
    PyObject *ndarray;
    PyObject *raise_error;  /* called when the kernel raised (status 2); may be NULL */
    PyObject *dtypes;       /* tuple: the dtype of each array of the result */
    Py_ssize_t nitems;      /* items of a tuple result */
    /* Kernels with defaults, keyword-only, tuple or Optional parameters (`bound`): `params`
       has one entry per Python parameter (a letter; 'N': must be None, passed no slot; or
       '(' letters ')': an exact-size tuple unpacked into consecutive slots) and `spec` one
       letter per slot. Arguments bind by position, then keywords by name (interned pointer
       first), then defaults; anything unusual takes the slow path, which raises the
       precise TypeError. */
    int bound, nparams, npositional;  /* bound: every call binds (else only keyword calls) */
    char params[3 * MAX_ARGS + 1];
    PyObject *names;        /* tuple of str (None: positional-only), one per parameter */
    PyObject *defaults;     /* tuple, one per parameter: its default, or Ellipsis: none */
    /* Derivative entries (grad, value_and_grad; see run_derivative): `spec` has the slots of
       the primal arguments; the thunk takes a zeroed shadow after each slot `shadowed` marks
       'S', then the seed 1.0 of letter `seed` (0: no float result), and returns the value and
       the scalar gradients. Each of the `npicks` gradients is result item k (k >= 0) or
       shadow j (-1 - j). */
    char derivative;        /* 0: a kernel; 'g': grad; 'v': value_and_grad */
    char seed;
    int single, npicks;     /* single: the gradient alone, else a tuple of them */
    char shadowed[MAX_ARGS + 1];
    int picks[MAX_ARGS];
} Dispatcher;

typedef union {
    double d; float f; int64_t q; uint64_t Q; int32_t i; uint32_t I; int16_t h; uint16_t H;
    int8_t b; uint8_t B; void *p; PyObject *o;
} Value;

static int to_double(PyObject *o, double *out) {
    if (PyFloat_Check(o)) { *out = PyFloat_AS_DOUBLE(o); return 1; }  /* np.float64 too */
    if (PyLong_CheckExact(o)) {
        *out = PyLong_AsDouble(o);
        if (*out == -1.0 && PyErr_Occurred()) { PyErr_Clear(); return 0; }
        return 1;
    }
    return 0;
}

static int to_int(PyObject *o, int64_t lo, int64_t hi, int64_t *out) {
    int overflow = 0;
    if (!PyLong_CheckExact(o)) return 0;
    *out = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow || (*out == -1 && PyErr_Occurred())) { PyErr_Clear(); return 0; }
    return *out >= lo && *out <= hi;
}

static int to_uint(PyObject *o, uint64_t hi, uint64_t *out) {
    if (!PyLong_CheckExact(o)) return 0;
    *out = PyLong_AsUnsignedLongLong(o);
    if (*out == (uint64_t)-1 && PyErr_Occurred()) { PyErr_Clear(); return 0; }
    return *out <= hi;
}

/* Fill slot k from argument o according to code c; 0 means "take the slow path". */
static int convert(Dispatcher *self, char c, PyObject *o, Value *slot) {
    double d; int64_t q; uint64_t u;
    switch (c) {
    case 'A': if ((PyObject *)Py_TYPE(o) != self->ndarray) return 0;
              memcpy(slot, &o, sizeof o); return 1;
    case 'd': if (!to_double(o, &d)) return 0; slot->d = d; return 1;
    case 'f': if (!to_double(o, &d)) return 0; slot->f = (float)d; return 1;
    case '?': if (o == Py_True) slot->B = 1; else if (o == Py_False) slot->B = 0; else return 0;
              return 1;
    case 'q': if (!to_int(o, INT64_MIN, INT64_MAX, &q)) return 0; slot->q = q; return 1;
    case 'i': if (!to_int(o, INT32_MIN, INT32_MAX, &q)) return 0; slot->i = (int32_t)q; return 1;
    case 'h': if (!to_int(o, INT16_MIN, INT16_MAX, &q)) return 0; slot->h = (int16_t)q; return 1;
    case 'b': if (!to_int(o, INT8_MIN, INT8_MAX, &q)) return 0; slot->b = (int8_t)q; return 1;
    case 'Q': if (!to_uint(o, UINT64_MAX, &u)) return 0; slot->Q = u; return 1;
    case 'I': if (!to_uint(o, UINT32_MAX, &u)) return 0; slot->I = (uint32_t)u; return 1;
    case 'H': if (!to_uint(o, UINT16_MAX, &u)) return 0; slot->H = (uint16_t)u; return 1;
    case 'B': if (!to_uint(o, UINT8_MAX, &u)) return 0; slot->B = (uint8_t)u; return 1;
    case 'D': case 'F':  /* the thunk reads the two doubles (runtime/complex_abi.py) */
              if (!PyComplex_CheckExact(o)) return 0;
              slot->p = &((PyComplexObject *)o)->cval; return 1;
    default: return 0;
    }
}

static PyObject *box(char c, Value *r) {
    switch (c) {
    case 'v': Py_RETURN_NONE;
    case 'd': return PyFloat_FromDouble(r->d);
    case 'f': return PyFloat_FromDouble((double)r->f);
    case '?': return PyBool_FromLong(r->B & 1);
    case 'q': return PyLong_FromLongLong(r->q);
    case 'i': return PyLong_FromLong(r->i);
    case 'h': return PyLong_FromLong(r->h);
    case 'b': return PyLong_FromLong(r->b);
    case 'Q': return PyLong_FromUnsignedLongLong(r->Q);
    case 'I': return PyLong_FromUnsignedLong(r->I);
    case 'H': return PyLong_FromLong(r->H);
    case 'B': return PyLong_FromLong(r->B);
    case 'D': return PyComplex_FromDoubles(r[0].d, r[1].d);  /* two slots */
    case 'F': return PyComplex_FromDoubles(((float *)r)[0], ((float *)r)[1]);
    default: PyErr_SetString(PyExc_SystemError, "ember: unknown result code"); return NULL;
    }
}

/* --- array results ------------------------------------------------------------------------ */
/* numpy's C API, reached through its capsule as numpy's own import_array() does, so that the
   extension builds without numpy's headers: slots of the numpy 2 ABI table, which numpy keeps
   stable (tests/test_array_results.py checks them against the installed headers). */
#define NPY_ABI_2 0x02000000u
#define API_GET_NDARRAY_C_VERSION 0
#define API_DESCR_TYPE 3
#define API_NEW_FROM_DESCR 94
#define API_SET_BASE_OBJECT 282
#define API_ZEROS 183
#define NPY_WRITEABLE 0x0400
#define NPY_C_CONTIGUOUS 0x0001
#define MAX_NDIM 9

typedef PyObject *(*new_from_descr_fn)(PyTypeObject *, PyObject *descr, int nd,
                                       const Py_ssize_t *dims, const Py_ssize_t *strides,
                                       void *data, int flags, PyObject *obj);
static new_from_descr_fn new_from_descr;
static int (*set_base_object)(PyObject *array, PyObject *base);  /* steals base */
static PyTypeObject *descr_type;
static PyObject *(*zeros)(int nd, const Py_ssize_t *dims, PyObject *descr, int fortran);

typedef struct {  /* the head of numpy 2's PyArrayObject_fields (runtime/abi.py) */
    PyObject_HEAD
    char *data;
    int nd;
    Py_ssize_t *dims, *strides;
    PyObject *base, *descr;
    int flags;
} ArrayHead;

static int load_numpy(void) {
    if (new_from_descr != NULL) return 1;
    PyObject *module = PyImport_ImportModule("numpy._core._multiarray_umath");
    PyObject *capsule = module ? PyObject_GetAttrString(module, "_ARRAY_API") : NULL;
    Py_XDECREF(module);
    void **api = capsule && PyCapsule_CheckExact(capsule) ? PyCapsule_GetPointer(capsule, NULL)
                                                          : NULL;
    Py_XDECREF(capsule);  /* the table lives as long as numpy, which is never unloaded */
    PyErr_Clear();
    if (api == NULL || ((unsigned (*)(void))api[API_GET_NDARRAY_C_VERSION])() != NPY_ABI_2)
        return 0;
    descr_type = (PyTypeObject *)api[API_DESCR_TYPE];
    set_base_object = (int (*)(PyObject *, PyObject *))api[API_SET_BASE_OBJECT];
    new_from_descr = (new_from_descr_fn)api[API_NEW_FROM_DESCR];
    zeros = (PyObject *(*)(int, const Py_ssize_t *, PyObject *, int))api[API_ZEROS];
    return 1;
}

/* The owner of a buffer a kernel allocated: the base of the ndarray made of it, freeing the
   buffer when the array dies (with libc's free, as runtime/call.py's _Owner). */
typedef struct {
    PyObject_HEAD
    void *allocated;
} Buffer;

static PyTypeObject *buffer_type;
static Py_ssize_t live_buffers;  /* for tests: owners alive (under the GIL) */

static PyObject *buffer_new(void *allocated) {
    Buffer *b = PyObject_New(Buffer, buffer_type);
    if (b == NULL) { free(allocated); return NULL; }
    b->allocated = allocated;
    live_buffers++;
    return (PyObject *)b;
}

static void buffer_dealloc(PyObject *op) {
    PyTypeObject *tp = Py_TYPE(op);
    free(((Buffer *)op)->allocated);
    live_buffers--;
    PyObject_Free(op);
    Py_DECREF(tp);
}

/* The array argument whose buffer a result with this `allocated` pointer lies in: the thunks
   pass a numpy array's data pointer as both `allocated` and `aligned`, and views keep it. */
static PyObject *borrowed_from(Dispatcher *self, void *allocated, Value *args) {
    if (allocated == NULL) return NULL;
    for (int k = 0; k < self->nargs; k++)
        if (self->spec[k] == 'A' && ((ArrayHead *)args[k].o)->data == allocated) return args[k].o;
    return NULL;
}

static Py_ssize_t item_size(char c) {
    switch (c) {
    case 'D': return 16;
    case 'd': case 'q': case 'Q': case 'F': return 8;
    case 'f': case 'i': case 'I': return 4;
    case 'h': case 'H': return 2;
    default: return 1;
    }
}

/* Whether array a is exactly the array of (data, nd, dims, strides). */
static int same_array(ArrayHead *a, char *data, int nd, Py_ssize_t *dims, Py_ssize_t *strides) {
    if (a->data != data || a->nd != nd) return 0;
    for (int d = 0; d < nd; d++)
        if (a->dims[d] != dims[d] || (dims[d] > 1 && a->strides[d] != strides[d])) return 0;
    return 1;
}

/* The ndarray of descriptor r (rank nd, element letter c). Its base keeps the memory alive:
   the argument it was borrowed from (it shares its writability; numpy collapses a view's
   base to the array owning the memory, as slicing does), else a Buffer owning what the
   kernel allocated. */
/* The Buffers made while boxing one result, by the memory they own (each held here once):
   arrays of one result in the same buffer (`return out, out[1:]`) share one owner. */
typedef struct {
    int n;
    void *allocated[MAX_RESULTS];
    PyObject *buffer[MAX_RESULTS];
} Owners;

/* A new reference to the owner of `allocated` (made on first use), or NULL on error. */
static PyObject *owner_of(Owners *owners, void *allocated) {
    for (int k = 0; k < owners->n; k++)
        if (owners->allocated[k] == allocated) return Py_NewRef(owners->buffer[k]);
    PyObject *buffer = buffer_new(allocated);
    if (buffer == NULL) return NULL;
    owners->allocated[owners->n] = allocated;  /* n < MAX_RESULTS: one per item at most */
    owners->buffer[owners->n++] = Py_NewRef(buffer);
    return buffer;
}

/* Drop the references `owners` holds (memory no array kept is freed with its owner). */
static void release_owners(Owners *owners) {
    for (int k = 0; k < owners->n; k++) Py_DECREF(owners->buffer[k]);
    owners->n = 0;
}

static PyObject *box_array(Dispatcher *self, int nd, char c, PyObject *descr, Value *r,
                           Value *args, Owners *owners) {
    static int64_t empty;  /* data of an empty result without memory (NULL makes numpy allocate) */
    PyObject *arg = borrowed_from(self, r[0].p, args), *base;
    int flags = NPY_WRITEABLE;
    if (arg != NULL) {
        base = Py_NewRef(arg);
        flags = ((ArrayHead *)arg)->flags & NPY_WRITEABLE;
    } else if ((base = owner_of(owners, r[0].p)) == NULL) {
        return NULL;
    }
    Py_ssize_t size = item_size(c), dims[MAX_NDIM], strides[MAX_NDIM];
    for (int d = 0; d < nd; d++) {
        dims[d] = r[3 + d].q;
        strides[d] = r[3 + nd + d].q * size;
    }
    char *data = r[1].p ? (char *)r[1].p + r[2].q * size : (char *)&empty;
    if (arg != NULL && same_array((ArrayHead *)arg, data, nd, dims, strides)) {
        Py_DECREF(base);
        return Py_NewRef(arg);  /* the argument itself, returned (as Numba returns it) */
    }
    PyObject *out = new_from_descr((PyTypeObject *)self->ndarray, Py_NewRef(descr), nd, dims,
                                   strides, data, flags, NULL);
    if (out == NULL) { Py_DECREF(base); return NULL; }
    if (set_base_object(out, base) < 0) { Py_DECREF(out); return NULL; }
    return out;
}

/* Free what the array items of result spec `code` on (slots from r) own: they are not boxed.
   Memory an item already boxed (or another discarded item) lies in is freed once, by its
   owner, when release_owners drops it. */
static void discard(Dispatcher *self, const char *code, Value *r, Value *args, Owners *owners) {
    for (; *code; code++, r++)
        if (*code == 'D') r++;  /* two slots */
        else if (*code >= '0' && *code <= '9') {
            if (borrowed_from(self, r[0].p, args) == NULL) {
                PyObject *owner = owner_of(owners, r[0].p);
                if (owner == NULL) { PyErr_Clear(); free(r[0].p); }  /* out of memory */
                Py_XDECREF(owner);
            }
            r += 2 + 2 * (*code - '0');
            code++;
        }
}

static PyObject *slow_call(Dispatcher *self, PyObject *args, PyObject *kwargs) {
    if (self->slow == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "ember: kernel has no call path");
        return NULL;
    }
    return PyObject_Call(self->slow, args, kwargs);
}

/* Box the item of result spec *code in the slots from *r; advance both past it. */
static PyObject *box_item(Dispatcher *self, const char **code, Value **r, Py_ssize_t *array,
                          Value *args, Owners *owners) {
    const char *c = *code;
    Value *slots = *r;
    if (c[0] < '0' || c[0] > '9') {
        *code += 1;
        *r += c[0] == 'D' ? 2 : 1;  /* a complex128 fills two slots */
        return box(c[0], slots);
    }
    int nd = c[0] - '0';
    *code += 2;
    *r += 3 + 2 * nd;
    return box_array(self, nd, c[1], PyTuple_GET_ITEM(self->dtypes, (*array)++), slots, args,
                     owners);
}

static PyObject *box_all(Dispatcher *self, Value *results, Value *args) {
    const char *code = self->result;
    Py_ssize_t array = 0;
    Owners owners;  /* only owners.n is read before an entry is written */
    PyObject *out = NULL;
    owners.n = 0;
    if (code[0] != 't') {
        out = box_item(self, &code, &results, &array, args, &owners);
        release_owners(&owners);
        return out;
    }
    code++;
    out = PyTuple_New(self->nitems);
    for (Py_ssize_t k = 0; out != NULL && *code; k++) {
        PyObject *item = box_item(self, &code, &results, &array, args, &owners);
        if (item == NULL) Py_CLEAR(out);
        else PyTuple_SET_ITEM(out, k, item);
    }
    if (out == NULL) discard(self, code, results, args, &owners);
    release_owners(&owners);
    return out;
}

/* The parameter named `key`, or -1. */
static int param_index(Dispatcher *self, PyObject *key) {
    for (int k = 0; k < self->nparams; k++)
        if (PyTuple_GET_ITEM(self->names, k) == key) return k;
    if (!PyUnicode_Check(key)) return -1;
    for (int k = 0; k < self->nparams; k++) {
        PyObject *name = PyTuple_GET_ITEM(self->names, k);
        if (name != Py_None && PyUnicode_Compare(name, key) == 0) return k;
    }
    PyErr_Clear();
    return -1;
}

/* Bind args/kwargs to one object per parameter (borrowed); 0: take the slow path. */
static int bind_params(Dispatcher *self, PyObject *args, PyObject *kwargs, PyObject **given) {
    Py_ssize_t n = PyTuple_GET_SIZE(args), pos = 0;
    PyObject *key, *value;
    if (n > self->npositional) return 0;
    for (int k = 0; k < self->nparams; k++) given[k] = k < n ? PyTuple_GET_ITEM(args, k) : NULL;
    while (kwargs && PyDict_Next(kwargs, &pos, &key, &value)) {
        int k = param_index(self, key);
        if (k < 0 || given[k] != NULL) return 0;
        given[k] = value;
    }
    for (int k = 0; k < self->nparams; k++)
        if (given[k] == NULL && (given[k] = PyTuple_GET_ITEM(self->defaults, k)) == Py_Ellipsis)
            return 0;
    return 1;
}

/* Convert bound parameters into slots following `params`; 0: take the slow path. */
static int convert_params(Dispatcher *self, PyObject **given, Value *slots) {
    const char *c = self->params;
    int slot = 0;
    for (int k = 0; k < self->nparams; k++, c++) {
        PyObject *o = given[k];
        if (*c == 'N') {
            if (o != Py_None) return 0;
        } else if (*c == '(') {
            Py_ssize_t size = strchr(c, ')') - c - 1;
            if (!PyTuple_Check(o) || PyTuple_GET_SIZE(o) != size) return 0;
            for (Py_ssize_t i = 0; i < size; i++)
                if (!convert(self, *++c, PyTuple_GET_ITEM(o, i), &slots[slot++])) return 0;
            c++;
        } else if (!convert(self, *c, o, &slots[slot++])) {
            return 0;
        }
    }
    return 1;
}

static ALWAYS_INLINE PyObject *run_packed(Dispatcher *self, Value *slots, PyObject *args,
                                          PyObject *kwargs);
static PyObject *run_derivative(Dispatcher *self, Value *primal, PyObject *args,
                                PyObject *kwargs);
static PyObject *failed(Dispatcher *self, int32_t status, PyObject *args, PyObject *kwargs);

static PyObject *bound_call(Dispatcher *self, PyObject *args, PyObject *kwargs) {
    PyObject *given[MAX_ARGS];
    Value slots[MAX_ARGS];
    if (!bind_params(self, args, kwargs, given) || !convert_params(self, given, slots))
        return slow_call(self, args, kwargs);
    return run_packed(self, slots, args, kwargs);
}

static PyObject *dispatcher_call(PyObject *op, PyObject *args, PyObject *kwargs) {
    Dispatcher *self = (Dispatcher *)op;
    Py_ssize_t n = PyTuple_GET_SIZE(args);
    Value slots[MAX_ARGS];
    if (self->fn == NULL || self->bound || n != self->nargs || (kwargs && PyDict_GET_SIZE(kwargs)))
        return self->names && self->fn ? bound_call(self, args, kwargs)
                                       : slow_call(self, args, kwargs);
    for (Py_ssize_t k = 0; k < n; k++)
        if (!convert(self, self->spec[k], PyTuple_GET_ITEM(args, k), &slots[k]))
            return slow_call(self, args, kwargs);
    return run_packed(self, slots, args, kwargs);
}

/* Call the packed thunk on converted slots and box its result. */
static ALWAYS_INLINE PyObject *run_packed(Dispatcher *self, Value *slots, PyObject *args,
                                          PyObject *kwargs) {
    Value results[MAX_RESULT_SLOTS];
    int32_t status;
    if (self->derivative) return run_derivative(self, slots, args, kwargs);
    Py_BEGIN_ALLOW_THREADS
    status = self->fn((void **)slots, results);
    Py_END_ALLOW_THREADS
    if (status == 0)
        return box_all(self, results, slots);
    return failed(self, status, args, kwargs);
}

/* After status 2 (the kernel raised: never run again) raise its error; after status 1 (an
   argument rejected before running) the slow path explains or converts. */
static PyObject *failed(Dispatcher *self, int32_t status, PyObject *args, PyObject *kwargs) {
    if (status == 2 && self->raise_error != NULL) {
        PyObject *r = PyObject_CallNoArgs(self->raise_error);
        if (r == NULL) return NULL;
        Py_DECREF(r);
        PyErr_SetString(PyExc_SystemError, "ember: a kernel error was not raised");
        return NULL;
    }
    return slow_call(self, args, kwargs);
}

/* --- derivative entries ------------------------------------------------------------------- */
/* Gradient k of a derivative: a new reference to result item k or shadow -1 - k. */
static PyObject *pick(PyObject *results, PyObject **shadows, int k) {
    return Py_NewRef(k >= 0 ? PyTuple_GET_ITEM(results, k) : shadows[-1 - k]);
}

/* What grad (the gradient, or a tuple of them) or value_and_grad ((value, gradient))
   returns, from the boxed `results` (None or a tuple: the value first if there is a seed). */
static PyObject *pack_derivative(Dispatcher *self, PyObject *results, PyObject **shadows) {
    PyObject *grad;
    if (self->single)
        grad = pick(results, shadows, self->picks[0]);
    else if ((grad = PyTuple_New(self->npicks)) != NULL)
        for (int k = 0; k < self->npicks; k++)
            PyTuple_SET_ITEM(grad, k, pick(results, shadows, self->picks[k]));
    if (grad == NULL || self->derivative == 'g') return grad;
    PyObject *out = PyTuple_Pack(2, self->seed ? PyTuple_GET_ITEM(results, 0) : Py_None, grad);
    Py_DECREF(grad);
    return out;
}

/* The derivative entry's slots: the primal slots, a fresh zeroed shadow (np.zeros of the
   primal's shape and dtype) after each one marked, then the seed. 0: take the slow path
   (a non-contiguous primal; an exception set if allocating failed). */
static int expand_slots(Dispatcher *self, Value *primal, Value *slots, PyObject **shadows,
                        int *nshadows) {
    int n = 0;
    for (int k = 0; k < self->nargs; k++) {
        slots[n++] = primal[k];
        if (self->shadowed[k] != 'S') continue;
        ArrayHead *a = (ArrayHead *)primal[k].o;
        if (!(a->flags & NPY_C_CONTIGUOUS)) return 0;  /* the slow path copies it */
        slots[n++].o = zeros(a->nd, a->dims, Py_NewRef(a->descr), 0);
        if (slots[n - 1].o == NULL) return 0;
        shadows[(*nshadows)++] = slots[n - 1].o;
    }
    if (self->seed == 'f') slots[n].f = 1.0f;
    else if (self->seed == 'd') slots[n].d = 1.0;
    return 1;
}

static void release(PyObject **objects, int n) {
    for (int k = 0; k < n; k++) Py_DECREF(objects[k]);
}

/* Call a derivative entry (grad, value_and_grad) on converted primal slots. */
static PyObject *run_derivative(Dispatcher *self, Value *primal, PyObject *args,
                                PyObject *kwargs) {
    Value slots[MAX_ARGS], results[MAX_RESULT_SLOTS];
    PyObject *shadows[MAX_ARGS], *boxed, *out;
    int nshadows = 0;
    int32_t status;
    if (!expand_slots(self, primal, slots, shadows, &nshadows)) {
        release(shadows, nshadows);
        return PyErr_Occurred() ? NULL : slow_call(self, args, kwargs);
    }
    Py_BEGIN_ALLOW_THREADS
    status = self->fn((void **)slots, results);
    Py_END_ALLOW_THREADS
    if (status != 0) {
        release(shadows, nshadows);
        return failed(self, status, args, kwargs);
    }
    boxed = box_all(self, results, slots);
    out = boxed ? pack_derivative(self, boxed, shadows) : NULL;
    Py_XDECREF(boxed);
    release(shadows, nshadows);
    return out;
}

/* Check result spec `spec` (see the top of this file); count its items and arrays. */
static int parse_result(const char *spec, Py_ssize_t *items, Py_ssize_t *arrays) {
    static const char scalars[] = "dfqihbQIHB?DF";
    const char *c = spec + (spec[0] == 't');
    int slots = 0;
    *items = *arrays = 0;
    if (spec[0] == 'v') return spec[1] == 0;
    for (; *c; (*items)++) {
        int nd = *c >= '0' && *c <= '9' ? *c++ - '0' : -1;
        if (*c == 0 || strchr(scalars, *c++) == NULL) return 0;
        slots += nd < 0 ? 1 + (c[-1] == 'D') : 3 + 2 * nd;
        *arrays += nd >= 0;
    }
    return slots <= MAX_RESULT_SLOTS && (spec[0] == 't' ? *items <= MAX_RESULTS : *items == 1);
}

static int set_bound_error(void) {
    PyErr_SetString(PyExc_ValueError, "ember: unsupported dispatcher binding");
    return 0;
}

/* Take the binding of `bound` (None, or (params, names, defaults, npositional): see
   Dispatcher) for the slot letters `spec`; 0 with an exception if it does not fit. */
static int set_bound(Dispatcher *self, PyObject *bound, const char *spec) {
    const char *params;
    PyObject *names, *defaults;
    int npositional, slots = 0, nparams = 0;
    self->bound = 0;
    if (bound == Py_None) {
        Py_CLEAR(self->names);
        return 1;
    }
    if (!PyArg_ParseTuple(bound, "sO!O!i", &params, &PyTuple_Type, &names, &PyTuple_Type,
                          &defaults, &npositional))
        return 0;
    for (const char *c = params; *c; c++)
        slots += *c != '(' && *c != ')' && *c != 'N';
    for (const char *c = params; *c; c++, nparams++)  /* a group counts once */
        if (*c == '(' && (c = strchr(c, ')')) == NULL) return set_bound_error();
    if (strlen(params) > 3 * MAX_ARGS || slots != (int)strlen(spec) || nparams > MAX_ARGS
            || PyTuple_GET_SIZE(names) != nparams || PyTuple_GET_SIZE(defaults) != nparams)
        return set_bound_error();
    for (int k = 0; k < nparams; k++)
        if (!PyUnicode_Check(PyTuple_GET_ITEM(names, k)) && PyTuple_GET_ITEM(names, k) != Py_None) {
            PyErr_SetString(PyExc_TypeError, "ember: parameter names must be str or None");
            return 0;
        }
    Py_XSETREF(self->names, Py_NewRef(names));
    Py_XSETREF(self->defaults, Py_NewRef(defaults));
    strcpy(self->params, params);
    self->nparams = nparams;
    self->npositional = npositional;
    /* plain positional parameters bind here only for calls with keywords */
    self->bound = strcmp(params, spec) != 0 || npositional != nparams;
    for (int k = 0; k < nparams; k++)
        self->bound |= PyTuple_GET_ITEM(defaults, k) != Py_Ellipsis;
    return 1;
}

static int set_derivative_error(void) {
    PyErr_SetString(PyExc_ValueError, "ember: unsupported derivative plan");
    return 0;
}

/* Take the derivative plan `deriv` (None: a kernel; or (kind 'grad' | 'value_and_grad',
   shadowed, seed letter or '', picks, single): see Dispatcher) for primal slots `spec` and
   result spec `result` with `nitems` items; 0 with an exception if it does not fit. */
static int set_derivative(Dispatcher *self, PyObject *deriv, const char *spec,
                          const char *result, Py_ssize_t nitems) {
    const char *kind, *shadowed, *seed;
    PyObject *picks;
    int single, slots = 0;
    self->derivative = 0;
    if (deriv == Py_None) return 1;
    if (!PyArg_ParseTuple(deriv, "sssO!p", &kind, &shadowed, &seed, &PyTuple_Type, &picks,
                          &single))
        return 0;
    Py_ssize_t npicks = PyTuple_GET_SIZE(picks), items = result[0] == 't' ? nitems : 0;
    for (const char *c = shadowed; *c; c++) {
        slots += *c == 'S';
        if (*c == 'S' && (size_t)(c - shadowed) < strlen(spec) && spec[c - shadowed] != 'A')
            return set_derivative_error();  /* only arrays have shadows */
    }
    if (strlen(shadowed) != strlen(spec) || strspn(shadowed, "S.") != strlen(spec)
            || strlen(spec) + slots + (*seed != 0) > MAX_ARGS || strlen(seed) > 1
            || (*seed && (strchr("df", *seed) == NULL || items == 0))
            || npicks < 1 || npicks > MAX_ARGS || (single && npicks != 1)
            || (strcmp(kind, "grad") != 0 && strcmp(kind, "value_and_grad") != 0))
        return set_derivative_error();
    for (Py_ssize_t k = 0; k < npicks; k++) {
        long pick = PyLong_AsLong(PyTuple_GET_ITEM(picks, k));
        if (pick == -1 && PyErr_Occurred()) return 0;
        if (pick >= items || pick < -slots) return set_derivative_error();
        self->picks[k] = (int)pick;
    }
    strcpy(self->shadowed, shadowed);
    self->seed = *seed;
    self->npicks = (int)npicks;
    self->single = single;
    self->derivative = kind[0] == 'g' ? 'g' : 'v';
    return 1;
}

static PyObject *set_fast(PyObject *op, PyObject *args) {
    Dispatcher *self = (Dispatcher *)op;
    unsigned long long address;
    const char *spec, *result;
    PyObject *slow, *ndarray, *raise_error = Py_None, *dtypes = NULL, *bound = Py_None;
    PyObject *deriv = Py_None;
    Py_ssize_t nitems, arrays;
    if (!PyArg_ParseTuple(args, "KssOO|OO!OO", &address, &spec, &result, &slow, &ndarray,
                          &raise_error, &PyTuple_Type, &dtypes, &bound, &deriv))
        return NULL;
    if (strlen(spec) > MAX_ARGS || !parse_result(result, &nitems, &arrays)
            || arrays != (dtypes ? PyTuple_GET_SIZE(dtypes) : 0)
            || (deriv != Py_None && arrays)) {
        PyErr_SetString(PyExc_ValueError, "ember: unsupported dispatcher spec");
        return NULL;
    }
    if ((arrays || deriv != Py_None) && !load_numpy()) {  /* another numpy ABI: Python path */
        Py_XSETREF(self->slow, Py_NewRef(slow));
        self->fn = NULL;
        Py_RETURN_NONE;
    }
    for (Py_ssize_t k = 0; k < arrays; k++)
        if (!PyObject_TypeCheck(PyTuple_GET_ITEM(dtypes, k), descr_type)) {
            PyErr_SetString(PyExc_TypeError, "ember: dtypes must be numpy dtypes");
            return NULL;
        }
    if (!set_bound(self, bound, spec) || !set_derivative(self, deriv, spec, result, nitems))
        return NULL;
    Py_XSETREF(self->slow, Py_NewRef(slow));
    Py_XSETREF(self->ndarray, Py_NewRef(ndarray));
    Py_XSETREF(self->raise_error, raise_error == Py_None ? NULL : Py_NewRef(raise_error));
    Py_XSETREF(self->dtypes, dtypes ? Py_NewRef(dtypes) : NULL);
    strcpy(self->spec, spec);
    self->nargs = (int)strlen(spec);
    strcpy(self->result, result);
    self->nitems = nitems;
    self->fn = (packed_fn)(uintptr_t)address;
    Py_RETURN_NONE;
}

static PyObject *set_slow(PyObject *op, PyObject *slow) {
    Dispatcher *self = (Dispatcher *)op;
    Py_XSETREF(self->slow, Py_NewRef(slow));
    self->fn = NULL;
    Py_RETURN_NONE;
}

static int dispatcher_traverse(PyObject *op, visitproc visit, void *arg) {
    Dispatcher *self = (Dispatcher *)op;
    Py_VISIT(self->slow);
    Py_VISIT(self->ndarray);
    Py_VISIT(self->raise_error);
    Py_VISIT(self->dtypes);
    Py_VISIT(self->names);
    Py_VISIT(self->defaults);
    Py_VISIT(Py_TYPE(op));
    return 0;
}

static int dispatcher_clear(PyObject *op) {
    Dispatcher *self = (Dispatcher *)op;
    Py_CLEAR(self->slow);
    Py_CLEAR(self->ndarray);
    Py_CLEAR(self->raise_error);
    Py_CLEAR(self->dtypes);
    Py_CLEAR(self->names);
    Py_CLEAR(self->defaults);
    return 0;
}

static void dispatcher_dealloc(PyObject *op) {
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    dispatcher_clear(op);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyMethodDef dispatcher_methods[] = {
    {"_set_fast", set_fast, METH_VARARGS, "Use a packed thunk: (address, spec, result, slow, ndarray[, raise_error[, dtypes[, bound[, derivative]]]])."},
    {"_set_slow", set_slow, METH_O, "Call this Python callable for every call."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot dispatcher_slots[] = {
    {Py_tp_call, dispatcher_call},
    {Py_tp_methods, dispatcher_methods},
    {Py_tp_traverse, dispatcher_traverse},
    {Py_tp_clear, dispatcher_clear},
    {Py_tp_dealloc, dispatcher_dealloc},
    {Py_tp_doc, "Base of ember.Kernel: the native call path."},
    {0, NULL},
};

static PyType_Spec dispatcher_spec = {
    "ember._dispatch.Dispatcher", sizeof(Dispatcher), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC, dispatcher_slots,
};

static PyType_Slot buffer_slots[] = {
    {Py_tp_dealloc, buffer_dealloc},
    {Py_tp_doc, "Owns a buffer a kernel allocated: the base of the array made of it."},
    {0, NULL},
};

static PyType_Spec buffer_spec = {
    "ember._dispatch.Buffer", sizeof(Buffer), 0, Py_TPFLAGS_DEFAULT, buffer_slots,
};

static PyObject *live(PyObject *module, PyObject *unused) {
    return PyLong_FromSsize_t(live_buffers);
}

static PyMethodDef module_methods[] = {
    {"_live_buffers", live, METH_NOARGS, "How many kernel-allocated buffers arrays still hold."},
    {NULL, NULL, 0, NULL},
};

static int module_exec(PyObject *module) {
    PyObject *type = PyType_FromModuleAndSpec(module, &dispatcher_spec, NULL);
    if (type == NULL) return -1;
    if (PyModule_AddObject(module, "Dispatcher", type) < 0) { Py_DECREF(type); return -1; }
    if (buffer_type == NULL) {  /* one per process: arrays may outlive the module object */
        buffer_type = (PyTypeObject *)PyType_FromSpec(&buffer_spec);
        if (buffer_type == NULL) return -1;
    }
    return 0;
}

static PyModuleDef_Slot module_slots[] = {{Py_mod_exec, module_exec}, {0, NULL}};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "ember._dispatch", "The native call path of Ember kernels.", 0,
    module_methods, module_slots, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__dispatch(void) { return PyModuleDef_Init(&module_def); }

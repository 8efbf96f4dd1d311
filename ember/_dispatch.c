/* ember._dispatch: the fast call path of compiled kernels (the base class of ember.Kernel).

   A Dispatcher holds the address of a kernel's packed thunk (ember_pk_<name>, see
   runtime/thunk.py) and one letter per parameter. A call converts the arguments straight into
   8-byte slots (numpy arrays as PyObject*, checked natively by the thunk; Python floats and ints
   as C values), releases the GIL, calls the thunk and boxes the result: nothing, one scalar,
   or a tuple of scalars (result spec "t" + one letter per item, each in an 8-byte slot, as
   derivative entries return the value and the scalar gradients). Anything else
   (keyword arguments, numpy scalars, bools for ints, a rejected array) goes to the `slow`
   Python callable, which gives the same results and the precise errors. A kernel that raised
   (status 2) is not run again: `raise_error` raises its exception. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define MAX_ARGS 32
#define MAX_RESULTS 16

typedef int32_t (*packed_fn)(void **slots, void *result);

typedef struct {
    PyObject_HEAD
    packed_fn fn;
    int nargs;
    char spec[MAX_ARGS + 1];
    char result[MAX_RESULTS + 2];
    PyObject *slow;
    PyObject *ndarray;
    PyObject *raise_error;  /* called when the kernel raised (status 2); may be NULL */
} Dispatcher;

typedef union {
    double d; float f; int64_t q; uint64_t Q; int32_t i; uint32_t I; int16_t h; uint16_t H;
    int8_t b; uint8_t B;
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
    default: PyErr_SetString(PyExc_SystemError, "ember: unknown result code"); return NULL;
    }
}

static PyObject *slow_call(Dispatcher *self, PyObject *args, PyObject *kwargs) {
    if (self->slow == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "ember: kernel has no call path");
        return NULL;
    }
    return PyObject_Call(self->slow, args, kwargs);
}

static PyObject *box_all(const char *codes, Value *results) {
    if (codes[0] != 't') return box(codes[0], results);
    Py_ssize_t n = (Py_ssize_t)strlen(codes + 1);
    PyObject *out = PyTuple_New(n);
    if (out == NULL) return NULL;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *item = box(codes[k + 1], &results[k]);
        if (item == NULL) { Py_DECREF(out); return NULL; }
        PyTuple_SET_ITEM(out, k, item);
    }
    return out;
}

static PyObject *dispatcher_call(PyObject *op, PyObject *args, PyObject *kwargs) {
    Dispatcher *self = (Dispatcher *)op;
    Py_ssize_t n = PyTuple_GET_SIZE(args);
    Value slots[MAX_ARGS], results[MAX_RESULTS];
    int32_t status;
    if (self->fn == NULL || n != self->nargs || (kwargs && PyDict_GET_SIZE(kwargs)))
        return slow_call(self, args, kwargs);
    for (Py_ssize_t k = 0; k < n; k++)
        if (!convert(self, self->spec[k], PyTuple_GET_ITEM(args, k), &slots[k]))
            return slow_call(self, args, kwargs);
    Py_BEGIN_ALLOW_THREADS
    status = self->fn((void **)slots, results);
    Py_END_ALLOW_THREADS
    if (status == 0)
        return box_all(self->result, results);
    if (status == 2 && self->raise_error != NULL) {  /* the kernel raised: never run again */
        PyObject *r = PyObject_CallNoArgs(self->raise_error);
        if (r == NULL) return NULL;
        Py_DECREF(r);
        PyErr_SetString(PyExc_SystemError, "ember: a kernel error was not raised");
        return NULL;
    }
    return slow_call(self, args, kwargs);  /* rejected before running: explain or convert */
}

static PyObject *set_fast(PyObject *op, PyObject *args) {
    Dispatcher *self = (Dispatcher *)op;
    unsigned long long address;
    const char *spec, *result;
    PyObject *slow, *ndarray, *raise_error = Py_None;
    if (!PyArg_ParseTuple(args, "KssOO|O", &address, &spec, &result, &slow, &ndarray,
                          &raise_error))
        return NULL;
    size_t nres = strlen(result);
    if (strlen(spec) > MAX_ARGS || nres < 1 || nres > MAX_RESULTS + 1
            || (nres > 1 && result[0] != 't')) {
        PyErr_SetString(PyExc_ValueError, "ember: unsupported dispatcher spec");
        return NULL;
    }
    Py_XSETREF(self->slow, Py_NewRef(slow));
    Py_XSETREF(self->ndarray, Py_NewRef(ndarray));
    Py_XSETREF(self->raise_error, raise_error == Py_None ? NULL : Py_NewRef(raise_error));
    strcpy(self->spec, spec);
    self->nargs = (int)strlen(spec);
    strcpy(self->result, result);
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
    Py_VISIT(Py_TYPE(op));
    return 0;
}

static int dispatcher_clear(PyObject *op) {
    Dispatcher *self = (Dispatcher *)op;
    Py_CLEAR(self->slow);
    Py_CLEAR(self->ndarray);
    Py_CLEAR(self->raise_error);
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
    {"_set_fast", set_fast, METH_VARARGS, "Use a packed thunk: (address, spec, result, slow, ndarray[, raise_error])."},
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

static int module_exec(PyObject *module) {
    PyObject *type = PyType_FromModuleAndSpec(module, &dispatcher_spec, NULL);
    if (type == NULL) return -1;
    if (PyModule_AddObject(module, "Dispatcher", type) < 0) { Py_DECREF(type); return -1; }
    return 0;
}

static PyModuleDef_Slot module_slots[] = {{Py_mod_exec, module_exec}, {0, NULL}};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "ember._dispatch", "The native call path of Ember kernels.", 0, NULL,
    module_slots, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__dispatch(void) { return PyModuleDef_Init(&module_def); }

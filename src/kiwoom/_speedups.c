/* The fast road's fixers in C: an optional accelerator of kiwoom._fastdecode.
 *
 * A fixer finishes an object that msgspec decoded into a lax twin (see _fastdecode.py): it
 * sets the object's class back to the typed Struct, then runs one small op per field that
 * needs work (a magnitude's sign, a blank, a time, a nested list). _fastdecode compiles the
 * same ops into Python source when this module is not built; both must mean exactly the same,
 * and tests/test_speedups.py runs them side by side.
 *
 * Fields are read and written through the slots of the typed Struct, at the offsets of its
 * member descriptors, checked once when a Fixer is built. A Fixer only touches an object
 * whose class is its twin or its typed class.
 *
 * Two helpers of the real-time road live here too: strip_signs (the '+' of signed numbers
 * out of a frame, before msgspec reads it) and fix_values (each tick's fixer, per frame).
 *
 * Any call into Python (a converter, int(), a value's own comparison or truth, a finalizer
 * run by the collector during an allocation) may drop whatever it can reach: the value of a
 * slot, a row of the list being walked, the object being fixed, a fixer in the dict of
 * fix_values. So every object used after such a call is held by a reference of ours, never
 * borrowed from a slot, a list or a dict.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <datetime.h>

/* Bumped whenever the op codes or their meaning change: _fastdecode checks it. */
#define PROTOCOL 5

enum {
    OP_ABS = 1,       /* v < 0: -v (None or text raise TypeError, as `v < 0` does) */
    OP_ABS_BLANK = 2, /* "": None; v < 0: -v */
    OP_BLANK = 3,     /* "": None */
    OP_FREE_TEXT = 4, /* any text: kept, and the fixer returns True; else None */
    OP_OR_NONE = 5,   /* v or None */
    OP_NUM_TEXT = 6,  /* v.replace("+", "") or None if v else None */
    OP_CALL = 7,      /* arg(v) if v else None */
    OP_DATE = 8,      /* OP_CALL, with "YYYYMMDD" parsed here (arg for the rest) */
    OP_TIME = 9,      /* OP_CALL, with "HHMMSS" parsed here (arg for the rest) */
    OP_LIST = 10,     /* arg (a Fixer) on every element of v */
    OP_OBJECT = 11,   /* arg (a Fixer) on v unless None */
    OP_TO_INT = 12,   /* int(v) if v else None (arg: the same in Python, for a non-str v) */
    OP_TO_ABS_INT = 13,   /* abs(int(v)) if v else None */
    OP_TO_FLOAT = 14,     /* float(v) if v else None */
    OP_TO_ABS_FLOAT = 15, /* abs(float(v)) if v else None */
    OP_LAST = OP_TO_ABS_FLOAT,
};

typedef struct {
    int code;
    Py_ssize_t offset;
    PyObject *arg;
} Op;

typedef struct {
    PyObject_VAR_HEAD
    vectorcallfunc vectorcall;
    PyTypeObject *typed;
    PyTypeObject *twin;
    Op ops[1];
} Fixer;

static PyTypeObject Fixer_Type;

static PyObject *values_str; /* "values" */
static PyObject *plus_str; /* "+" */
static PyObject *empty_str; /* "" */

#define SLOT(o, offset) (*(PyObject **)((char *)(o) + (offset)))

static int fixer_run(Fixer *self, PyObject *o);
static int op_on(const Op *op, PyObject *o, PyObject *v);

/* Replace the slot's value by `value` (a new reference, stolen). */
static inline void
slot_set(PyObject *o, Py_ssize_t offset, PyObject *value)
{
    /* msgspec untracks Structs that hold no containers; what a fixer stores never is one
     * (numbers, text, dates), but a converter could return one. */
    if (PyObject_IS_GC(value) && PyObject_GC_IsTracked(value) && PyObject_IS_GC(o)
        && !PyObject_GC_IsTracked(o)) {
        PyObject_GC_Track(o);
    }
    PyObject *old = SLOT(o, offset);
    SLOT(o, offset) = value;
    Py_XDECREF(old);
}

static inline int
is_blank(PyObject *v)
{
    return PyUnicode_CheckExact(v) && PyUnicode_GET_LENGTH(v) == 0;
}

/* 1 if v < 0, 0 if not, -1 with an exception set (TypeError for None or text). */
static int
is_negative(PyObject *v)
{
    if (PyLong_CheckExact(v)) {
        int overflow;
        long x = PyLong_AsLongAndOverflow(v, &overflow);
        if (overflow) {
            return overflow < 0;
        }
        if (x == -1 && PyErr_Occurred()) {
            return -1;
        }
        return x < 0;
    }
    if (PyFloat_CheckExact(v)) {
        return PyFloat_AS_DOUBLE(v) < 0;
    }
    PyObject *zero = PyLong_FromLong(0);
    if (zero == NULL) {
        return -1;
    }
    int r = PyObject_RichCompareBool(v, zero, Py_LT);
    Py_DECREF(zero);
    return r;
}

/* The digits of an ASCII str of exactly n digits into out[]; 0 if it is not one. */
static int
digits(PyObject *v, Py_ssize_t n, int *out)
{
    if (!PyUnicode_CheckExact(v) || PyUnicode_GET_LENGTH(v) != n || !PyUnicode_IS_ASCII(v)) {
        return 0;
    }
    const Py_UCS1 *s = PyUnicode_1BYTE_DATA(v);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
        out[i] = s[i] - '0';
    }
    return 1;
}

/* "YYYYMMDD" or "HHMMSS" parsed here; anything else, or a value out of range, goes to the
 * Python callable, so that the meaning (and the error) is exactly that of the Python road. */
static PyObject *
parse_clock(int code, PyObject *v, PyObject *fallback)
{
    int d[8];
    PyObject *r = NULL;
    if (code == OP_DATE && digits(v, 8, d)) {
        r = PyDate_FromDate(
            d[0] * 1000 + d[1] * 100 + d[2] * 10 + d[3], d[4] * 10 + d[5], d[6] * 10 + d[7]);
    }
    else if (code == OP_TIME && digits(v, 6, d)) {
        r = PyTime_FromTime(d[0] * 10 + d[1], d[2] * 10 + d[3], d[4] * 10 + d[5], 0);
    }
    else {
        return PyObject_CallOneArg(fallback, v);
    }
    if (r == NULL && PyErr_ExceptionMatches(PyExc_ValueError)) {
        PyErr_Clear();
        return PyObject_CallOneArg(fallback, v);
    }
    return r;
}

/* int(v), float(v) and their abs() for a str v, by the very calls int() and float() make. */
static PyObject *
to_number(int code, PyObject *v, PyObject *fallback)
{
    if (!PyUnicode_CheckExact(v)) {
        return PyObject_CallOneArg(fallback, v);
    }
    int integral = code == OP_TO_INT || code == OP_TO_ABS_INT;
    PyObject *n = integral ? PyLong_FromUnicodeObject(v, 10) : PyFloat_FromString(v);
    if (n != NULL && (code == OP_TO_ABS_INT || code == OP_TO_ABS_FLOAT)) {
        Py_SETREF(n, PyNumber_Absolute(n));
    }
    return n;
}

/* 0 done, 1 done and free text kept, -1 error. `o` is held by the caller; `v` (the slot's
 * value, which Python code run by the op may drop from the slot) by run_op. */
static int
run_op(const Op *op, PyObject *o)
{
    PyObject *v = SLOT(o, op->offset);
    if (v == NULL) {
        PyErr_SetString(PyExc_AttributeError, "a field of the object is not set");
        return -1;
    }
    Py_INCREF(v);
    int t = op_on(op, o, v);
    Py_DECREF(v);
    return t;
}

/* run_op's work on the slot's value `v`, held by run_op. */
static int
op_on(const Op *op, PyObject *o, PyObject *v)
{
    PyObject *r;
    int t;
    switch (op->code) {
    case OP_ABS_BLANK:
        if (is_blank(v)) {
            slot_set(o, op->offset, Py_NewRef(Py_None));
            return 0;
        }
        /* fall through */
    case OP_ABS:
        t = is_negative(v);
        if (t <= 0) {
            return t;
        }
        r = PyNumber_Negative(v);
        if (r == NULL) {
            return -1;
        }
        slot_set(o, op->offset, r);
        return 0;
    case OP_BLANK:
        if (is_blank(v)) {
            slot_set(o, op->offset, Py_NewRef(Py_None));
        }
        return 0;
    case OP_FREE_TEXT:
    case OP_OR_NONE:
        t = PyObject_IsTrue(v);
        if (t < 0) {
            return -1;
        }
        if (!t) {
            slot_set(o, op->offset, Py_NewRef(Py_None));
            return 0;
        }
        if (op->code == OP_FREE_TEXT) {
            return 1;
        }
        if (SLOT(o, op->offset) != v) { /* v's truth changed the slot: `o.x = v or None` */
            slot_set(o, op->offset, Py_NewRef(v));
        }
        return 0;
    case OP_NUM_TEXT:
    case OP_CALL:
    case OP_DATE:
    case OP_TIME:
    case OP_TO_INT:
    case OP_TO_ABS_INT:
    case OP_TO_FLOAT:
    case OP_TO_ABS_FLOAT:
        t = PyObject_IsTrue(v);
        if (t < 0) {
            return -1;
        }
        if (!t) {
            r = Py_NewRef(Py_None);
        }
        else if (op->code == OP_NUM_TEXT) {
            if (PyUnicode_CheckExact(v)
                && PyUnicode_FindChar(v, '+', 0, PyUnicode_GET_LENGTH(v), 1) == -1) {
                return 0; /* no '+': v stays */
            }
            r = PyObject_CallMethod(v, "replace", "OO", plus_str, empty_str);
            if (r != NULL && is_blank(r)) {
                Py_SETREF(r, Py_NewRef(Py_None));
            }
        }
        else if (op->code == OP_CALL) {
            r = PyObject_CallOneArg(op->arg, v);
        }
        else if (op->code == OP_DATE || op->code == OP_TIME) {
            r = parse_clock(op->code, v, op->arg);
        }
        else {
            r = to_number(op->code, v, op->arg);
        }
        if (r == NULL) {
            return -1;
        }
        slot_set(o, op->offset, r);
        return 0;
    case OP_LIST: {
        int seen = 0;
        if (PyList_CheckExact(v)) {
            /* A converter may resize the list (as `for x in v` does, stop at its end) or drop
             * the row being fixed: each row is held while it is. */
            for (Py_ssize_t i = 0; i < PyList_GET_SIZE(v); i++) {
                PyObject *x = Py_NewRef(PyList_GET_ITEM(v, i));
                t = fixer_run((Fixer *)op->arg, x);
                Py_DECREF(x);
                if (t < 0) {
                    return -1;
                }
                seen |= t;
            }
            return seen;
        }
        PyObject *it = PyObject_GetIter(v);
        if (it == NULL) {
            return -1;
        }
        PyObject *x;
        while ((x = PyIter_Next(it)) != NULL) {
            t = fixer_run((Fixer *)op->arg, x);
            Py_DECREF(x);
            if (t < 0) {
                Py_DECREF(it);
                return -1;
            }
            seen |= t;
        }
        Py_DECREF(it);
        return PyErr_Occurred() ? -1 : seen;
    }
    case OP_OBJECT:
        return v == Py_None ? 0 : fixer_run((Fixer *)op->arg, v);
    }
    PyErr_SetString(PyExc_SystemError, "unknown fixer op");
    return -1;
}

/* 0 done, 1 done and free text kept, -1 error. */
static int
fixer_run(Fixer *self, PyObject *o)
{
    PyTypeObject *tp = Py_TYPE(o);
    if (tp != self->twin && tp != self->typed) {
        PyErr_Format(
            PyExc_TypeError, "fixer of %s got a %s", self->typed->tp_name, tp->tp_name);
        return -1;
    }
    if (tp != self->typed) {
        /* What `o.__class__ = typed` does, its layout checked when the Fixer was built. */
        Py_SET_TYPE(o, (PyTypeObject *)Py_NewRef(self->typed));
        Py_DECREF(tp);
    }
    int seen = 0;
    for (Py_ssize_t i = 0; i < Py_SIZE(self); i++) {
        int t = run_op(&self->ops[i], o);
        if (t < 0) {
            return -1;
        }
        seen |= t;
    }
    return seen;
}

static PyObject *
fixer_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    if (PyVectorcall_NARGS(nargsf) != 1 || (kwnames != NULL && PyTuple_GET_SIZE(kwnames))) {
        PyErr_SetString(PyExc_TypeError, "a fixer takes one object");
        return NULL;
    }
    int seen = fixer_run((Fixer *)self, args[0]);
    if (seen < 0) {
        return NULL;
    }
    return PyBool_FromLong(seen);
}

/* fix_values(items, fixes): see kiwoom._fastdecode.fix_values, its Python twin. */
static PyObject *
fix_values(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyList_CheckExact(args[0]) || !PyDict_CheckExact(args[1])
        || !PyList_CheckExact(args[2])) {
        PyErr_SetString(
            PyExc_TypeError, "fix_values(items: list, fixes: dict, seen: list)");
        return NULL;
    }
    PyObject *items = args[0], *fixes = args[1], *seen = args[2];
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); i++) {
        /* The item, its fixer and its values are held: what the fixer calls (or reading
         * `values`) may change the list and the dict. */
        PyObject *item = Py_NewRef(PyList_GET_ITEM(items, i));
        PyObject *fix = PyDict_GetItemWithError(fixes, (PyObject *)Py_TYPE(item));
        if (fix == NULL) {
            if (!PyErr_Occurred()) {
                PyErr_SetObject(PyExc_KeyError, (PyObject *)Py_TYPE(item));
            }
            Py_DECREF(item);
            return NULL;
        }
        if (fix == Py_None) {
            Py_DECREF(item);
            Py_RETURN_NONE;
        }
        Py_INCREF(fix);
        PyObject *values = PyObject_GetAttr(item, values_str);
        Py_DECREF(item);
        if (values == NULL) {
            Py_DECREF(fix);
            return NULL;
        }
        int r;
        if (Py_IS_TYPE(fix, &Fixer_Type)) {
            r = fixer_run((Fixer *)fix, values);
        }
        else {
            PyObject *done = PyObject_CallOneArg(fix, values);
            r = done == NULL ? -1 : PyObject_IsTrue(done);
            Py_XDECREF(done);
        }
        Py_DECREF(fix);
        Py_DECREF(values);
        if (r < 0) {
            return NULL;
        }
        if (r) {
            PyObject *index = PyLong_FromSsize_t(i);
            if (index == NULL || PyList_Append(seen, index) < 0) {
                Py_XDECREF(index);
                return NULL;
            }
            Py_DECREF(index);
        }
    }
    return Py_NewRef(items);
}

/* strip_signs(raw): see kiwoom._fastdecode.strip_signs. */
static PyObject *
strip_signs(PyObject *module, PyObject *raw)
{
    if (!PyBytes_CheckExact(raw)) {
        PyErr_SetString(PyExc_TypeError, "strip_signs(raw: bytes)");
        return NULL;
    }
    const char *s = PyBytes_AS_STRING(raw);
    Py_ssize_t n = PyBytes_GET_SIZE(raw);
    const char *end = s + n;
    const char *p = memchr(s, '+', n);
    if (p == NULL) {
        return Py_NewRef(raw);
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, n);
    if (out == NULL) {
        return NULL;
    }
    char *o = PyBytes_AS_STRING(out);
    const char *from = s; /* the next byte not yet copied */
    for (; p != NULL; p = memchr(p + 1, '+', end - p - 1)) {
        /* A sign opens a value ('"' before it) and a number follows it. */
        if (p > s && p[-1] == '"' && p + 1 < end
            && ((p[1] >= '0' && p[1] <= '9') || p[1] == '.')) {
            memcpy(o, from, p - from);
            o += p - from;
            from = p + 1;
        }
        if (p + 1 >= end) {
            break;
        }
    }
    memcpy(o, from, end - from);
    o += end - from;
    if (_PyBytes_Resize(&out, o - PyBytes_AS_STRING(out)) < 0) {
        return NULL;
    }
    return out;
}

static PyMethodDef speedups_methods[] = {
    {"strip_signs", (PyCFunction)strip_signs, METH_O,
     PyDoc_STR("strip_signs(raw): the bytes without each '+' that follows a '\"' and precedes "
               "a digit or '.'.")},
    {"fix_values", (PyCFunction)(void (*)(void))fix_values, METH_FASTCALL,
     PyDoc_STR("fix_values(items, fixes, seen): fixes[type(item)](item.values) for each item, "
               "appending to seen the index of each whose fixer returned True; the list, or "
               "None at an item whose fixer is None.")},
    {NULL, NULL, 0, NULL},
};

/* The slot offset of `name` in `typed`, checked to be an object slot of its layout. */
static Py_ssize_t
slot_offset(PyTypeObject *typed, PyObject *name)
{
    PyObject *descr = _PyType_Lookup(typed, name);
    if (descr == NULL || !Py_IS_TYPE(descr, &PyMemberDescr_Type)) {
        PyErr_Format(PyExc_TypeError, "%s.%S is not a slot", typed->tp_name, name);
        return -1;
    }
    PyMemberDef *m = ((PyMemberDescrObject *)descr)->d_member;
    if ((m->type != T_OBJECT_EX && m->type != T_OBJECT) || m->offset < (Py_ssize_t)sizeof(PyObject)
        || m->offset + (Py_ssize_t)sizeof(PyObject *) > typed->tp_basicsize
        || !PyType_IsSubtype(typed, ((PyMemberDescrObject *)descr)->d_common.d_type)) {
        PyErr_Format(PyExc_TypeError, "%s.%S is not an object slot", typed->tp_name, name);
        return -1;
    }
    return m->offset;
}

static PyObject *
fixer_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyTypeObject *typed, *twin;
    PyObject *ops;
    static char *kwlist[] = {"typed", "twin", "ops", NULL};
    if (!PyArg_ParseTupleAndKeywords(
            args, kwds, "O!O!O!:Fixer", kwlist, &PyType_Type, &typed, &PyType_Type, &twin,
            &PyTuple_Type, &ops)) {
        return NULL;
    }
    if (!PyType_IsSubtype(twin, typed) || twin->tp_basicsize != typed->tp_basicsize
        || twin->tp_itemsize != 0 || typed->tp_itemsize != 0
        || twin->tp_dictoffset != typed->tp_dictoffset
        || twin->tp_weaklistoffset != typed->tp_weaklistoffset
        || !(twin->tp_flags & Py_TPFLAGS_HEAPTYPE) || !(typed->tp_flags & Py_TPFLAGS_HEAPTYPE)
        || (twin->tp_flags & Py_TPFLAGS_HAVE_GC) != (typed->tp_flags & Py_TPFLAGS_HAVE_GC)
        || twin->tp_dealloc != typed->tp_dealloc) {
        PyErr_Format(
            PyExc_TypeError, "%s is not a twin of %s of the same layout", twin->tp_name,
            typed->tp_name);
        return NULL;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(ops);
    Fixer *self = (Fixer *)type->tp_alloc(type, n);
    if (self == NULL) {
        return NULL;
    }
    self->vectorcall = fixer_vectorcall;
    self->typed = (PyTypeObject *)Py_NewRef(typed);
    self->twin = (PyTypeObject *)Py_NewRef(twin);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyTuple_GET_ITEM(ops, i);
        int code;
        PyObject *name, *arg;
        if (!PyTuple_Check(item)
            || !PyArg_ParseTuple(item, "iUO:op", &code, &name, &arg)) {
            if (!PyErr_Occurred()) {
                PyErr_SetString(PyExc_TypeError, "an op is (code, attribute, argument)");
            }
            Py_DECREF(self);
            return NULL;
        }
        Py_ssize_t offset = slot_offset(typed, name);
        if (offset < 0) {
            Py_DECREF(self);
            return NULL;
        }
        int needs = code == OP_LIST || code == OP_OBJECT;
        if (code < OP_ABS || code > OP_LAST
            || (needs && !Py_IS_TYPE(arg, &Fixer_Type))
            || ((code == OP_CALL || code == OP_DATE || code == OP_TIME || code >= OP_TO_INT)
                && !PyCallable_Check(arg))) {
            PyErr_Format(PyExc_ValueError, "bad op %d for %S", code, name);
            Py_DECREF(self);
            return NULL;
        }
        self->ops[i].code = code;
        self->ops[i].offset = offset;
        self->ops[i].arg = Py_NewRef(arg);
    }
    return (PyObject *)self;
}

static int
fixer_traverse(Fixer *self, visitproc visit, void *arg)
{
    Py_VISIT(self->typed);
    Py_VISIT(self->twin);
    for (Py_ssize_t i = 0; i < Py_SIZE(self); i++) {
        Py_VISIT(self->ops[i].arg);
    }
    return 0;
}

static int
fixer_clear(Fixer *self)
{
    Py_CLEAR(self->typed);
    Py_CLEAR(self->twin);
    for (Py_ssize_t i = 0; i < Py_SIZE(self); i++) {
        Py_CLEAR(self->ops[i].arg);
    }
    return 0;
}

static void
fixer_dealloc(Fixer *self)
{
    PyObject_GC_UnTrack(self);
    fixer_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
fixer_repr(Fixer *self)
{
    return PyUnicode_FromFormat(
        "<kiwoom fixer of %s, %zd ops>", self->typed ? self->typed->tp_name : "?",
        Py_SIZE(self));
}

static PyTypeObject Fixer_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "kiwoom._speedups.Fixer",
    .tp_doc = PyDoc_STR(
        "Fixer(typed, twin, ops): finishes objects msgspec decoded into the lax twin of typed.\n"
        "ops: (code, attribute, argument) tuples; see kiwoom._fastdecode."),
    .tp_basicsize = sizeof(Fixer) - sizeof(Op),
    .tp_itemsize = sizeof(Op),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_new = fixer_new,
    .tp_traverse = (traverseproc)fixer_traverse,
    .tp_clear = (inquiry)fixer_clear,
    .tp_dealloc = (destructor)fixer_dealloc,
    .tp_repr = (reprfunc)fixer_repr,
    .tp_call = PyVectorcall_Call,
    .tp_vectorcall_offset = offsetof(Fixer, vectorcall),
};

static int
speedups_exec(PyObject *m)
{
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL) {
        return -1;
    }
    values_str = PyUnicode_InternFromString("values");
    plus_str = PyUnicode_InternFromString("+");
    empty_str = PyUnicode_InternFromString("");
    if (values_str == NULL || plus_str == NULL || empty_str == NULL) {
        return -1;
    }
    if (PyType_Ready(&Fixer_Type) < 0) {
        return -1;
    }
    if (PyModule_AddObjectRef(m, "Fixer", (PyObject *)&Fixer_Type) < 0) {
        return -1;
    }
    if (PyModule_AddIntConstant(m, "PROTOCOL", PROTOCOL) < 0) {
        return -1;
    }
#define ADD(name)                                                                                \
    if (PyModule_AddIntConstant(m, #name, name) < 0) {                                           \
        return -1;                                                                               \
    }
    ADD(OP_ABS)
    ADD(OP_ABS_BLANK)
    ADD(OP_BLANK)
    ADD(OP_FREE_TEXT)
    ADD(OP_OR_NONE)
    ADD(OP_NUM_TEXT)
    ADD(OP_CALL)
    ADD(OP_DATE)
    ADD(OP_TIME)
    ADD(OP_LIST)
    ADD(OP_OBJECT)
    ADD(OP_TO_INT)
    ADD(OP_TO_ABS_INT)
    ADD(OP_TO_FLOAT)
    ADD(OP_TO_ABS_FLOAT)
#undef ADD
    return 0;
}

static PyModuleDef_Slot speedups_slots[] = {
    {Py_mod_exec, speedups_exec},
#if PY_VERSION_HEX >= 0x030C0000
    /* The Fixer type and the interned strings are static: one interpreter only. */
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},
#endif
    {0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "kiwoom._speedups",
    .m_doc = "Optional C accelerator of kiwoom's fast decode road (see kiwoom._fastdecode).",
    .m_size = 0,
    .m_methods = speedups_methods,
    .m_slots = speedups_slots,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModuleDef_Init(&speedups_module);
}

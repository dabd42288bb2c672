/* Aho-Corasick over code points for the detector's hot path (optional: without it the
 * engine runs the same scans in Python over ahocorasick_rs, with the same results).
 *
 * What detect needs from a scan is the OR of the signal masks of every pattern found,
 * not the list of (pattern, start, end) tuples and a Python loop over them:
 * - mask(text, masks): the OR of masks[pid] over every (overlapping) occurrence;
 * - mask_words(query, masks): mask of the words view of an ASCII letters-and-spaces
 *   query, lower-cased and spaced while scanning (None for any other query);
 * - mask_nospace(text, masks): mask of the text without whitespace (None when a
 *   character is not one of `nospace_chars`);
 * - mask_toneless(text, ...): the Vietnamese toneless scan with its per-hit checks.
 * find(text) returns what ahocorasick_rs' find_matches_as_indexes(text, True) does,
 * in the same order (by end offset, then longest first), for the rarer paths.
 * tests/detection/test_equivalence.py checks all of them against the Python versions
 * (engine._PyAutomaton) and ahocorasick_rs.
 *
 * Characters are mapped to classes (0: in no pattern, which leads back to the root).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NONE 0xFFFFFFFFu

#if PY_VERSION_HEX < 0x030C0000
#define STR_READY(o) PyUnicode_READY(o) /* legacy strings (gone in 3.12) */
#else
#define STR_READY(o) 0
#endif

/* A state is an offset into `blob`: fail state, pattern id ending there (or NONE), next
 * state of its output chain (or NONE), number of transitions, then (class, state)
 * pairs sorted by class (or DENSE_FLAG | the index of its row in `dense`, no pairs).
 * States are laid out depth first, so that a walk down the trie often reads the next
 * record in memory (the automaton is larger than the CPU caches).
 * The root (offset 0) has no pairs: its row is the dense `root`. */
enum { H_FAIL, H_TERM, H_DSUF, H_COUNT, H_SIZE };

typedef struct {
    PyObject_HEAD
    uint32_t *blob;
    uint32_t *root;       /* class -> child of the root (0: none) */
    int32_t *plen;        /* pattern id -> length in code points */
    Py_ssize_t n_states;
    Py_ssize_t n_patterns;
    uint32_t n_classes;   /* class 0: a character in no pattern */
    uint32_t *pages[256]; /* BMP code point -> class; NULL page: class 0 */
    Py_UCS4 *astral;      /* sorted astral code points of the patterns */
    uint32_t *astral_cls;
    Py_ssize_t n_astral;
    uint32_t *dense;      /* rows of the states with many transitions: class -> state */
    uint32_t *fold[256];  /* BMP code point -> folded code point + 1 (0: unchanged), for mask_toneless */
    uint8_t *ns_bmp;      /* mask_nospace's characters (besides whitespace): BMP bitmap */
    Py_UCS4 *ns_astral;   /* ... and sorted astral (lo, hi) ranges */
    Py_ssize_t n_ns_astral;
} Automaton;

static inline int
nospace_char(const Automaton *a, Py_UCS4 cp)
{
    if (cp < 0x10000)
        return (a->ns_bmp[cp >> 3] >> (cp & 7)) & 1;
    Py_ssize_t lo = 0, hi = a->n_ns_astral;
    while (lo < hi) { /* the first range whose hi >= cp */
        Py_ssize_t mid = (lo + hi) / 2;
        if (a->ns_astral[2 * mid + 1] < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < a->n_ns_astral && a->ns_astral[2 * lo] <= cp;
}

static inline Py_UCS4
fold_of(const Automaton *a, Py_UCS4 cp)
{
    if (cp < 0x10000) {
        const uint32_t *page = a->fold[cp >> 8];
        if (page && page[cp & 0xFF])
            return page[cp & 0xFF] - 1;
    }
    return cp;
}

static inline uint32_t
class_of(const Automaton *a, Py_UCS4 cp)
{
    if (cp < 0x10000) {
        const uint32_t *page = a->pages[cp >> 8];
        return page ? page[cp & 0xFF] : 0;
    }
    Py_ssize_t lo = 0, hi = a->n_astral;
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (a->astral[mid] < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (lo < a->n_astral && a->astral[lo] == cp) ? a->astral_cls[lo] : 0;
}

/* States with many transitions get a dense row (one load instead of a search whose
 * branches the CPU cannot predict; they are few and shallow, hence hot). */
#define DENSE_FLAG 0x80000000u
#define DENSE_MIN 9
#define DENSE_MAX_CLASSES 4096
#define IS_DENSE(a, count) ((count) >= DENSE_MIN && (a)->n_classes <= DENSE_MAX_CLASSES)

/* The transition of the state whose header is `h` on class c (0: none). */
static inline uint32_t
row_get(const Automaton *a, const uint32_t *h, uint32_t c)
{
    uint32_t cnt = h[H_COUNT];
    if (cnt & DENSE_FLAG)
        return a->dense[(size_t)(cnt & ~DENSE_FLAG) * a->n_classes + c];
    const uint32_t *t = h + H_SIZE;
    if (cnt <= 8) {
        for (uint32_t i = 0; i < cnt; i++)
            if (t[2 * i] == c)
                return t[2 * i + 1];
        return 0;
    }
    uint32_t lo = 0, hi = cnt;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (t[2 * mid] < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (lo < cnt && t[2 * lo] == c) ? t[2 * lo + 1] : 0;
}

static inline uint32_t
step(const Automaton *a, uint32_t s, uint32_t c)
{
    if (c == 0)
        return 0; /* no pattern has this character: back to the root */
    for (;;) {
        if (s == 0)
            return a->root[c];
        const uint32_t *h = a->blob + s;
        uint32_t t = row_get(a, h, c);
        if (t)
            return t;
        s = h[H_FAIL];
    }
}

/* --- construction ------------------------------------------------------------------ */

/* Build-time trie, states numbered in insertion order. */
typedef struct {
    uint32_t cls;
    int32_t next;
} Edge;

typedef struct {
    int32_t *head;   /* state -> first edge while inserting (linked by `link`) */
    int32_t *link;
    Edge *edges;
    Py_ssize_t n_edges;
    Py_ssize_t n_nodes;
    int32_t *root;   /* class -> child of the root */
    int32_t *term;   /* state -> pattern id or -1 */
    uint32_t *tstart, *tcount; /* state -> its edges in `rows`, sorted by class */
    Edge *rows;
    int32_t *fail, *dsuf;
} Trie;

static int32_t
trie_get(const Trie *t, int32_t s, uint32_t c)
{
    if (s == 0)
        return t->root[c];
    const Edge *r = t->rows + t->tstart[s];
    uint32_t lo = 0, hi = t->tcount[s];
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (r[mid].cls < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (lo < t->tcount[s] && r[lo].cls == c) ? r[lo].next : 0;
}

static int
cmp_edge(const void *x, const void *y)
{
    uint32_t a = ((const Edge *)x)->cls, b = ((const Edge *)y)->cls;
    return a < b ? -1 : a > b;
}

static int
cmp_ucs4(const void *x, const void *y)
{
    Py_UCS4 a = *(const Py_UCS4 *)x, b = *(const Py_UCS4 *)y;
    return a < b ? -1 : a > b;
}

/* Give every code point of the patterns a class (astral ones: collected, classed later). */
static int
assign_classes(Automaton *a, PyObject **items, Py_ssize_t n, Py_ssize_t *total)
{
    Py_UCS4 *astral = NULL;
    Py_ssize_t n_astral = 0, cap = 0;
    a->n_classes = 1;
    *total = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *p = items[i];
        if (!PyUnicode_Check(p)) {
            PyErr_SetString(PyExc_TypeError, "patterns must be str");
            goto fail;
        }
        if (STR_READY(p) < 0)
            goto fail;
        Py_ssize_t len = PyUnicode_GET_LENGTH(p);
        if (len == 0) {
            PyErr_SetString(PyExc_ValueError, "empty pattern");
            goto fail;
        }
        *total += len;
        int kind = PyUnicode_KIND(p);
        const void *data = PyUnicode_DATA(p);
        for (Py_ssize_t j = 0; j < len; j++) {
            Py_UCS4 cp = PyUnicode_READ(kind, data, j);
            if (cp < 0x10000) {
                uint32_t **page = &a->pages[cp >> 8];
                if (*page == NULL && (*page = PyMem_Calloc(256, sizeof(uint32_t))) == NULL)
                    goto nomem;
                if ((*page)[cp & 0xFF] == 0)
                    (*page)[cp & 0xFF] = a->n_classes++;
                continue;
            }
            Py_ssize_t k = 0;
            while (k < n_astral && astral[k] != cp)
                k++;
            if (k < n_astral)
                continue;
            if (n_astral == cap) {
                cap = cap ? 2 * cap : 16;
                Py_UCS4 *q = PyMem_Realloc(astral, cap * sizeof(Py_UCS4));
                if (q == NULL)
                    goto nomem;
                astral = q;
            }
            astral[n_astral++] = cp;
        }
    }
    if (n_astral) {
        qsort(astral, n_astral, sizeof(Py_UCS4), cmp_ucs4);
        a->astral_cls = PyMem_Malloc(n_astral * sizeof(uint32_t));
        if (a->astral_cls == NULL)
            goto nomem;
        for (Py_ssize_t k = 0; k < n_astral; k++)
            a->astral_cls[k] = a->n_classes++;
        a->astral = astral;
        a->n_astral = n_astral;
    }
    return 0;
nomem:
    PyErr_NoMemory();
fail:
    PyMem_Free(astral);
    return -1;
}

static void
trie_free(Trie *t)
{
    PyMem_Free(t->head);
    PyMem_Free(t->link);
    PyMem_Free(t->edges);
    PyMem_Free(t->root);
    PyMem_Free(t->term);
    PyMem_Free(t->tstart);
    PyMem_Free(t->tcount);
    PyMem_Free(t->rows);
    PyMem_Free(t->fail);
    PyMem_Free(t->dsuf);
}

static int
automaton_build(Automaton *a, PyObject *seq)
{
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    Py_ssize_t total;
    Trie t = {0};
    int32_t *queue = NULL;
    uint32_t *offset = NULL;
    int ok = -1;

    a->n_patterns = n;
    if (assign_classes(a, items, n, &total) < 0)
        return -1;
    Py_ssize_t cap = total + 1; /* states and edges */
    if ((uint64_t)cap * 6 + (uint64_t)a->n_classes >= NONE / 2) {
        PyErr_SetString(PyExc_ValueError, "too many patterns");
        return -1;
    }
    t.head = PyMem_Malloc(cap * sizeof(int32_t));
    t.link = PyMem_Malloc(cap * sizeof(int32_t));
    t.edges = PyMem_Malloc(cap * sizeof(Edge));
    t.root = PyMem_Calloc(a->n_classes, sizeof(int32_t));
    t.term = PyMem_Malloc(cap * sizeof(int32_t));
    a->plen = PyMem_Malloc((n ? n : 1) * sizeof(int32_t));
    if (!t.head || !t.link || !t.edges || !t.root || !t.term || !a->plen)
        goto nomem;
    t.n_nodes = 1;
    t.head[0] = -1;
    t.term[0] = -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *p = items[i];
        Py_ssize_t len = PyUnicode_GET_LENGTH(p);
        int kind = PyUnicode_KIND(p);
        const void *data = PyUnicode_DATA(p);
        int32_t s = 0;
        for (Py_ssize_t j = 0; j < len; j++) {
            uint32_t c = class_of(a, PyUnicode_READ(kind, data, j));
            int32_t nx = 0;
            if (s == 0)
                nx = t.root[c];
            else
                for (int32_t e = t.head[s]; e >= 0; e = t.link[e])
                    if (t.edges[e].cls == c) {
                        nx = t.edges[e].next;
                        break;
                    }
            if (nx == 0) {
                nx = (int32_t)t.n_nodes++;
                t.head[nx] = -1;
                t.term[nx] = -1;
                if (s == 0)
                    t.root[c] = nx;
                else {
                    t.edges[t.n_edges].cls = c;
                    t.edges[t.n_edges].next = nx;
                    t.link[t.n_edges] = t.head[s];
                    t.head[s] = (int32_t)t.n_edges++;
                }
            }
            s = nx;
        }
        if (t.term[s] >= 0) { /* one pattern id per state */
            PyErr_Format(PyExc_ValueError, "pattern %zd repeats pattern %d", i, (int)t.term[s]);
            goto done;
        }
        t.term[s] = (int32_t)i;
        a->plen[i] = (int32_t)len;
    }
    Py_ssize_t nn = t.n_nodes;
    /* rows sorted by class */
    t.tstart = PyMem_Malloc(nn * sizeof(uint32_t));
    t.tcount = PyMem_Malloc(nn * sizeof(uint32_t));
    t.rows = PyMem_Malloc((t.n_edges ? t.n_edges : 1) * sizeof(Edge));
    t.fail = PyMem_Calloc(nn, sizeof(int32_t));
    t.dsuf = PyMem_Malloc(nn * sizeof(int32_t));
    queue = PyMem_Malloc(nn * sizeof(int32_t));
    offset = PyMem_Malloc(nn * sizeof(uint32_t));
    if (!t.tstart || !t.tcount || !t.rows || !t.fail || !t.dsuf || !queue || !offset)
        goto nomem;
    uint32_t pos = 0;
    t.tstart[0] = t.tcount[0] = 0;
    for (Py_ssize_t s = 1; s < nn; s++) {
        t.tstart[s] = pos;
        for (int32_t e = t.head[s]; e >= 0; e = t.link[e])
            t.rows[pos++] = t.edges[e];
        t.tcount[s] = pos - t.tstart[s];
        qsort(t.rows + t.tstart[s], t.tcount[s], sizeof(Edge), cmp_edge);
    }
    /* fail links and output chains, breadth first */
    Py_ssize_t qh = 0, qt = 0;
    t.dsuf[0] = -1;
    for (uint32_t c = 1; c < a->n_classes; c++)
        if (t.root[c])
            queue[qt++] = t.root[c]; /* fail: the root */
    while (qh < qt) {
        int32_t u = queue[qh++];
        int32_t f = t.fail[u];
        t.dsuf[u] = t.term[f] >= 0 ? f : t.dsuf[f];
        for (uint32_t k = 0; k < t.tcount[u]; k++) {
            Edge e = t.rows[t.tstart[u] + k];
            int32_t g = f, nx;
            while ((nx = trie_get(&t, g, e.cls)) == 0 && g != 0)
                g = t.fail[g];
            t.fail[e.next] = nx;
            queue[qt++] = e.next;
        }
    }
    /* layout: depth first (queue reused as the stack); the root's record first */
    Py_ssize_t words = H_SIZE, n_dense = 0, sp = 0;
    offset[0] = 0;
    for (uint32_t c = a->n_classes; c-- > 1;)
        if (t.root[c])
            queue[sp++] = t.root[c];
    while (sp) {
        int32_t u = queue[--sp];
        offset[u] = (uint32_t)words;
        words += H_SIZE;
        if (IS_DENSE(a, t.tcount[u]))
            n_dense++;
        else
            words += 2 * (Py_ssize_t)t.tcount[u];
        for (uint32_t k = t.tcount[u]; k-- > 0;)
            queue[sp++] = t.rows[t.tstart[u] + k].next;
    }
    a->blob = PyMem_Calloc(words, sizeof(uint32_t));
    a->dense = PyMem_Calloc(n_dense ? (size_t)n_dense * a->n_classes : 1, sizeof(uint32_t));
    a->root = PyMem_Calloc(a->n_classes, sizeof(uint32_t));
    if (!a->blob || !a->dense || !a->root)
        goto nomem;
    n_dense = 0;
    for (uint32_t c = 1; c < a->n_classes; c++)
        a->root[c] = t.root[c] ? offset[t.root[c]] : 0;
    a->blob[H_TERM] = a->blob[H_DSUF] = NONE;
    for (Py_ssize_t s = 1; s < nn; s++) {
        uint32_t *h = a->blob + offset[s];
        h[H_FAIL] = offset[t.fail[s]];
        h[H_TERM] = t.term[s] >= 0 ? (uint32_t)t.term[s] : NONE;
        h[H_DSUF] = t.dsuf[s] >= 0 ? offset[t.dsuf[s]] : NONE;
        if (IS_DENSE(a, t.tcount[s])) {
            h[H_COUNT] = DENSE_FLAG | (uint32_t)n_dense;
            uint32_t *row = a->dense + (size_t)n_dense * a->n_classes;
            for (uint32_t k = 0; k < t.tcount[s]; k++)
                row[t.rows[t.tstart[s] + k].cls] = offset[t.rows[t.tstart[s] + k].next];
            n_dense++;
        }
        else {
            h[H_COUNT] = t.tcount[s];
            for (uint32_t k = 0; k < t.tcount[s]; k++) {
                h[H_SIZE + 2 * k] = t.rows[t.tstart[s] + k].cls;
                h[H_SIZE + 2 * k + 1] = offset[t.rows[t.tstart[s] + k].next];
            }
        }
    }
    a->n_states = nn;
    ok = 0;
    goto done;
nomem:
    PyErr_NoMemory();
done:
    trie_free(&t);
    PyMem_Free(queue);
    PyMem_Free(offset);
    return ok;
}

static void
automaton_free_data(Automaton *a)
{
    PyMem_Free(a->blob);
    PyMem_Free(a->dense);
    PyMem_Free(a->root);
    PyMem_Free(a->plen);
    PyMem_Free(a->astral);
    PyMem_Free(a->astral_cls);
    for (int i = 0; i < 256; i++) {
        PyMem_Free(a->pages[i]);
        PyMem_Free(a->fold[i]);
    }
    PyMem_Free(a->ns_bmp);
    PyMem_Free(a->ns_astral);
}

/* nospace_chars: sorted, disjoint (lo, hi) ranges of code points, inclusive */
static int
set_nospace_chars(Automaton *a, PyObject *ranges)
{
    PyObject *seq = PySequence_Fast(ranges, "nospace_chars must be a sequence of (lo, hi)");
    if (seq == NULL)
        return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    a->ns_bmp = PyMem_Calloc(0x10000 / 8, 1);
    a->ns_astral = PyMem_Malloc((2 * n + 1) * sizeof(Py_UCS4));
    if (!a->ns_bmp || !a->ns_astral) {
        Py_DECREF(seq);
        PyErr_NoMemory();
        return -1;
    }
    long prev = -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned long lo, hi;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq, i), "kk", &lo, &hi) || lo > hi || hi > 0x10FFFF
            || (long)lo <= prev) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_ValueError, "nospace_chars: sorted disjoint (lo, hi) code point ranges");
            Py_DECREF(seq);
            return -1;
        }
        prev = (long)hi;
        for (unsigned long cp = lo; cp <= hi && cp < 0x10000; cp++)
            a->ns_bmp[cp >> 3] |= (uint8_t)(1 << (cp & 7));
        if (hi >= 0x10000) {
            a->ns_astral[2 * a->n_ns_astral] = lo < 0x10000 ? 0x10000 : (Py_UCS4)lo;
            a->ns_astral[2 * a->n_ns_astral + 1] = (Py_UCS4)hi;
            a->n_ns_astral++;
        }
    }
    Py_DECREF(seq);
    return 0;
}

/* fold: {code point: code point} (BMP only) */
static int
set_fold(Automaton *a, PyObject *fold)
{
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    if (!PyDict_Check(fold)) {
        PyErr_SetString(PyExc_TypeError, "fold must be a dict {int: int}");
        return -1;
    }
    while (PyDict_Next(fold, &pos, &key, &value)) {
        long k = PyLong_AsLong(key), v = PyLong_AsLong(value);
        if ((k == -1 || v == -1) && PyErr_Occurred())
            return -1;
        if (k < 0 || k >= 0x10000 || v < 0 || v > 0x10FFFF) {
            PyErr_SetString(PyExc_ValueError, "fold: BMP code points to code points");
            return -1;
        }
        uint32_t **page = &a->fold[k >> 8];
        if (*page == NULL && (*page = PyMem_Calloc(256, sizeof(uint32_t))) == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        (*page)[k & 0xFF] = (uint32_t)v + 1;
    }
    return 0;
}

/* --- Python type --------------------------------------------------------------------- */

static PyObject *
automaton_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"patterns", "fold", "nospace_chars", NULL};
    PyObject *patterns, *fold = NULL, *nospace_chars = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|$OO:Automaton", kwlist, &patterns, &fold, &nospace_chars))
        return NULL;
    PyObject *seq = PySequence_Fast(patterns, "patterns must be a sequence of str");
    if (seq == NULL)
        return NULL;
    Automaton *a = (Automaton *)type->tp_alloc(type, 0);
    if (a == NULL) {
        Py_DECREF(seq);
        return NULL;
    }
    int rc = automaton_build(a, seq);
    Py_DECREF(seq);
    if (rc == 0 && fold != NULL && fold != Py_None)
        rc = set_fold(a, fold);
    if (rc == 0 && nospace_chars != NULL && nospace_chars != Py_None)
        rc = set_nospace_chars(a, nospace_chars);
    if (rc < 0) {
        Py_DECREF(a);
        return NULL;
    }
    return (PyObject *)a;
}

static void
automaton_dealloc(Automaton *a)
{
    automaton_free_data(a);
    Py_TYPE(a)->tp_free((PyObject *)a);
}

/* The OR of masks[pid] over the patterns ending at the states a scan goes through. */
typedef struct {
    PyObject *masks; /* list: one int or None per pattern */
    PyObject *acc;   /* NULL: nothing yet */
    uint32_t last;   /* the last pattern added (the same one often ends again) */
} Acc;

/* *acc |= m (*acc NULL: nothing yet); -1 on error, *acc then NULL. */
static int
or_into(PyObject **acc, PyObject *m)
{
    if (*acc == NULL) {
        Py_INCREF(m);
        *acc = m;
        return 0;
    }
    PyObject *r = PyNumber_Or(*acc, m);
    Py_DECREF(*acc);
    *acc = r;
    return r ? 0 : -1;
}

static inline int
acc_state(const Automaton *a, Acc *acc, uint32_t s)
{
    const uint32_t *h = a->blob + s;
    uint32_t o = h[H_TERM] != NONE ? s : h[H_DSUF];
    for (; o != NONE; o = a->blob[o + H_DSUF]) {
        uint32_t pid = a->blob[o + H_TERM];
        if (pid == acc->last)
            continue;
        acc->last = pid;
        PyObject *m = PyList_GET_ITEM(acc->masks, pid);
        if (m != Py_None && or_into(&acc->acc, m) < 0)
            return -1;
    }
    return 0;
}

/* One step of a scan: *s moves on by character class cls, the patterns ending there go into acc. */
static inline int
feed(const Automaton *a, Acc *acc, uint32_t *s, uint32_t cls)
{
    *s = step(a, *s, cls);
    return *s ? acc_state(a, acc, *s) : 0;
}

static inline PyObject *
acc_result(Acc *acc)
{
    return acc->acc ? acc->acc : PyLong_FromLong(0);
}

static int
check_args(const Automaton *a, PyObject *const *args, Py_ssize_t nargs, const char *name)
{
    if (nargs != 2 || !PyUnicode_Check(args[0]) || !PyList_CheckExact(args[1])) {
        PyErr_Format(PyExc_TypeError, "%s(text: str, masks: list)", name);
        return -1;
    }
    if (STR_READY(args[0]) < 0)
        return -1;
    if (PyList_GET_SIZE(args[1]) != a->n_patterns) {
        PyErr_SetString(PyExc_ValueError, "masks must have one entry per pattern");
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(mask_doc,
"mask(text, masks) -> int\n\n"
"OR of masks[pid] over every occurrence (overlapping) of every pattern in text;\n"
"masks: a list with one int or None (nothing to add) per pattern.");

static PyObject *
automaton_mask(Automaton *a, PyObject *const *args, Py_ssize_t nargs)
{
    if (check_args(a, args, nargs, "mask") < 0)
        return NULL;
    PyObject *text = args[0];
    Acc acc = {args[1], NULL, NONE};
    Py_ssize_t len = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    uint32_t s = 0;
    for (Py_ssize_t i = 0; i < len; i++) {
        if (feed(a, &acc, &s, class_of(a, PyUnicode_READ(kind, data, i))) < 0)
            return NULL;
    }
    return acc_result(&acc);
}

PyDoc_STRVAR(mask_words_doc,
"mask_words(query, masks) -> int | None\n\n"
"mask(' ' + ' '.join(query.lower().split()) + ' ', masks) when query has only ASCII\n"
"letters and spaces (the words view of such a query); None for any other query.");

static PyObject *
automaton_mask_words(Automaton *a, PyObject *const *args, Py_ssize_t nargs)
{
    if (check_args(a, args, nargs, "mask_words") < 0)
        return NULL;
    PyObject *text = args[0];
    if (!PyUnicode_IS_ASCII(text))
        Py_RETURN_NONE;
    Py_ssize_t len = PyUnicode_GET_LENGTH(text);
    const Py_UCS1 *d = PyUnicode_1BYTE_DATA(text);
    for (Py_ssize_t i = 0; i < len; i++) {
        Py_UCS1 ch = d[i] | 0x20; /* ASCII letters: lower case; ' ' stays ' ' */
        if (!((ch >= 'a' && ch <= 'z') || d[i] == ' '))
            Py_RETURN_NONE;
    }
    const uint32_t *p0 = a->pages[0];
    if (p0 == NULL) /* no pattern has a Latin-1 character */
        return PyLong_FromLong(0);
    Acc acc = {args[1], NULL, NONE};
    uint32_t space = p0[' '];
    uint32_t s = 0;
    int pending = 0; /* spaces seen after a letter: one is fed before the next letter */
    if (feed(a, &acc, &s, space) < 0)
        return NULL;
    for (Py_ssize_t i = 0; i < len; i++) {
        Py_UCS1 ch = d[i];
        if (ch == ' ') {
            pending = 1;
            continue;
        }
        if (pending) {
            pending = 0;
            if (feed(a, &acc, &s, space) < 0)
                return NULL;
        }
        if (feed(a, &acc, &s, p0[ch | 0x20]) < 0)
            return NULL;
    }
    if (feed(a, &acc, &s, space) < 0)
        return NULL;
    return acc_result(&acc);
}

PyDoc_STRVAR(mask_nospace_doc,
"mask_nospace(text, masks) -> int | None\n\n"
"mask(''.join(text.split()), masks): the text without its whitespace. With\n"
"nospace_chars (constructor): None when text has another character (not whitespace).");

static PyObject *
automaton_mask_nospace(Automaton *a, PyObject *const *args, Py_ssize_t nargs)
{
    if (check_args(a, args, nargs, "mask_nospace") < 0)
        return NULL;
    PyObject *text = args[0];
    Acc acc = {args[1], NULL, NONE};
    Py_ssize_t len = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    uint32_t s = 0;
    for (Py_ssize_t i = 0; i < len; i++) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        if (Py_UNICODE_ISSPACE(ch))
            continue;
        if (a->ns_bmp && !nospace_char(a, ch)) {
            Py_XDECREF(acc.acc);
            Py_RETURN_NONE;
        }
        if (feed(a, &acc, &s, class_of(a, ch)) < 0)
            return NULL;
    }
    return acc_result(&acc);
}

PyDoc_STRVAR(mask_toneless_doc,
"mask_toneless(text, masks_v, checks, masks_w) -> int | None\n\n"
"None unless text is made of a-z, whitespace and characters of `fold` (constructor),\n"
"at least one of those. Else, with w = ' ' + ' '.join(text.split()) + ' ' and v = w\n"
"with every character folded, for each hit (pid, s, e) of v: masks_v[pid];\n"
"checks[pid][w[s:e]] (checks[pid]: a mapping, or None); masks_w[pid] when folding\n"
"leaves w[s:e] unchanged. Returns the OR of those ints.");

/* ' ' + ' '.join(text.split()) + ' ' if text is made of a-z, whitespace and folded
 * characters, at least one folded; else None (new reference). */
static PyObject *
toneless_words(const Automaton *a, PyObject *text)
{
    Py_ssize_t len = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = 2; /* the words view's length: the spaces around the tokens, */
    Py_UCS4 maxchar = ' ';
    int space = 0, tokens = 0, folded = 0;
    for (Py_ssize_t i = 0; i < len; i++) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        if (Py_UNICODE_ISSPACE(ch)) {
            space = 1;
            continue;
        }
        if (ch < 'a' || ch > 'z') {
            if (fold_of(a, ch) == ch)
                Py_RETURN_NONE;
            folded = 1;
        }
        if (ch > maxchar)
            maxchar = ch;
        n += 1 + (space && tokens); /* the characters, one space between tokens */
        tokens = 1;
        space = 0;
    }
    if (!folded)
        Py_RETURN_NONE;
    PyObject *w = PyUnicode_New(n, maxchar);
    if (w == NULL)
        return NULL;
    int wkind = PyUnicode_KIND(w);
    void *wdata = PyUnicode_DATA(w);
    Py_ssize_t j = 0;
    PyUnicode_WRITE(wkind, wdata, j++, ' ');
    space = tokens = 0;
    for (Py_ssize_t i = 0; i < len; i++) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        if (Py_UNICODE_ISSPACE(ch)) {
            space = 1;
            continue;
        }
        if (space && tokens)
            PyUnicode_WRITE(wkind, wdata, j++, ' ');
        PyUnicode_WRITE(wkind, wdata, j++, ch);
        tokens = 1;
        space = 0;
    }
    PyUnicode_WRITE(wkind, wdata, j++, ' ');
    assert(j == n);
    return w;
}

static PyObject *
automaton_mask_toneless(Automaton *a, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4 || !PyUnicode_Check(args[0]) || !PyList_CheckExact(args[1]) || !PyList_CheckExact(args[2])
        || !PyList_CheckExact(args[3])) {
        PyErr_SetString(PyExc_TypeError, "mask_toneless(text: str, masks_v: list, checks: list, masks_w: list)");
        return NULL;
    }
    if (STR_READY(args[0]) < 0)
        return NULL;
    PyObject *masks_v = args[1], *checks = args[2], *masks_w = args[3];
    if (PyList_GET_SIZE(masks_v) != a->n_patterns || PyList_GET_SIZE(checks) != a->n_patterns
        || PyList_GET_SIZE(masks_w) != a->n_patterns) {
        PyErr_SetString(PyExc_ValueError, "one entry per pattern");
        return NULL;
    }
    PyObject *w = toneless_words(a, args[0]);
    if (w == NULL || w == Py_None)
        return w;
    PyObject *acc = NULL;
    Py_ssize_t len = PyUnicode_GET_LENGTH(w);
    int kind = PyUnicode_KIND(w);
    const void *data = PyUnicode_DATA(w);
    uint32_t s = 0;
    for (Py_ssize_t i = 0; i < len; i++) {
        s = step(a, s, class_of(a, fold_of(a, PyUnicode_READ(kind, data, i))));
        if (s == 0)
            continue;
        const uint32_t *h = a->blob + s;
        uint32_t o = h[H_TERM] != NONE ? s : h[H_DSUF];
        for (; o != NONE; o = a->blob[o + H_DSUF]) {
            uint32_t pid = a->blob[o + H_TERM];
            Py_ssize_t start = i + 1 - a->plen[pid];
            PyObject *m = PyList_GET_ITEM(masks_v, pid);
            if (m != Py_None && or_into(&acc, m) < 0)
                goto error;
            PyObject *chk = PyList_GET_ITEM(checks, pid);
            if (chk != Py_None) {
                PyObject *span = PyUnicode_Substring(w, start, i + 1);
                PyObject *bits = span ? PyObject_GetItem(chk, span) : NULL;
                Py_XDECREF(span);
                int rc = bits ? or_into(&acc, bits) : -1;
                Py_XDECREF(bits);
                if (rc < 0)
                    goto error;
            }
            m = PyList_GET_ITEM(masks_w, pid);
            if (m != Py_None) {
                Py_ssize_t k = start;
                while (k <= i) {
                    Py_UCS4 ch = PyUnicode_READ(kind, data, k);
                    if (fold_of(a, ch) != ch)
                        break;
                    k++;
                }
                if (k > i && or_into(&acc, m) < 0)
                    goto error;
            }
        }
    }
    Py_DECREF(w);
    return acc ? acc : PyLong_FromLong(0);
error:
    Py_DECREF(w);
    Py_XDECREF(acc);
    return NULL;
}

PyDoc_STRVAR(find_doc,
"find(text) -> list of (pattern id, start, end)\n\n"
"Every occurrence of every pattern (overlapping), by end offset, longest first:\n"
"what ahocorasick_rs' find_matches_as_indexes(text, True) returns.");

static PyObject *
automaton_find(Automaton *a, PyObject *text)
{
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "find(text: str)");
        return NULL;
    }
    if (STR_READY(text) < 0)
        return NULL;
    PyObject *out = PyList_New(0);
    if (out == NULL)
        return NULL;
    Py_ssize_t len = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    uint32_t s = 0;
    for (Py_ssize_t i = 0; i < len; i++) {
        s = step(a, s, class_of(a, PyUnicode_READ(kind, data, i)));
        if (s == 0)
            continue;
        const uint32_t *h = a->blob + s;
        uint32_t o = h[H_TERM] != NONE ? s : h[H_DSUF];
        for (; o != NONE; o = a->blob[o + H_DSUF]) {
            uint32_t pid = a->blob[o + H_TERM];
            PyObject *t = Py_BuildValue("(Inn)", pid, i + 1 - a->plen[pid], i + 1);
            if (t == NULL || PyList_Append(out, t) < 0) {
                Py_XDECREF(t);
                Py_DECREF(out);
                return NULL;
            }
            Py_DECREF(t);
        }
    }
    return out;
}

static PyObject *
automaton_len(Automaton *a, void *closure)
{
    return PyLong_FromSsize_t(a->n_patterns);
}

static PyObject *
automaton_states(Automaton *a, void *closure)
{
    return PyLong_FromSsize_t(a->n_states);
}

static PyMethodDef automaton_methods[] = {
    {"mask", (PyCFunction)(void (*)(void))automaton_mask, METH_FASTCALL, mask_doc},
    {"mask_words", (PyCFunction)(void (*)(void))automaton_mask_words, METH_FASTCALL, mask_words_doc},
    {"mask_nospace", (PyCFunction)(void (*)(void))automaton_mask_nospace, METH_FASTCALL, mask_nospace_doc},
    {"mask_toneless", (PyCFunction)(void (*)(void))automaton_mask_toneless, METH_FASTCALL, mask_toneless_doc},
    {"find", (PyCFunction)automaton_find, METH_O, find_doc},
    {NULL}
};

static PyGetSetDef automaton_getset[] = {
    {"n_patterns", (getter)automaton_len, NULL, "number of patterns", NULL},
    {"n_states", (getter)automaton_states, NULL, "number of states", NULL},
    {NULL}
};

static PyTypeObject AutomatonType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "worker.detection._acscan.Automaton",
    .tp_basicsize = sizeof(Automaton),
    .tp_dealloc = (destructor)automaton_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Automaton(patterns): Aho-Corasick automaton over code points",
    .tp_methods = automaton_methods,
    .tp_getset = automaton_getset,
    .tp_new = automaton_new,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_acscan", "Aho-Corasick scans for the GBV detector (optional).", -1, NULL,
};

PyMODINIT_FUNC
PyInit__acscan(void)
{
    if (PyType_Ready(&AutomatonType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&AutomatonType);
    if (PyModule_AddObject(m, "Automaton", (PyObject *)&AutomatonType) < 0) {
        Py_DECREF(&AutomatonType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}

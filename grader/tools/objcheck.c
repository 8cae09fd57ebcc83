/* The object checker of the class grader: what a student's compiled exercise may define and use.
 *
 *   objcheck STUDENT.o --own SKELETON.o --reserved RESERVED.txt --policy POLICY.txt
 *            [--policy MORE.txt ...] [--session-symbols FILE] [--name DISPLAY_NAME]
 *
 * The source scanner (scan.c) reads what the student wrote; names pasted by the preprocessor,
 * functions declared by hand and code the compiler makes (static constructors) slip past it. This
 * reads what nvcc made of the file, an ELF64 little-endian x86-64 relocatable object, and holds it
 * to the contract (DESIGN.md, "The grader"): the object defines only its launchers and kernels and
 * references only an allow-list.
 *
 * Exit 0: clean, nothing printed. 1: one line a violation on stdout, the most telling first,
 *     DISPLAY_NAME: DISQUALIFIED: <reason naming the symbol or section>
 * 2: an input cannot be read or is malformed (the object, the skeleton, a policy or a name list),
 * or objdump is missing: one line "DISPLAY_NAME: objcheck: ..." on stdout. 64: usage.
 *
 * Inputs:
 *   --own       the exercise's skeleton object: the names it defines (launchers, kernels, their
 *               host stubs) the student's object may define too.
 *   --reserved  one name a line (reserved-symbols.sh): everything the grader, the CUDA runtime and
 *               the C/C++ libraries define. A student's object may define none of them.
 *   --session-symbols  optional, one name a line: what the session's other objects define (other
 *               exercises, given code, the check driver). Defining one is a violation unless it is
 *               vague linkage (a weak definition in a COMDAT group, or a unique global): inline
 *               functions and templates of a shared header, which the linker merges. Referencing
 *               one is reported as another exercise's code.
 *   --policy    rules, one a line, '#' comments; of the rules that match a name, the last one read
 *               wins (a session's policy.txt, given after grader/policy/base.txt, overrides it):
 *                 allow-undefined NAME | PREFIX*          may reference it
 *                 forbid-undefined NAME | PREFIX* [WHY]   may not, even if allowed before
 *                 allow-define NAME | PREFIX*             may define it (compiler boilerplate)
 *                 forbid-define NAME | PREFIX* WHY        may not define it (a global or weak name)
 *                 allow-define-prefix PREFIX              allow-define PREFIX*
 *                 forbid-define-prefix PREFIX WHY         a library's namespace (_ZN3cub): any symbol
 *                                                         under it, local ones too, is a violation
 *
 * Rules, in the order they are reported:
 *   1. Library namespaces: a symbol the object defines (any binding) under a forbid-define-prefix.
 *      Library kernels (CUB, Thrust) are templates instantiated into the file, so their names are.
 *   2. Definitions: a global, weak, unique or common symbol is allowed by an allow-define rule, or
 *      when the skeleton defines it; otherwise it is a violation when a forbid-define rule, the
 *      reserved list or (for strong definitions) the session's names hold it.
 *   3. Code before main or at exit: every entry of .init_array, .fini_array, .preinit_array,
 *      .ctors, .dtors (by section type or name) and any .init or .fini section, except one: nvcc's
 *      fat-binary registration, one 8-byte .init_array entry resolving to the local function
 *      __sti____cudaRegisterAll. Any STT_GNU_IFUNC symbol (its resolver runs at load).
 *   4. Undefined symbols: each must be allowed by the policy (last matching rule wins).
 *   5. Sections: writable and executable code; an executable stack (.note.GNU-stack marked
 *      executable, or missing, which makes ld default to one).
 *   6. Raw system calls: `objdump -d` of the executable sections (host code: device code sits in
 *      .nv_fatbin, which is data), looking for syscall, sysenter and int.
 *
 * Not caught here (the grader's run-time checks and process confinement are the answer): a syscall
 * hidden in the middle of another instruction's bytes and reached by a jump, libc functions found
 * at run time from an allowed function's address, behaviour (caching, stale memory).
 *
 * The reader is written for hostile input: the file is read whole (64 MiB at most), every offset
 * and size is checked against it with subtraction (no wraparound), every string must end inside
 * its table, and a malformed object is one line and exit 2. objcheck_image() is the entry point
 * without I/O, for tests/fuzz/fuzz_objcheck.c (compiled with -DOBJCHECK_NO_MAIN).
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_INPUT_BYTES ((size_t)64 << 20)  /* objects and name lists alike                  */
#define MAX_REPORTS 40                       /* lines printed; the rest are counted            */
#define SHOWN_NAME_MAX 200                   /* a mangled name is cut there in messages        */
#define OBJDUMP_SECONDS 120                  /* objdump is killed after this (alarm survives exec) */

#define SHN_LARGE_COMMON 0xff02  /* SHN_X86_64_LCOMMON: a common symbol of the large code model */
/* symbol.shndx for the special indices, out of the way of real ones (which extended numbering
 * lets reach 0xff00 and beyond, and which stay below the section count). */
#define SYM_ABS 0xfffffff1u
#define SYM_COMMON 0xfffffff2u

#define WHY_ONLY_OWN "a file may define only its launchers and its own kernels"

/* ---- small helpers ---------------------------------------------------------------------------- */

static void set_why(char *why, size_t why_len, const char *fmt, ...) {
    if (!why || why_len == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, why_len, fmt, ap);
    va_end(ap);
}

static bool starts_with(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

/* The length of a symbol name without its version suffix (getenv@GLIBC_2.2.5: getenv). */
static size_t unversioned_len(const char *name) {
    const char *at = strchr(name, '@');
    return at && at != name ? (size_t)(at - name) : strlen(name);
}

/* A name made safe for one line of output: control bytes replaced, long names cut. */
static const char *shown(char *buf, size_t size, const char *name) {
    size_t n = 0;
    for (; name[n] && n + 1 < size; n++) {
        unsigned char ch = (unsigned char)name[n];
        buf[n] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
    }
    buf[n] = '\0';
    if (name[n] && size > 4) memcpy(buf + size - 4, "...", 4);
    if (n == 0 && size > 8) snprintf(buf, size, "(no name)");
    return buf;
}

/* ---- sets of names -------------------------------------------------------------------------- */

typedef struct {
    char **slot;  /* NUL-terminated copies; NULL marks an empty slot */
    size_t cap;   /* zero or a power of two */
    size_t count;
} name_set;

static uint64_t name_hash(const char *s, size_t n) {
    uint64_t h = 1469598103934665603u;  /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211u;
    return h;
}

static bool name_set_has(const name_set *set, const char *s, size_t n) {
    if (set->cap == 0) return false;
    for (size_t i = name_hash(s, n) & (set->cap - 1);; i = (i + 1) & (set->cap - 1)) {
        const char *e = set->slot[i];
        if (!e) return false;
        if (strncmp(e, s, n) == 0 && e[n] == '\0') return true;
    }
}

static bool name_set_grow(name_set *set) {
    size_t cap = set->cap ? set->cap * 2 : 1024;
    char **slot = calloc(cap, sizeof *slot);
    if (!slot) return false;
    for (size_t i = 0; i < set->cap; i++) {
        char *e = set->slot[i];
        if (!e) continue;
        size_t j = name_hash(e, strlen(e)) & (cap - 1);
        while (slot[j]) j = (j + 1) & (cap - 1);
        slot[j] = e;
    }
    free(set->slot);
    set->slot = slot;
    set->cap = cap;
    return true;
}

static bool name_set_add(name_set *set, const char *s, size_t n) {
    if (n == 0 || name_set_has(set, s, n)) return true;
    if ((set->count + 1) * 2 > set->cap && !name_set_grow(set)) return false;
    char *copy = malloc(n + 1);
    if (!copy) return false;
    memcpy(copy, s, n);
    copy[n] = '\0';
    size_t i = name_hash(s, n) & (set->cap - 1);
    while (set->slot[i]) i = (i + 1) & (set->cap - 1);
    set->slot[i] = copy;
    set->count++;
    return true;
}

static void name_set_free(name_set *set) {
    for (size_t i = 0; i < set->cap; i++) free(set->slot[i]);
    free(set->slot);
    memset(set, 0, sizeof *set);
}

/* ---- the policy ------------------------------------------------------------------------------- */

typedef struct {
    char *pattern;  /* without the trailing '*' of a prefix */
    size_t len;
    bool prefix;
    bool allow;
    bool is_namespace; /* *-define-prefix: local symbols count too */
    char *reason;   /* forbid rules: why, "" when the line gave none */
} rule;

typedef struct {
    rule *item;
    size_t count, cap;
} rule_list;

typedef struct objcheck_policy {
    name_set own;       /* defined by the exercise's skeleton object */
    name_set reserved;  /* defined by the grader, the CUDA runtime, the C/C++ libraries */
    name_set session;   /* defined by the session's other objects */
    rule_list undefined_rules, define_rules;
    char *object_path;  /* the file objdump disassembles; NULL: no disassembly (fuzzing) */
    void (*report)(void *ctx, const char *reason);
    void *report_ctx;
} objcheck_policy;

/* The last rule that matches wins: a session's policy, read after the base, overrides it. */
static const rule *last_match(const rule_list *list, const char *name, size_t n) {
    const rule *found = NULL;
    for (size_t i = 0; i < list->count; i++) {
        const rule *r = &list->item[i];
        bool match = r->prefix ? (r->len <= n && memcmp(r->pattern, name, r->len) == 0)
                               : (r->len == n && memcmp(r->pattern, name, n) == 0);
        if (match) found = r;
    }
    return found;
}

static bool rule_add(rule_list *list, const char *pattern, size_t plen, bool prefix, bool allow, bool is_namespace,
                     const char *reason, size_t rlen) {
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 64;
        rule *item = realloc(list->item, cap * sizeof *item);
        if (!item) return false;
        list->item = item;
        list->cap = cap;
    }
    rule *r = &list->item[list->count];
    r->pattern = malloc(plen + 1);
    r->reason = malloc(rlen + 1);
    if (!r->pattern || !r->reason) {
        free(r->pattern);
        free(r->reason);
        return false;
    }
    memcpy(r->pattern, pattern, plen);
    r->pattern[plen] = '\0';
    r->len = plen;
    memcpy(r->reason, reason, rlen);
    r->reason[rlen] = '\0';
    r->prefix = prefix;
    r->allow = allow;
    r->is_namespace = is_namespace;
    list->count++;
    return true;
}

static void rule_list_free(rule_list *list) {
    for (size_t i = 0; i < list->count; i++) {
        free(list->item[i].pattern);
        free(list->item[i].reason);
    }
    free(list->item);
    memset(list, 0, sizeof *list);
}

objcheck_policy *objcheck_policy_new(void) { return calloc(1, sizeof(objcheck_policy)); }

void objcheck_policy_free(objcheck_policy *p) {
    if (!p) return;
    name_set_free(&p->own);
    name_set_free(&p->reserved);
    name_set_free(&p->session);
    rule_list_free(&p->undefined_rules);
    rule_list_free(&p->define_rules);
    free(p->object_path);
    free(p);
}

/* objdump disassembles this file for the syscall rule; NULL skips that rule (the fuzz harness). */
int objcheck_policy_set_disassembly(objcheck_policy *p, const char *object_path) {
    free(p->object_path);
    p->object_path = NULL;
    if (object_path && !(p->object_path = strdup(object_path))) return 2;
    return 0;
}

void objcheck_policy_set_report(objcheck_policy *p, void (*report)(void *ctx, const char *reason), void *ctx) {
    p->report = report;
    p->report_ctx = ctx;
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

/* Calls line(ctx, start, length, number) for each line of text, blanks trimmed, until it fails. */
static int for_each_line(const char *text, size_t len, void *ctx, int (*line)(void *, const char *, size_t, size_t)) {
    size_t number = 0;
    for (size_t at = 0; at < len;) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t a = at, b = end;
        while (a < b && is_space(text[a])) a++;
        while (b > a && is_space(text[b - 1])) b--;
        number++;
        int rc = line(ctx, text + a, b - a, number);
        if (rc) return rc;
        at = end + 1;
    }
    return 0;
}

typedef struct {
    objcheck_policy *policy;
    const char *origin;
    char *why;
    size_t why_len;
} policy_reader;

static int policy_line(void *ctx, const char *s, size_t n, size_t number) {
    policy_reader *r = ctx;
    if (n == 0 || s[0] == '#') return 0;
    if (memchr(s, '\0', n)) {
        set_why(r->why, r->why_len, "%s:%zu: a NUL byte in a policy line", r->origin, number);
        return 2;
    }
    /* keyword, pattern, then the rest of the line: the reason */
    size_t k = 0;
    while (k < n && !is_space(s[k])) k++;
    size_t p0 = k;
    while (p0 < n && is_space(s[p0])) p0++;
    size_t p1 = p0;
    while (p1 < n && !is_space(s[p1])) p1++;
    size_t r0 = p1;
    while (r0 < n && is_space(s[r0])) r0++;
    const char *kw = s, *pat = s + p0, *reason = s + r0;
    size_t plen = p1 - p0, rlen = n - r0;

    static const struct {
        const char *keyword;
        bool define, allow, prefix_form;
    } KEYWORDS[] = {
        {"allow-undefined", false, true, false},     {"forbid-undefined", false, false, false},
        {"allow-define", true, true, false},         {"forbid-define", true, false, false},
        {"allow-define-prefix", true, true, true},   {"forbid-define-prefix", true, false, true},
    };
    for (size_t i = 0; i < sizeof KEYWORDS / sizeof KEYWORDS[0]; i++) {
        if (strlen(KEYWORDS[i].keyword) != k || memcmp(kw, KEYWORDS[i].keyword, k) != 0) continue;
        if (plen == 0) {
            set_why(r->why, r->why_len, "%s:%zu: %s needs a name", r->origin, number, KEYWORDS[i].keyword);
            return 2;
        }
        bool prefix = KEYWORDS[i].prefix_form;
        if (pat[plen - 1] == '*') {
            prefix = true;
            plen--;
        }
        if (plen == 0 || memchr(pat, '*', plen)) {
            set_why(r->why, r->why_len, "%s:%zu: '*' may only end a name", r->origin, number);
            return 2;
        }
        if (KEYWORDS[i].allow && rlen > 0) {
            set_why(r->why, r->why_len, "%s:%zu: %s takes one name and no reason", r->origin, number,
                    KEYWORDS[i].keyword);
            return 2;
        }
        rule_list *list = KEYWORDS[i].define ? &r->policy->define_rules : &r->policy->undefined_rules;
        if (!rule_add(list, pat, plen, prefix, KEYWORDS[i].allow, KEYWORDS[i].prefix_form, reason, rlen)) {
            set_why(r->why, r->why_len, "out of memory");
            return 2;
        }
        return 0;
    }
    set_why(r->why, r->why_len,
            "%s:%zu: unknown rule '%.*s' (allow-undefined, forbid-undefined, allow-define, forbid-define, "
            "allow-define-prefix, forbid-define-prefix)",
            r->origin, number, (int)(k > 40 ? 40 : k), kw);
    return 2;
}

/* Adds the rules of one policy file. 0, or 2 with why naming the line. */
int objcheck_policy_parse(objcheck_policy *p, const char *text, size_t len, const char *origin, char *why,
                          size_t why_len) {
    policy_reader r = {p, origin ? origin : "policy", why, why_len};
    return for_each_line(text, len, &r, policy_line);
}

typedef struct {
    name_set *set;
    char *why;
    size_t why_len;
} names_reader;

static int names_line(void *ctx, const char *s, size_t n, size_t number) {
    names_reader *r = ctx;
    (void)number;
    if (n == 0 || s[0] == '#') return 0;
    const char *at = memchr(s, '@', n);  /* a versioned name counts as its plain name */
    if (at && at != s) n = (size_t)(at - s);
    if (memchr(s, '\0', n)) return 0;    /* cannot be a symbol name */
    if (!name_set_add(r->set, s, n)) {
        set_why(r->why, r->why_len, "out of memory");
        return 2;
    }
    return 0;
}

/* Adds names, one a line, to the set `which`: "reserved", "session" or "own". 0, or 2. */
int objcheck_policy_add_names(objcheck_policy *p, const char *which, const char *text, size_t len, char *why,
                              size_t why_len) {
    name_set *set = strcmp(which, "reserved") == 0 ? &p->reserved
                    : strcmp(which, "session") == 0 ? &p->session
                    : strcmp(which, "own") == 0     ? &p->own
                                                    : NULL;
    if (!set) {
        set_why(why, why_len, "no name list called '%s'", which);
        return 2;
    }
    names_reader r = {set, why, why_len};
    return for_each_line(text, len, &r, names_line);
}

/* ---- the ELF reader --------------------------------------------------------------------------- */

typedef struct {
    const char *name;
    uint32_t type;
    uint64_t flags, offset, size, entsize;
    uint32_t link, info;
} section;

typedef struct {
    const char *name;
    uint64_t value, size;
    unsigned char bind, type;
    uint32_t shndx;  /* a section index (SHT_SYMTAB_SHNDX resolved), SHN_UNDEF, SYM_ABS or SYM_COMMON */
    bool called;     /* some relocation calls it through the PLT */
} symbol;

typedef struct {
    uint64_t offset;
    uint32_t type, sym;
    int64_t addend;
} relocation;

typedef struct {
    const unsigned char *img;
    size_t len;
    section *sec;
    size_t nsec;
    symbol *sym;
    size_t nsym;
    size_t symtab;  /* the index of the SHT_SYMTAB section */
} elf_object;

static uint16_t rd16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const unsigned char *p) { return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const unsigned char *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

/* [offset, offset + size) lies inside a file of len bytes; written so that nothing wraps. */
static bool in_file(size_t len, uint64_t offset, uint64_t size) { return offset <= len && size <= len - offset; }

/* A string of a string table: NULL when the index is outside it or the string does not end in it. */
static const char *string_at(const elf_object *o, const section *table, uint64_t index) {
    if (index >= table->size) return NULL;
    const char *s = (const char *)o->img + table->offset + index;
    return memchr(s, '\0', table->size - index) ? s : NULL;
}

static bool has_data(const section *s) { return s->type != SHT_NOBITS && s->type != SHT_NULL; }

static void elf_free(elf_object *o) {
    free(o->sec);
    free(o->sym);
    memset(o, 0, sizeof *o);
}

static relocation relocation_at(const elf_object *o, const section *rs, size_t i) {
    const unsigned char *p = o->img + rs->offset + i * rs->entsize;
    uint64_t info = rd64(p + 8);
    relocation r = {rd64(p), (uint32_t)info, (uint32_t)(info >> 32), 0};
    if (rs->type == SHT_RELA) {
        r.addend = (int64_t)rd64(p + 16);
    } else {  /* SHT_REL: the addend is in place, 8 bytes for the R_X86_64_64 this reader needs */
        const section *target = &o->sec[rs->info];
        if (has_data(target) && r.offset <= target->size && target->size - r.offset >= 8)
            r.addend = (int64_t)rd64(o->img + target->offset + r.offset);
    }
    return r;
}

static bool elf_parse(elf_object *o, const unsigned char *img, size_t len, char *why, size_t why_len) {
    memset(o, 0, sizeof *o);
    o->img = img;
    o->len = len;
    if (len == 0) return set_why(why, why_len, "the file is empty"), false;
    if (len < 4 || memcmp(img, ELFMAG, SELFMAG) != 0) return set_why(why, why_len, "not an ELF file"), false;
    if (len < sizeof(Elf64_Ehdr))
        return set_why(why, why_len, "truncated: %zu bytes, shorter than an ELF header", len), false;
    if (img[EI_CLASS] != ELFCLASS64)
        return set_why(why, why_len, "not a 64-bit ELF file (class %u); objcheck reads x86-64 objects",
                       img[EI_CLASS]), false;
    if (img[EI_DATA] != ELFDATA2LSB) return set_why(why, why_len, "not a little-endian ELF file"), false;
    if (img[EI_VERSION] != EV_CURRENT) return set_why(why, why_len, "unknown ELF version %u", img[EI_VERSION]), false;
    uint16_t e_type = rd16(img + 16), e_machine = rd16(img + 18);
    if (e_type != ET_REL)
        return set_why(why, why_len, "not a relocatable object (ELF type %u): objcheck reads what nvcc -c makes",
                       e_type), false;
    if (e_machine != EM_X86_64) return set_why(why, why_len, "not an x86-64 object (machine %u)", e_machine), false;

    uint64_t shoff = rd64(img + 40);
    uint16_t shentsize = rd16(img + 58), e_shnum = rd16(img + 60), e_shstrndx = rd16(img + 62);
    if (shoff == 0) return set_why(why, why_len, "no section headers"), false;
    if (shentsize != sizeof(Elf64_Shdr))
        return set_why(why, why_len, "section header size %u, not %zu", shentsize, sizeof(Elf64_Shdr)), false;
    if (!in_file(len, shoff, sizeof(Elf64_Shdr)))
        return set_why(why, why_len, "the section headers (offset 0x%llx) lie past the end of the file (%zu bytes)",
                       (unsigned long long)shoff, len), false;
    /* Past 0xff00 sections the count and the name table's index move into section 0. */
    const unsigned char *sh0 = img + shoff;
    uint64_t nsec = e_shnum ? e_shnum : rd64(sh0 + 32);
    uint64_t shstrndx = e_shstrndx == SHN_XINDEX ? rd32(sh0 + 40) : e_shstrndx;
    if (nsec == 0 || nsec > (len - shoff) / sizeof(Elf64_Shdr))
        return set_why(why, why_len, "%llu section headers do not fit in the file", (unsigned long long)nsec), false;
    o->nsec = (size_t)nsec;
    o->sec = calloc(o->nsec, sizeof *o->sec);
    if (!o->sec) return set_why(why, why_len, "out of memory"), false;

    for (size_t i = 0; i < o->nsec; i++) {
        const unsigned char *h = img + shoff + i * sizeof(Elf64_Shdr);
        section *s = &o->sec[i];
        s->name = NULL;
        s->type = rd32(h + 4);
        s->flags = rd64(h + 8);
        s->offset = rd64(h + 24);
        s->size = rd64(h + 32);
        s->link = rd32(h + 40);
        s->info = rd32(h + 44);
        s->entsize = rd64(h + 56);
        if (i > 0 && has_data(s) && !in_file(len, s->offset, s->size))
            return set_why(why, why_len, "section %zu's data (offset 0x%llx, 0x%llx bytes) lies past the end of the "
                           "file (%zu bytes)", i, (unsigned long long)s->offset, (unsigned long long)s->size, len),
                   false;
    }
    if (shstrndx == SHN_UNDEF || shstrndx >= o->nsec)
        return set_why(why, why_len, "the section name table's index %llu is out of range (%zu sections)",
                       (unsigned long long)shstrndx, o->nsec), false;
    const section *names = &o->sec[shstrndx];
    if (names->type != SHT_STRTAB) return set_why(why, why_len, "the section name table is not a string table"), false;
    for (size_t i = 0; i < o->nsec; i++) {
        uint32_t sh_name = rd32(img + shoff + i * sizeof(Elf64_Shdr));
        o->sec[i].name = string_at(o, names, sh_name);
        if (!o->sec[i].name)
            return set_why(why, why_len, "section %zu's name (index %u) is outside the section name table", i, sh_name),
                   false;
    }

    /* The symbol table: one, in an object that nvcc made. */
    size_t symtabs = 0;
    for (size_t i = 1; i < o->nsec; i++)
        if (o->sec[i].type == SHT_SYMTAB) symtabs++, o->symtab = i;
    if (symtabs != 1)
        return set_why(why, why_len, symtabs ? "more than one symbol table" : "no symbol table"), false;
    const section *st = &o->sec[o->symtab];
    if (st->entsize != sizeof(Elf64_Sym) || st->size % sizeof(Elf64_Sym) != 0)
        return set_why(why, why_len, "the symbol table's entries are not %zu bytes", sizeof(Elf64_Sym)), false;
    if (st->link == 0 || st->link >= o->nsec || o->sec[st->link].type != SHT_STRTAB)
        return set_why(why, why_len, "the symbol table's string table (section %u) is missing or not one", st->link),
               false;
    const section *strtab = &o->sec[st->link];
    o->nsym = (size_t)(st->size / sizeof(Elf64_Sym));
    const section *xindex = NULL;  /* SHT_SYMTAB_SHNDX: section indices that do not fit 16 bits */
    for (size_t i = 1; i < o->nsec; i++) {
        if (o->sec[i].type != SHT_SYMTAB_SHNDX || o->sec[i].link != o->symtab) continue;
        if (o->sec[i].size / 4 < o->nsym)
            return set_why(why, why_len, "the extended section index table is shorter than the symbol table"), false;
        xindex = &o->sec[i];
    }
    o->sym = calloc(o->nsym ? o->nsym : 1, sizeof *o->sym);
    if (!o->sym) return set_why(why, why_len, "out of memory"), false;
    for (size_t i = 0; i < o->nsym; i++) {
        const unsigned char *e = img + st->offset + i * sizeof(Elf64_Sym);
        symbol *y = &o->sym[i];
        uint32_t st_name = rd32(e);
        y->name = string_at(o, strtab, st_name);
        if (!y->name)
            return set_why(why, why_len, "symbol %zu's name (index %u) is outside the string table", i, st_name), false;
        y->bind = ELF64_ST_BIND(e[4]);
        y->type = ELF64_ST_TYPE(e[4]);
        uint16_t shndx = rd16(e + 6);
        y->value = rd64(e + 8);
        y->size = rd64(e + 16);
        if (shndx == SHN_XINDEX) {
            if (!xindex)
                return set_why(why, why_len, "symbol %zu uses an extended section index, and there is no table of them",
                               i), false;
            y->shndx = rd32(img + xindex->offset + i * 4);
            if (y->shndx == SHN_UNDEF || y->shndx >= o->nsec)
                return set_why(why, why_len, "symbol %zu's extended section index %u is out of range", i, y->shndx),
                       false;
        } else if (shndx >= SHN_LORESERVE) {
            if (shndx != SHN_ABS && shndx != SHN_COMMON && shndx != SHN_LARGE_COMMON)
                return set_why(why, why_len, "symbol %zu has an unknown special section index 0x%x", i, shndx), false;
            y->shndx = shndx == SHN_ABS ? SYM_ABS : SYM_COMMON;
        } else {
            if (shndx >= o->nsec)
                return set_why(why, why_len, "symbol %zu's section index %u is out of range (%zu sections)", i, shndx,
                               o->nsec), false;
            y->shndx = shndx;
        }
    }

    /* Relocations: checked whole now, so that later readers only index. */
    for (size_t i = 1; i < o->nsec; i++) {
        const section *rs = &o->sec[i];
        if (rs->type != SHT_RELA && rs->type != SHT_REL) continue;
        uint64_t entsize = rs->type == SHT_RELA ? sizeof(Elf64_Rela) : sizeof(Elf64_Rel);
        if (rs->entsize != entsize || rs->size % entsize != 0)
            return set_why(why, why_len, "relocation section %zu's entries are not %llu bytes", i,
                           (unsigned long long)entsize), false;
        if (rs->link != o->symtab)
            return set_why(why, why_len, "relocation section %zu does not use the symbol table", i), false;
        if (rs->info == 0 || rs->info >= o->nsec)
            return set_why(why, why_len, "relocation section %zu applies to section %u, which does not exist", i,
                           rs->info), false;
        for (size_t k = 0; k < rs->size / entsize; k++) {
            relocation r = relocation_at(o, rs, k);
            if (r.sym >= o->nsym)
                return set_why(why, why_len, "relocation %zu of section %zu names symbol %u, past the symbol table", k,
                               i, r.sym), false;
            if (r.type == R_X86_64_PLT32) o->sym[r.sym].called = true;
        }
    }
    return true;
}

/* ---- the checks ------------------------------------------------------------------------------- */

typedef struct {
    const objcheck_policy *policy;
    const elf_object *obj;
    char *why;
    size_t why_len;
    size_t found;     /* violations */
    size_t reported;  /* of them, lines given to the report callback */
} checker;

static void violation(checker *c, const char *fmt, ...) {
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (c->found++ == 0) set_why(c->why, c->why_len, "%s", line);
    if (c->reported < MAX_REPORTS) {
        c->reported++;
        if (c->policy->report) c->policy->report(c->policy->report_ctx, line);
    }
}

static bool is_defined(const symbol *y) { return y->shndx != SHN_UNDEF; }
static bool is_named_symbol(const symbol *y) { return y->type != STT_SECTION && y->type != STT_FILE && y->name[0]; }
static bool is_global_like(const symbol *y) { return y->bind != STB_LOCAL; }  /* GLOBAL, WEAK, GNU_UNIQUE, ... */

/* Vague linkage: a copy the linker may merge with identical ones (inline functions, templates). */
static bool is_vague(const elf_object *o, const symbol *y) {
    if (y->bind == STB_GNU_UNIQUE) return true;
    return y->bind == STB_WEAK && y->shndx < o->nsec && (o->sec[y->shndx].flags & SHF_GROUP);
}

static const char *binding_note(const symbol *y) {
    if (y->shndx == SYM_COMMON) return " (a common symbol)";
    if (y->bind == STB_WEAK) return " (a weak definition)";
    return "";
}

/* Who owns a reserved name, by its family, for the message. */
static const char *owner_of(const char *name) {
    if (starts_with(name, "gr_")) return "the grader";
    if (!strcmp(name, "main") || !strcmp(name, "_start") || !strcmp(name, "_init") || !strcmp(name, "_fini"))
        return "the grader's program";
    if (starts_with(name, "cublas")) return "cuBLAS";
    if (starts_with(name, "cuda") || starts_with(name, "__cuda") || starts_with(name, "__nv"))
        return "the CUDA runtime";
    return "the grader, the CUDA runtime or the C/C++ libraries";
}

/* 1. Library namespaces, over every symbol the object defines: one line a rule. */
static void check_namespaces(checker *c) {
    const elf_object *o = c->obj;
    const rule_list *rules = &c->policy->define_rules;
    if (rules->count == 0) return;
    size_t *hits = calloc(rules->count, sizeof *hits), *first = calloc(rules->count, sizeof *first);
    if (!hits || !first) {
        free(hits);
        free(first);
        violation(c, "objcheck ran out of memory checking library namespaces");
        return;
    }
    for (size_t i = 1; i < o->nsym; i++) {
        const symbol *y = &o->sym[i];
        if (!is_defined(y) || !is_named_symbol(y)) continue;
        const rule *r = last_match(rules, y->name, unversioned_len(y->name));
        if (!r || r->allow || !r->is_namespace) continue;
        size_t k = (size_t)(r - rules->item);
        if (hits[k]++ == 0) first[k] = i;
    }
    for (size_t k = 0; k < rules->count; k++) {
        if (!hits[k]) continue;
        char name[SHOWN_NAME_MAX], prefix[64];
        const rule *r = &rules->item[k];
        char more[160] = "";
        if (hits[k] > 1)
            snprintf(more, sizeof more, " and %zu more under %s", hits[k] - 1,
                     shown(prefix, sizeof prefix, r->pattern));
        violation(c, "defines %s%s: %s", shown(name, sizeof name, o->sym[first[k]].name), more,
                  r->reason[0] ? r->reason : "a library's namespace, which this exercise may not use");
    }
    free(hits);
    free(first);
}

/* 2. What the object defines for the linker to see. */
static void check_definitions(checker *c) {
    const elf_object *o = c->obj;
    const objcheck_policy *p = c->policy;
    for (size_t i = 1; i < o->nsym; i++) {
        const symbol *y = &o->sym[i];
        if (!is_defined(y) || !is_global_like(y) || !is_named_symbol(y)) continue;
        size_t n = unversioned_len(y->name);
        char name[SHOWN_NAME_MAX];
        const rule *r = last_match(&p->define_rules, y->name, n);
        if (r && r->allow) continue;
        if (r && r->is_namespace) continue;  /* reported by check_namespaces */
        if (r) {
            violation(c, "defines %s%s: %s", shown(name, sizeof name, y->name), binding_note(y),
                      r->reason[0] ? r->reason : WHY_ONLY_OWN);
            continue;
        }
        if (name_set_has(&p->own, y->name, n)) continue;
        if (name_set_has(&p->reserved, y->name, n)) {
            violation(c, "defines %s%s, which belongs to %s: " WHY_ONLY_OWN, shown(name, sizeof name, y->name),
                      binding_note(y), owner_of(y->name));
        } else if (name_set_has(&p->session, y->name, n) && !is_vague(o, y)) {
            violation(c, "defines %s%s, which another exercise of this session or its given code defines: "
                      WHY_ONLY_OWN, shown(name, sizeof name, y->name), binding_note(y));
        }
    }
}

/* nvcc's fat-binary registration: the one function a file may run before main. */
static bool is_registration(const elf_object *o, const symbol *y) {
    return (!strcmp(y->name, "_ZL24__sti____cudaRegisterAllv") || !strcmp(y->name, "__sti____cudaRegisterAll")) &&
           y->bind == STB_LOCAL && y->type == STT_FUNC && y->shndx < o->nsec && y->shndx != SHN_UNDEF &&
           (o->sec[y->shndx].flags & SHF_EXECINSTR);
}

/* The symbol a section symbol + addend points at: a function there first, else any label. */
static const symbol *symbol_at(const elf_object *o, uint32_t shndx, uint64_t offset) {
    const symbol *label = NULL;
    for (size_t i = 1; i < o->nsym; i++) {
        const symbol *y = &o->sym[i];
        if (y->shndx != shndx || y->value != offset || !is_named_symbol(y)) continue;
        if (y->type == STT_FUNC || y->type == STT_GNU_IFUNC) return y;
        if (!label) label = y;
    }
    return label;
}

typedef enum { NOT_STARTUP, BEFORE_MAIN, AT_EXIT } startup_kind;

static startup_kind startup_section(const section *s) {
    static const struct {
        const char *name;
        bool prefix;
        startup_kind kind;
    } NAMES[] = {
        {".init_array", true, BEFORE_MAIN}, {".preinit_array", true, BEFORE_MAIN}, {".ctors", true, BEFORE_MAIN},
        {".init", false, BEFORE_MAIN},      {".fini_array", true, AT_EXIT},        {".dtors", true, AT_EXIT},
        {".fini", false, AT_EXIT},
    };
    if (s->type == SHT_INIT_ARRAY || s->type == SHT_PREINIT_ARRAY) return BEFORE_MAIN;
    if (s->type == SHT_FINI_ARRAY) return AT_EXIT;
    for (size_t i = 0; i < sizeof NAMES / sizeof NAMES[0]; i++) {
        size_t n = strlen(NAMES[i].name);
        if (NAMES[i].prefix ? strncmp(s->name, NAMES[i].name, n) == 0 && (s->name[n] == '\0' || s->name[n] == '.')
                            : strcmp(s->name, NAMES[i].name) == 0)
            return NAMES[i].kind;
    }
    return NOT_STARTUP;
}

/* One entry of a function-pointer array: the relocation that fills it (relocs of them at its offset). */
static void check_startup_entry(checker *c, const section *s, uint64_t offset, size_t relocs, relocation r,
                                startup_kind kind, bool *registration_seen) {
    const elf_object *o = c->obj;
    const char *when = kind == BEFORE_MAIN ? "before main" : "at exit";
    char name[SHOWN_NAME_MAX], sec[64];
    shown(sec, sizeof sec, s->name);
    if (relocs != 1 || r.type != R_X86_64_64) {
        violation(c, "has a %s entry at offset %llu that is not one plain function address: code run %s", sec,
                  (unsigned long long)offset, when);
        return;
    }
    const symbol *target = &o->sym[r.sym];
    if (target->type == STT_SECTION) {  /* section + addend: the function that starts there */
        uint64_t at = target->value + (uint64_t)r.addend;
        const symbol *there = symbol_at(o, target->shndx, at);
        if (!there) {
            violation(c, "runs code %s (a %s entry pointing into section %u at 0x%llx)", when, sec, target->shndx,
                      (unsigned long long)at);
            return;
        }
        target = there;
    } else if (r.addend != 0) {
        violation(c, "runs code %s (a %s entry pointing inside %s)", when, sec, shown(name, sizeof name, target->name));
        return;
    }
    if (kind == BEFORE_MAIN && !*registration_seen && !strcmp(s->name, ".init_array") && s->type == SHT_INIT_ARRAY &&
        is_registration(o, target)) {
        *registration_seen = true;  /* nvcc's own entry, allowed once */
        return;
    }
    shown(name, sizeof name, target->name);
    if (starts_with(target->name, "_GLOBAL__sub_I_"))
        violation(c, "runs %s %s: the constructor of a C++ global object (%s); a file may not run code %s", name,
                  when, sec, when);
    else
        violation(c, "runs %s %s (a %s entry): a file may not run code %s", name, when, sec, when);
}

#define MAX_STARTUP_ENTRIES 64  /* entries looked at one by one; more is reported as a whole */

/* A function-pointer array: its relocations gathered in one pass, then each entry judged. */
static void check_startup_array(checker *c, size_t shndx, startup_kind kind, bool *registration_seen) {
    const elf_object *o = c->obj;
    const section *s = &o->sec[shndx];
    const char *when = kind == BEFORE_MAIN ? "before main" : "at exit";
    char sec[64];
    shown(sec, sizeof sec, s->name);
    if (s->type == SHT_NOBITS || s->size % 8 != 0) {
        violation(c, "has a %s section that is not an array of function addresses: code run %s", sec, when);
        return;
    }
    uint64_t entries = s->size / 8;
    if (entries > MAX_STARTUP_ENTRIES) {
        violation(c, "has a %s section of %llu entries: code run %s", sec, (unsigned long long)entries, when);
        return;
    }
    size_t relocs[MAX_STARTUP_ENTRIES] = {0};
    relocation first[MAX_STARTUP_ENTRIES];
    memset(first, 0, sizeof first);
    for (size_t i = 1; i < o->nsec; i++) {
        const section *rs = &o->sec[i];
        if ((rs->type != SHT_RELA && rs->type != SHT_REL) || rs->info != shndx) continue;
        for (size_t k = 0; k < rs->size / rs->entsize; k++) {
            relocation r = relocation_at(o, rs, k);
            if (r.offset >= s->size || r.offset % 8 != 0) {
                violation(c, "has a %s relocation at offset %llu, between entries: code run %s", sec,
                          (unsigned long long)r.offset, when);
                continue;
            }
            size_t e = (size_t)(r.offset / 8);
            if (relocs[e]++ == 0) first[e] = r;
        }
    }
    for (size_t e = 0; e < entries; e++)
        check_startup_entry(c, s, (uint64_t)e * 8, relocs[e], first[e], kind, registration_seen);
}

/* 3. Code run before main or at exit, and indirect functions. */
static void check_startup(checker *c) {
    const elf_object *o = c->obj;
    bool registration_seen = false;
    for (size_t i = 1; i < o->nsec; i++) {
        const section *s = &o->sec[i];
        startup_kind kind = startup_section(s);
        if (kind == NOT_STARTUP) continue;
        bool code = (!strcmp(s->name, ".init") || !strcmp(s->name, ".fini")) && s->type != SHT_INIT_ARRAY &&
                    s->type != SHT_PREINIT_ARRAY && s->type != SHT_FINI_ARRAY;
        if (code) {
            char sec[64];
            violation(c, "has a %s section: code the C runtime runs %s", shown(sec, sizeof sec, s->name),
                      kind == BEFORE_MAIN ? "before main" : "at exit");
        } else if (s->size > 0) {  /* an empty array runs nothing */
            check_startup_array(c, i, kind, &registration_seen);
        }
    }
    for (size_t i = 1; i < o->nsym; i++) {
        const symbol *y = &o->sym[i];
        char name[SHOWN_NAME_MAX];
        if (y->type == STT_GNU_IFUNC)
            violation(c, "defines %s as an indirect function (ifunc), whose resolver runs before main",
                      shown(name, sizeof name, y->name));
    }
}

/* Why an undefined name is off the allow-list, by its family (the first that matches). */
static const char *undefined_reason(const objcheck_policy *p, const char *name, size_t n) {
    static const char LIBRARY[] = "a vendor library would do the work the exercise asks for";
    static const char GRADER_OWNS[] = "streams, events, synchronisation and memory belong to the grader; a launcher "
                                      "works on the stream and buffers it is given";
    static const char HOST_OS[] = "a launcher may not reach the host OS (threads, processes, files, environment, "
                                  "dynamic loading, memory protection)";
    static const char TIMING[] = "timing belongs to the grader";
    static const char DRIVER[] = "it is the CUDA driver API; a launcher uses only the runtime calls on the allow-list";
    static const struct {
        const char *pattern;  /* exact, or a prefix when it ends in '*' */
        const char *reason;
    } FAMILIES[] = {
        {"cublas*", LIBRARY}, {"cudnn*", LIBRARY}, {"cufft*", LIBRARY}, {"curand*", LIBRARY},
        {"cusparse*", LIBRARY}, {"cusolver*", LIBRARY}, {"cutensor*", LIBRARY}, {"nvrtc*", LIBRARY},
        {"nvJitLink*", LIBRARY}, {"nccl*", LIBRARY}, {"nvshmem*", LIBRARY}, {"npp*", LIBRARY},
        {"cudaEventElapsedTime", TIMING}, {"cudaStream*", GRADER_OWNS}, {"cudaEvent*", GRADER_OWNS},
        {"cudaDevice*", GRADER_OWNS}, {"cudaThread*", GRADER_OWNS}, {"cudaSetDevice*", GRADER_OWNS},
        {"cudaMalloc*", GRADER_OWNS}, {"cudaFree*", GRADER_OWNS}, {"cudaMemcpy*", GRADER_OWNS},
        {"cudaMemset*", GRADER_OWNS}, {"cudaMemPrefetch*", GRADER_OWNS}, {"cudaMemAdvise*", GRADER_OWNS},
        {"cudaMemPool*", GRADER_OWNS}, {"cudaHost*", GRADER_OWNS}, {"cudaGraph*", GRADER_OWNS},
        {"cudaLaunchHostFunc", GRADER_OWNS}, {"cudaCtx*", GRADER_OWNS}, {"cudaIpc*", GRADER_OWNS},
        {"cudaProfiler*", GRADER_OWNS}, {"cudaGetDriverEntryPoint*", DRIVER},
        {"pthread_*", HOST_OS}, {"_ZNSt6thread*", HOST_OS}, {"fork", HOST_OS}, {"vfork", HOST_OS},
        {"clone*", HOST_OS}, {"system", HOST_OS}, {"popen", HOST_OS}, {"exec*", HOST_OS}, {"fexecve", HOST_OS},
        {"posix_spawn*", HOST_OS}, {"dlopen", HOST_OS}, {"dlmopen", HOST_OS}, {"dlsym", HOST_OS},
        {"dlvsym", HOST_OS}, {"dlclose", HOST_OS}, {"fopen*", HOST_OS}, {"freopen*", HOST_OS}, {"open", HOST_OS},
        {"open64", HOST_OS}, {"openat*", HOST_OS}, {"creat*", HOST_OS}, {"getenv", HOST_OS},
        {"secure_getenv", HOST_OS}, {"setenv", HOST_OS}, {"unsetenv", HOST_OS}, {"putenv", HOST_OS},
        {"environ", HOST_OS}, {"__environ", HOST_OS}, {"syscall", HOST_OS}, {"mprotect", HOST_OS},
        {"mmap*", HOST_OS}, {"ptrace", HOST_OS}, {"prctl", HOST_OS}, {"kill", HOST_OS}, {"signal", HOST_OS},
        {"sigaction", HOST_OS}, {"_ZNSt14basic_ifstream*", HOST_OS}, {"_ZNSt14basic_ofstream*", HOST_OS},
        {"clock", TIMING}, {"clock_gettime", TIMING}, {"gettimeofday", TIMING}, {"time", TIMING},
        {"timespec_get", TIMING}, {"_ZNSt6chrono*", TIMING},
        {"__cxa_atexit", "it registers a C++ global object's destructor, run at exit"},
        {"_ZNSt8ios_base4Init*", "iostream's static initialiser runs before main; use printf"},
    };
    for (size_t i = 0; i < sizeof FAMILIES / sizeof FAMILIES[0]; i++) {
        size_t plen = strlen(FAMILIES[i].pattern);
        bool prefix = FAMILIES[i].pattern[plen - 1] == '*';
        if (prefix ? (plen - 1 <= n && memcmp(FAMILIES[i].pattern, name, plen - 1) == 0)
                   : (plen == n && memcmp(FAMILIES[i].pattern, name, n) == 0))
            return FAMILIES[i].reason;
    }
    if (n > 2 && name[0] == 'c' && name[1] == 'u' && name[2] >= 'A' && name[2] <= 'Z') return DRIVER;
    if (name_set_has(&p->reserved, name, n))
        return "a library function off the allow-list (grader/policy/base.txt and the session's policy.txt)";
    return NULL;
}

/* 4. What the object references: the allow-list. */
static void check_undefined(checker *c) {
    const elf_object *o = c->obj;
    const objcheck_policy *p = c->policy;
    for (size_t i = 1; i < o->nsym; i++) {
        const symbol *y = &o->sym[i];
        if (is_defined(y) || !is_global_like(y) || !y->name[0]) continue;
        size_t n = unversioned_len(y->name);
        const rule *r = last_match(&p->undefined_rules, y->name, n);
        if (r && r->allow) continue;
        char name[SHOWN_NAME_MAX];
        const char *verb = y->called ? "calls" : "uses";
        shown(name, sizeof name, y->name);
        if (r && r->reason[0]) {
            violation(c, "%s %s, which this exercise may not use: %s", verb, name, r->reason);
        } else if (starts_with(y->name, "gr_")) {
            violation(c, "%s %s, which belongs to the grader: student code may not reach the grader's functions", verb,
                      name);
        } else if (name_set_has(&p->session, y->name, n)) {
            violation(c, "%s %s, another exercise's launcher or the session's given code: a file may use only its "
                      "own code and the allow-list", verb, name);
        } else {
            const char *why = undefined_reason(p, y->name, n);
            if (why)
                violation(c, "%s %s, which this exercise may not use: %s", verb, name, why);
            else
                violation(c, "%s %s, which is not on this exercise's allow-list (grader/policy/base.txt and the "
                          "session's policy.txt)", verb, name);
        }
    }
}

/* 5. Sections that let code change or run from data. */
static void check_sections(checker *c) {
    const elf_object *o = c->obj;
    bool stack_note = false;
    for (size_t i = 1; i < o->nsec; i++) {
        const section *s = &o->sec[i];
        char sec[64];
        if ((s->flags & SHF_WRITE) && (s->flags & SHF_EXECINSTR))
            violation(c, "has section %s both writable and executable: code that can rewrite itself",
                      shown(sec, sizeof sec, s->name));
        if (!strcmp(s->name, ".note.GNU-stack")) {
            stack_note = true;
            if (s->flags & SHF_EXECINSTR)
                violation(c, "asks for an executable stack (.note.GNU-stack marked executable): code run from data");
        }
    }
    if (!stack_note)
        violation(c, "has no .note.GNU-stack section, which makes the linker give the program an executable stack");
}

/* 6. Raw system calls in host code, from objdump's disassembly of the executable sections. */
static bool is_syscall_mnemonic(const char *insn) {
    char text[256];
    size_t n = 0;
    for (; insn[n] && insn[n] != '#' && insn[n] != '<' && n + 1 < sizeof text; n++) text[n] = insn[n];
    text[n] = '\0';
    for (char *save = NULL, *word = strtok_r(text, " \t,\n", &save); word; word = strtok_r(NULL, " \t,\n", &save))
        if (!strcmp(word, "syscall") || !strcmp(word, "sysenter") || !strcmp(word, "int")) return true;
    return false;
}

static int check_syscalls(checker *c, const char *path) {
    int fds[2];
    if (pipe(fds) != 0) return set_why(c->why, c->why_len, "cannot run objdump: %s", strerror(errno)), 2;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return set_why(c->why, c->why_len, "cannot run objdump: %s", strerror(errno)), 2;
    }
    if (pid == 0) {
        /* The file name is one argv entry after "--": no shell, no option injection. */
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) dup2(null, STDERR_FILENO);
        alarm(OBJDUMP_SECONDS);
        char *argv[] = {"objdump", "-d", "-w", "--no-show-raw-insn", "--", (char *)path, NULL};
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    FILE *out = fdopen(fds[0], "r");
    if (!out) {
        close(fds[0]);
        waitpid(pid, NULL, 0);
        return set_why(c->why, c->why_len, "cannot read objdump's output"), 2;
    }
    char section_name[64] = "?", function[SHOWN_NAME_MAX] = "?";
    char *line = NULL;
    size_t cap = 0, lines = 0;
    ssize_t got;
    while ((got = getline(&line, &cap, out)) > 0) {
        lines++;
        if (line[got - 1] == '\n') line[--got] = '\0';
        const char *s = line;
        if (starts_with(s, "Disassembly of section ")) {
            s += strlen("Disassembly of section ");
            size_t n = strlen(s);
            if (n && s[n - 1] == ':') n--;
            int keep = (int)(n < sizeof section_name ? n : sizeof section_name - 1);
            snprintf(section_name, sizeof section_name, "%.*s", keep, s);
            continue;
        }
        const char *lt = strstr(s, " <");  /* a function: "0000000000000000 <name>:" */
        bool header = lt && got >= 2 && s[got - 1] == ':' && s[got - 2] == '>' &&
                      strspn(s, "0123456789abcdef") == (size_t)(lt - s);
        if (header) {
            size_t n = (size_t)(got - 2) - (size_t)(lt + 2 - s);
            char raw[SHOWN_NAME_MAX];
            snprintf(raw, sizeof raw, "%.*s", (int)(n < sizeof raw ? n : sizeof raw - 1), lt + 2);
            shown(function, sizeof function, raw);
            continue;
        }
        /* an instruction: "  1f:\tsyscall" */
        s += strspn(s, " ");
        size_t hex = strspn(s, "0123456789abcdef");
        if (hex == 0 || s[hex] != ':' || s[hex + 1] != '\t') continue;
        const char *insn = s + hex + 2;
        insn += strspn(insn, " \t");
        if (is_syscall_mnemonic(insn)) {
            char text[64];
            violation(c, "makes a raw system call (`%s` in %s, section %s): host code may reach the OS only through "
                      "the library calls on the allow-list", shown(text, sizeof text, insn), function, section_name);
        }
    }
    free(line);
    fclose(out);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && lines == 0)
        return set_why(c->why, c->why_len, "objdump was not found (it comes with binutils): the syscall rule needs it"),
               2;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return set_why(c->why, c->why_len, "objdump could not disassemble the object (%s %d)",
                       WIFEXITED(status) ? "exit" : "signal",
                       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status)), 2;
    return 0;
}

/* Checks one object image against the policy. 0: clean. 1: violations, each given to the policy's
 * report callback (the first MAX_REPORTS, then a count) and the first also in why. 2: the image is
 * malformed or objdump failed, why says how. */
int objcheck_image(const unsigned char *img, size_t len, const objcheck_policy *p, char *why, size_t why_len) {
    if (why && why_len) why[0] = '\0';
    if (len > MAX_INPUT_BYTES) return set_why(why, why_len, "the object is over %zu MiB", MAX_INPUT_BYTES >> 20), 2;
    elf_object o;
    char parse_why[900] = "";
    if (!elf_parse(&o, img, len, parse_why, sizeof parse_why)) {
        elf_free(&o);
        return set_why(why, why_len, "malformed object: %s", parse_why), 2;
    }
    checker c = {p, &o, why, why_len, 0, 0};
    check_namespaces(&c);
    check_definitions(&c);
    check_startup(&c);
    check_undefined(&c);
    check_sections(&c);
    int rc = p->object_path ? check_syscalls(&c, p->object_path) : 0;
    if (rc == 0 && c.found > c.reported && p->report) {
        char line[128];
        snprintf(line, sizeof line, "... and %zu more violations like these, not shown", c.found - c.reported);
        p->report(p->report_ctx, line);
    }
    elf_free(&o);
    if (rc) return rc;
    return c.found ? 1 : 0;
}

/* Adds the names an object defines for the linker (the skeleton's launchers and kernels) to `own`. */
int objcheck_policy_add_own_object(objcheck_policy *p, const unsigned char *img, size_t len, char *why,
                                   size_t why_len) {
    elf_object o;
    if (!elf_parse(&o, img, len, why, why_len)) {
        elf_free(&o);
        return 2;
    }
    for (size_t i = 1; i < o.nsym; i++) {
        const symbol *y = &o.sym[i];
        if (!is_defined(y) || !is_global_like(y) || !is_named_symbol(y)) continue;
        if (!name_set_add(&p->own, y->name, unversioned_len(y->name))) {
            elf_free(&o);
            return set_why(why, why_len, "out of memory"), 2;
        }
    }
    elf_free(&o);
    return 0;
}

/* ---- the command ------------------------------------------------------------------------------ */
#ifndef OBJCHECK_NO_MAIN

/* The whole file, NUL-terminated (the NUL not counted). Refuses more than MAX_INPUT_BYTES. */
static unsigned char *read_whole(const char *path, size_t *len, char *why, size_t why_len) {
    FILE *f = fopen(path, "rb");
    if (!f) return set_why(why, why_len, "cannot read %s: %s", path, strerror(errno)), NULL;
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        return set_why(why, why_len, "cannot read %s: a directory", path), NULL;
    }
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap + 1);
    while (buf) {
        if (n == cap) {
            if (cap > MAX_INPUT_BYTES) break;
            unsigned char *bigger = realloc(buf, cap * 2 + 1);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    bool error = ferror(f);
    fclose(f);
    if (!buf) return set_why(why, why_len, "cannot read %s: out of memory", path), NULL;
    if (n > MAX_INPUT_BYTES) {
        free(buf);
        return set_why(why, why_len, "cannot read %s: over %zu MiB", path, MAX_INPUT_BYTES >> 20), NULL;
    }
    if (error) {
        free(buf);
        return set_why(why, why_len, "cannot read %s: a read error", path), NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Violation lines are kept until the end, so that a late failure (objdump) still prints one line. */
typedef struct {
    const char *display;
    char *text;
    size_t len, cap;
} report_buffer;

static void keep_violation(void *ctx, const char *reason) {
    report_buffer *b = ctx;
    char line[1400];
    int n = snprintf(line, sizeof line, "%s: DISQUALIFIED: %s\n", b->display, reason);
    if (n < 0) return;
    size_t add = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    if (b->len + add + 1 > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 4096) + add;
        char *text = realloc(b->text, cap);
        if (!text) return;
        b->text = text;
        b->cap = cap;
    }
    memcpy(b->text + b->len, line, add);
    b->len += add;
    b->text[b->len] = '\0';
}

static int usage(void) {
    fprintf(stderr, "usage: objcheck STUDENT.o --own SKELETON.o --reserved RESERVED.txt --policy POLICY.txt\n"
                    "                [--policy MORE.txt ...] [--session-symbols FILE] [--name DISPLAY_NAME]\n"
                    "exit: 0 clean, 1 violations (one line each), 2 unreadable or malformed input, 64 usage\n");
    return 64;
}

/* One line "NAME: objcheck: why" and exit 2. */
static int fail_input(const char *display, const char *why) {
    char safe[1100];
    printf("%s: objcheck: %s\n", display, shown(safe, sizeof safe, why));
    return 2;
}

int main(int argc, char **argv) {
    const char *student = NULL, *own = NULL, *reserved = NULL, *session = NULL, *display = NULL;
    const char *policies[64];
    size_t npolicies = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool takes_value = !strcmp(a, "--own") || !strcmp(a, "--reserved") || !strcmp(a, "--policy") ||
                           !strcmp(a, "--session-symbols") || !strcmp(a, "--name");
        if (takes_value) {
            if (i + 1 >= argc) return usage();
            const char *v = argv[++i];
            if (!strcmp(a, "--own")) own = v;
            else if (!strcmp(a, "--reserved")) reserved = v;
            else if (!strcmp(a, "--session-symbols")) session = v;
            else if (!strcmp(a, "--name")) display = v;
            else if (npolicies < sizeof policies / sizeof policies[0]) policies[npolicies++] = v;
            else return usage();
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage();
        } else if (!student) {
            student = a;
        } else {
            return usage();
        }
    }
    if (!student || !own || !reserved || npolicies == 0) return usage();
    if (!display) display = student;

    char why[1024] = "";
    size_t len = 0;
    unsigned char *text;
    objcheck_policy *p = objcheck_policy_new();
    if (!p) return fail_input(display, "out of memory");
    for (size_t i = 0; i < npolicies; i++) {
        if (!(text = read_whole(policies[i], &len, why, sizeof why))) return fail_input(display, why);
        int rc = objcheck_policy_parse(p, (const char *)text, len, policies[i], why, sizeof why);
        free(text);
        if (rc) return fail_input(display, why);
    }
    const struct {
        const char *path, *which;
    } lists[] = {{reserved, "reserved"}, {session, "session"}};
    for (size_t i = 0; i < 2; i++) {
        if (!lists[i].path) continue;
        if (!(text = read_whole(lists[i].path, &len, why, sizeof why))) return fail_input(display, why);
        int rc = objcheck_policy_add_names(p, lists[i].which, (const char *)text, len, why, sizeof why);
        free(text);
        if (rc) return fail_input(display, why);
    }
    if (!(text = read_whole(own, &len, why, sizeof why))) return fail_input(display, why);
    char own_why[900] = "";
    int rc = objcheck_policy_add_own_object(p, text, len, own_why, sizeof own_why);
    free(text);
    if (rc) {
        snprintf(why, sizeof why, "the skeleton object %s is malformed: %s", own, own_why);
        return fail_input(display, why);
    }

    if (!(text = read_whole(student, &len, why, sizeof why))) return fail_input(display, why);
    report_buffer lines = {display, NULL, 0, 0};
    if (objcheck_policy_set_disassembly(p, student)) return fail_input(display, "out of memory");
    objcheck_policy_set_report(p, keep_violation, &lines);
    rc = objcheck_image(text, len, p, why, sizeof why);
    free(text);
    objcheck_policy_free(p);
    if (rc == 2) {
        free(lines.text);
        return fail_input(display, why);
    }
    if (lines.text) fputs(lines.text, stdout);
    free(lines.text);
    return rc;
}
#endif

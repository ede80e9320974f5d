/* A small JSON reader, just enough for agent requests (see agent_request.h). */
#include <stdlib.h>
#include <string.h>
#include "agent_request.h"

typedef struct reader {
    const char *p;
    const char *error;
} reader_t;

static void ws(reader_t *r)
{
    while (*r->p == ' ' || *r->p == '\t' || *r->p == '\r' || *r->p == '\n')
        r->p++;
}

static int fail(reader_t *r, const char *message)
{
    if (!r->error)
        r->error = message;
    return 0;
}

static int hex4(const char *p, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return 0;
        *v = *v * 16 + (unsigned)d;
    }
    return 1;
}

static size_t utf8_encode(unsigned cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* \uXXXX, joining a surrogate pair; a lone surrogate becomes U+FFFD. */
static int unicode_escape(reader_t *r, char *out, size_t *n)
{
    unsigned cp, low;
    if (!hex4(r->p, &cp))
        return fail(r, "bad \\u escape");
    r->p += 4;
    if (cp >= 0xD800 && cp < 0xDC00 && r->p[0] == '\\' && r->p[1] == 'u' &&
        hex4(r->p + 2, &low) && low >= 0xDC00 && low < 0xE000) {
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        r->p += 6;
    } else if (cp >= 0xD800 && cp < 0xE000)
        cp = 0xFFFD;
    *n = utf8_encode(cp, out);
    return 1;
}

static int escape(reader_t *r, char *out, size_t *n)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *hit = *r->p ? strchr(from, *r->p) : NULL;
    *n = 1;
    if (*r->p == 'u') {
        r->p++;
        return unicode_escape(r, out, n);
    }
    if (!hit)
        return fail(r, "bad escape in string");
    *out = to[hit - from];
    r->p++;
    return 1;
}

/* Decoded UTF-8 never grows past its JSON text, so one allocation suffices. */
static char *string(reader_t *r)
{
    ws(r);
    if (*r->p != '"')
        return fail(r, "expected a string"), NULL;
    const char *start = ++r->p;
    char *s = malloc(strlen(start) + 1), *w = s;
    size_t n;
    while (s && *r->p && *r->p != '"') {
        if (*r->p != '\\') {
            *w++ = *r->p++;
            continue;
        }
        r->p++;
        if (!escape(r, w, &n))
            break;
        w += n;
    }
    if (!s || *r->p != '"' || r->error) {
        free(s);
        return fail(r, "unterminated string"), NULL;
    }
    r->p++;
    *w = 0;
    return s;
}

static int skip_value(reader_t *r, int depth);

static int skip_container(reader_t *r, char close, int depth)
{
    r->p++;
    ws(r);
    if (*r->p == close) {
        r->p++;
        return 1;
    }
    for (;;) {
        if (close == '}') {
            free(string(r));
            ws(r);
            if (*r->p++ != ':')
                return fail(r, "expected ':'");
        }
        if (!skip_value(r, depth + 1))
            return 0;
        ws(r);
        if (*r->p == close) {
            r->p++;
            return 1;
        }
        if (*r->p++ != ',')
            return fail(r, "expected ',' or a closing bracket");
    }
}

static int skip_number(reader_t *r)
{
    const char *start = r->p;
    if (*r->p == '-')
        r->p++;
    while (strchr("0123456789.eE+-", *r->p) && *r->p)
        r->p++;
    return r->p > start && r->p[-1] >= '0' && r->p[-1] <= '9' ? 1 : fail(r, "bad value");
}

static int skip_value(reader_t *r, int depth)
{
    static const char *literals[] = {"true", "false", "null"};
    ws(r);
    if (depth > 32)
        return fail(r, "nested too deeply");
    if (*r->p == '{' || *r->p == '[')
        return skip_container(r, *r->p == '{' ? '}' : ']', depth);
    if (*r->p == '"') {
        char *s = string(r);
        free(s);
        return s != NULL;
    }
    for (int i = 0; i < 3; i++)
        if (strncmp(r->p, literals[i], strlen(literals[i])) == 0) {
            r->p += strlen(literals[i]);
            return 1;
        }
    return skip_number(r);
}

static char *raw_value(reader_t *r)
{
    ws(r);
    const char *start = r->p;
    if ((*r->p != '"' && *r->p != '-' && (*r->p < '0' || *r->p > '9')) || !skip_value(r, 0))
        return fail(r, "id must be a number or a string"), NULL;
    size_t n = (size_t)(r->p - start);
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, start, n);
        s[n] = 0;
    }
    return s;
}

static int string_array(reader_t *r, request_t *q)
{
    ws(r);
    if (*r->p++ != '[')
        return fail(r, "argv must be an array of strings");
    q->has_argv = 1;
    ws(r);
    while (*r->p != ']') {
        char **grown = realloc(q->argv, (size_t)(q->argc + 2) * sizeof *grown);
        if (!grown)
            return fail(r, "out of memory");
        q->argv = grown;
        if (!(q->argv[q->argc] = string(r)))
            return fail(r, "argv must be an array of strings");
        q->argv[++q->argc] = NULL;
        ws(r);
        if (*r->p == ',')
            r->p++;
        else if (*r->p != ']')
            return fail(r, "expected ',' or ']' in argv");
    }
    r->p++;
    return 1;
}

static int member(reader_t *r, request_t *q)
{
    char *key = string(r);
    int done = 0;
    ws(r);
    if (!key || *r->p++ != ':')
        done = fail(r, "expected \"key\": value");
    else if (strcmp(key, "id") == 0)
        done = (free(q->id), (q->id = raw_value(r)) != NULL);
    else if (strcmp(key, "argv") == 0)
        done = string_array(r, q);
    else if (strcmp(key, "put") == 0)
        done = (free(q->put), (q->put = string(r)) != NULL);
    else if (strcmp(key, "data_b64") == 0)
        done = (free(q->data_b64), (q->data_b64 = string(r)) != NULL);
    else
        done = skip_value(r, 1);
    free(key);
    return done;
}

const char *request_parse(const char *line, request_t *q)
{
    reader_t r = {line, NULL};
    memset(q, 0, sizeof *q);
    ws(&r);
    if (*r.p++ != '{')
        return "a request is one JSON object per line";
    ws(&r);
    while (*r.p != '}' && member(&r, q)) {
        ws(&r);
        if (*r.p == ',')
            r.p++, ws(&r);
        else if (*r.p != '}')
            fail(&r, "expected ',' or '}'");
        if (r.error)
            break;
    }
    if (!r.error && *r.p == '}')
        r.p++, ws(&r);
    if (!r.error && *r.p)
        fail(&r, "text after the request object");
    if (!r.error && !q->has_argv && !q->put)
        fail(&r, "a request needs \"argv\" or \"put\"");
    if (!r.error && q->put && !q->data_b64)
        fail(&r, "\"put\" needs \"data_b64\"");
    return r.error;
}

void request_free(request_t *q)
{
    for (int i = 0; i < q->argc; i++)
        free(q->argv[i]);
    free(q->argv);
    free(q->id);
    free(q->put);
    free(q->data_b64);
    memset(q, 0, sizeof *q);
}

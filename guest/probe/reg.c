/* `reg set|get|delete`: REG_SZ values under HKLM, HKCU, HKU or HKCR as isolation markers. */
#include <stdlib.h>
#include <string.h>
#include "args.h"
#include "commands.h"

typedef struct key_path {
    HKEY root;
    WCHAR *sub; /* malloc'ed, the part after the first backslash */
} key_path_t;

static const struct {
    const char *name;
    HKEY root;
} roots[] = {
    {"HKLM", HKEY_LOCAL_MACHINE}, {"HKEY_LOCAL_MACHINE", HKEY_LOCAL_MACHINE},
    {"HKCU", HKEY_CURRENT_USER},  {"HKEY_CURRENT_USER", HKEY_CURRENT_USER},
    {"HKU", HKEY_USERS},          {"HKEY_USERS", HKEY_USERS},
    {"HKCR", HKEY_CLASSES_ROOT},  {"HKEY_CLASSES_ROOT", HKEY_CLASSES_ROOT},
};

/* "HKLM\Software\X" -> (HKEY_LOCAL_MACHINE, L"Software\X"); 0 when the root is unknown. */
static int parse_key(const char *text, key_path_t *k)
{
    const char *slash = strchr(text, '\\');
    size_t n = slash ? (size_t)(slash - text) : strlen(text);

    for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
        if (strlen(roots[i].name) == n && _strnicmp(roots[i].name, text, n) == 0) {
            k->root = roots[i].root;
            k->sub = utf8_to_wide(slash ? slash + 1 : "");
            return *k->sub != 0;
        }
    }
    return 0;
}

/* Common start of every reg subcommand: exactly `want` words, KEY first. */
static int reg_args(out_t *o, int argc, char **argv, int want, key_path_t *k,
                    WCHAR **value, const char *usage)
{
    k->sub = NULL;
    *value = NULL;
    if (argc != want)
        return out_usage(o, usage);
    out_str(o, "key", argv[0]);
    if (argc > 1)
        out_str(o, "value", argv[1]);
    if (!parse_key(argv[0], k)) {
        free(k->sub);
        k->sub = NULL;
        return out_usage(o, "KEY must be ROOT\\PATH with ROOT one of HKLM, HKCU, HKU, HKCR");
    }
    *value = argc > 1 ? utf8_to_wide(argv[1]) : NULL;
    return 0;
}

static int reg_set(out_t *o, int argc, char **argv)
{
    key_path_t k;
    WCHAR *value;
    HKEY h;

    if (reg_args(o, argc, argv, 3, &k, &value, "usage: reg set KEY VALUENAME DATA"))
        return 2;
    WCHAR *data = utf8_to_wide(argv[2]);
    const char *call = "RegCreateKeyExW";
    LONG err = RegCreateKeyExW(k.root, k.sub, 0, NULL, 0, KEY_SET_VALUE, NULL, &h, NULL);
    if (!err) {
        call = "RegSetValueExW";
        err = RegSetValueExW(h, value, 0, REG_SZ, (const BYTE *)data,
                             (DWORD)((wcslen(data) + 1) * sizeof(WCHAR)));
        RegCloseKey(h);
    }
    free(k.sub);
    free(value);
    free(data);
    return err ? out_win32_error(o, call, (DWORD)err) : 0;
}

/* Reads a REG_SZ/REG_EXPAND_SZ value; other types are ERROR_UNSUPPORTED_TYPE. */
static LONG read_string(HKEY h, const WCHAR *value, WCHAR **data)
{
    DWORD type, size = 0;
    LONG err = RegQueryValueExW(h, value, NULL, &type, NULL, &size);
    if (err)
        return err;
    if (type != REG_SZ && type != REG_EXPAND_SZ)
        return ERROR_UNSUPPORTED_TYPE;

    *data = calloc(size / sizeof(WCHAR) + 1, sizeof(WCHAR));
    if (!*data)
        return ERROR_NOT_ENOUGH_MEMORY;
    return RegQueryValueExW(h, value, NULL, &type, (BYTE *)*data, &size);
}

static int reg_get(out_t *o, int argc, char **argv)
{
    key_path_t k;
    WCHAR *value, *data = NULL;
    HKEY h;

    if (reg_args(o, argc, argv, 2, &k, &value, "usage: reg get KEY VALUENAME"))
        return 2;
    const char *call = "RegOpenKeyExW";
    LONG err = RegOpenKeyExW(k.root, k.sub, 0, KEY_QUERY_VALUE, &h);
    if (!err) {
        call = "RegQueryValueExW";
        err = read_string(h, value, &data);
        RegCloseKey(h);
    }
    if (!err)
        out_wstr(o, "data", data);
    free(k.sub);
    free(value);
    free(data);
    return err ? out_win32_error(o, call, (DWORD)err) : 0;
}

/* With VALUENAME the value is deleted, without it the key and everything below. */
static int reg_delete(out_t *o, int argc, char **argv)
{
    key_path_t k;
    WCHAR *value;
    static const char usage[] = "usage: reg delete KEY [VALUENAME]";

    if (reg_args(o, argc, argv, argc == 1 ? 1 : 2, &k, &value, usage))
        return 2;
    const char *call = value ? "RegDeleteKeyValueW" : "RegDeleteTreeW";
    LONG err = value ? RegDeleteKeyValueW(k.root, k.sub, value) : RegDeleteTreeW(k.root, k.sub);
    free(k.sub);
    free(value);
    return err ? out_win32_error(o, call, (DWORD)err) : 0;
}

static const subcommand_t reg_commands[] = {
    {"set", reg_set, "set KEY VALUENAME DATA"},
    {"get", reg_get, "get KEY VALUENAME"},
    {"delete", reg_delete, "delete KEY [VALUENAME]"},
    {NULL, NULL, NULL},
};

int cmd_reg(out_t *o, int argc, char **argv)
{
    return run_subcommand(o, "reg", reg_commands, argc, argv);
}

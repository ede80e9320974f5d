/* `spool add|print|open|delete`: a printer of this container's Print Spooler.
 *
 * `add` creates a printer on port FILE: with the WinPrint processor and the RAW
 * datatype, so a job's bytes reach the output file unchanged; `print` sends one
 * RAW job to an output file and reads that file back, so the answer shows what the
 * spooler wrote.  Win32 codes decide: 1801 is "no such printer". */
#include <stdlib.h>
#include <string.h>
#include <windows.h>
#include <winspool.h>
#include "args.h"
#include "commands.h"

#define WINE_DRIVER L"Wine PostScript Driver"
#define OUTPUT_MAX 4096

/* Installs Wine's PostScript driver (level 3); an installed driver is fine.
 * Windows has no such driver: there the printer's driver must be given. */
static DWORD add_wine_driver(void)
{
    DRIVER_INFO_3W di = {0};
    di.cVersion = 3;
    di.pName = WINE_DRIVER;
    di.pDriverPath = L"wineps.drv";
    di.pDataFile = L"generic.ppd";
    di.pConfigFile = L"wineps.drv";
    if (AddPrinterDriverW(NULL, 3, (BYTE *)&di))
        return 0;
    DWORD err = GetLastError();
    return err == ERROR_PRINTER_DRIVER_ALREADY_INSTALLED ? 0 : err;
}

static HANDLE add_printer(WCHAR *name, WCHAR *driver)
{
    PRINTER_INFO_2W pi = {0};
    pi.pPrinterName = name;
    pi.pPortName = L"FILE:";
    pi.pDriverName = driver;
    pi.pPrintProcessor = L"WinPrint";
    pi.pDatatype = L"RAW";
    pi.Attributes = PRINTER_ATTRIBUTE_LOCAL;
    return AddPrinterW(NULL, 2, (BYTE *)&pi);
}

/* PRINTER [--driver NAME]: without --driver, Wine's driver is installed when
 * AddPrinter does not know it (1797). */
static int spool_add(out_t *o, int argc, char **argv)
{
    int given = argc == 3 && strcmp(argv[1], "--driver") == 0;
    if (argc != 1 && !given)
        return out_usage(o, "usage: spool add PRINTER [--driver NAME]");
    WCHAR *name = utf8_to_wide(argv[0]);
    WCHAR *driver = given ? utf8_to_wide(argv[2]) : _wcsdup(WINE_DRIVER);
    out_str(o, "printer", argv[0]);
    out_wstr(o, "driver", driver);

    HANDLE h = add_printer(name, driver);
    DWORD err = h ? 0 : GetLastError();
    if (!h && err == ERROR_UNKNOWN_PRINTER_DRIVER && !given) {
        DWORD derr = add_wine_driver();
        out_bool(o, "driver_added", derr == 0);
        if (derr) {
            free(name);
            free(driver);
            return out_win32_error(o, "AddPrinterDriverW", derr);
        }
        h = add_printer(name, driver);
        err = h ? 0 : GetLastError();
    }
    if (h)
        ClosePrinter(h);
    free(name);
    free(driver);
    return err ? out_win32_error(o, "AddPrinterW", err) : 0;
}

/* Opens PRINTER with `access` (0: the default); writes the error on failure. */
static int open_printer(out_t *o, const char *printer, DWORD access, HANDLE *h)
{
    PRINTER_DEFAULTSW defaults = {NULL, NULL, access};
    WCHAR *name = utf8_to_wide(printer);
    out_str(o, "printer", printer);
    BOOL opened = OpenPrinterW(name, h, access ? &defaults : NULL);
    DWORD err = GetLastError();
    free(name);
    return opened ? 0 : out_win32_error(o, "OpenPrinterW", err);
}

/* One RAW document of `text` to `file`; returns 0 or writes the failed call. */
static int print_job(out_t *o, HANDLE h, WCHAR *file, const char *text)
{
    DOC_INFO_1W doc = {L"harness probe", file, L"RAW"};
    DWORD job = StartDocPrinterW(h, 1, (BYTE *)&doc), written = 0;
    if (!job)
        return out_win32_error(o, "StartDocPrinterW", GetLastError());
    out_int(o, "job", job);
    BOOL wrote = WritePrinter(h, (void *)text, (DWORD)strlen(text), &written);
    DWORD err = GetLastError();
    BOOL ended = EndDocPrinter(h);
    if (!wrote)
        return out_win32_error(o, "WritePrinter", err);
    out_int(o, "written", written);
    return ended ? 0 : out_win32_error(o, "EndDocPrinter", GetLastError());
}

/* The output file's first OUTPUT_MAX bytes as "output"; its absence is an error. */
static int read_output(out_t *o, const WCHAR *file)
{
    HANDLE f = CreateFileW(file, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                           OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    if (f == INVALID_HANDLE_VALUE)
        return out_win32_error(o, "CreateFileW", GetLastError());
    char buf[OUTPUT_MAX + 1];
    DWORD got = 0;
    BOOL read = ReadFile(f, buf, OUTPUT_MAX, &got, NULL);
    DWORD err = GetLastError();
    CloseHandle(f);
    if (!read)
        return out_win32_error(o, "ReadFile", err);
    buf[got] = 0;
    out_str(o, "output", buf);
    return 0;
}

/* PRINTER FILE TEXT: an old output file is removed first, so "output" is new. */
static int spool_print(out_t *o, int argc, char **argv)
{
    HANDLE h;
    if (argc != 3)
        return out_usage(o, "usage: spool print PRINTER OUTPUT_FILE TEXT");
    out_str(o, "file", argv[1]);
    if (open_printer(o, argv[0], 0, &h))
        return 1;

    WCHAR *file = utf8_to_wide(argv[1]);
    DeleteFileW(file);
    int status = print_job(o, h, file, argv[2]);
    ClosePrinter(h);
    if (!status)
        status = read_output(o, file);
    free(file);
    return status;
}

static int spool_open(out_t *o, int argc, char **argv)
{
    HANDLE h;
    if (argc != 1)
        return out_usage(o, "usage: spool open PRINTER");
    if (open_printer(o, argv[0], 0, &h))
        return 1;
    ClosePrinter(h);
    return 0;
}

static int spool_delete(out_t *o, int argc, char **argv)
{
    HANDLE h;
    if (argc != 1)
        return out_usage(o, "usage: spool delete PRINTER");
    if (open_printer(o, argv[0], PRINTER_ALL_ACCESS, &h))
        return 1;
    BOOL deleted = DeletePrinter(h);
    DWORD err = GetLastError();
    ClosePrinter(h);
    return deleted ? 0 : out_win32_error(o, "DeletePrinter", err);
}

static const subcommand_t spool_commands[] = {
    {"add", spool_add, "add PRINTER [--driver NAME]: port FILE:, WinPrint, RAW"},
    {"print", spool_print, "print PRINTER OUTPUT_FILE TEXT: one RAW job, output read back"},
    {"open", spool_open, "open PRINTER"},
    {"delete", spool_delete, "delete PRINTER"},
    {NULL, NULL, NULL},
};

int cmd_spool(out_t *o, int argc, char **argv)
{
    return run_subcommand(o, "spool", spool_commands, argc, argv);
}

/* options.h - a command's options as one table. getopt_long's array, the usage text and
 * the parsed values all come from the rows. A row names a field of the command's options
 * struct; the default --help shows is the value that field holds before parsing, so each
 * default is written once, where the module the option configures sets it. */
#ifndef SSMF_OPTIONS_H
#define SSMF_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

enum ssmf_opt_type {
	SSMF_OPT_FLAG,    /* int, set to 1 */
	SSMF_OPT_STRING,  /* const char * (the argument itself) */
	SSMF_OPT_LIST,    /* struct ssmf_opt_list: each use appends (repeatable) */
	SSMF_OPT_I32,     /* int32_t (or int) in [lo, hi] */
	SSMF_OPT_I64,     /* int64_t in [lo, hi] */
	SSMF_OPT_U16,     /* uint16_t in [lo, hi] */
	SSMF_OPT_U32,     /* uint32_t in [lo, hi] */
	SSMF_OPT_U64,     /* uint64_t (lo, hi ignored: any) */
	SSMF_OPT_SIZE,    /* size_t (any) */
	SSMF_OPT_F64,     /* double, finite, in [lo, hi] (open ends: see open_lo/open_hi) */
	SSMF_OPT_SECONDS, /* uint64_t nanoseconds from "120", "1.5" */
	SSMF_OPT_BYTES,   /* uint64_t bytes from "512M", "2G", at least lo */
	SSMF_OPT_BOOL,    /* int from yes|no (on|off, 1|0, true|false) */
	SSMF_OPT_CHOICE,  /* int: the value of the named choice */
};

struct ssmf_opt_list {
	const char **v;
	size_t n;
};

struct ssmf_opt_choice {
	const char *name;
	int value;
	int hidden; /* an alias or a test's choice: accepted, not listed */
};

struct ssmf_opt {
	const char *name; /* long name */
	char short_name;  /* 0: none */
	const char *arg;  /* what the argument is in the usage ("FILE"); NULL: a flag */
	enum ssmf_opt_type type;
	size_t offset;        /* of the field in the options struct */
	double lo, hi;        /* bounds of numbers, inclusive; lo == hi == 0: the type's range */
	int open_lo, open_hi; /* F64: the bound itself is excluded */
	const struct ssmf_opt_choice *choices; /* CHOICE: ends with a NULL name */
	const char *help;                      /* one line; the usage printer wraps it */
	const char *def;  /* NULL: --help shows the field's value as the default; text: that
	                     text instead ("all cores"); "": no default shown */
	const char *note; /* after the default: "(default: 120; 0 never)" */
	const char *key;  /* the name of the value in a dataset's metadata; NULL: not kept */
};

#define SSMF_OPT_END                                                                               \
	{                                                                                          \
		.name = NULL                                                                       \
	}

/* A choice per device of SSMF_DEVICES (cuda/devices.h): --device's list is
 * {SSMF_DEVICES(SSMF_DEVICE_CHOICE){NULL, 0, 0}}. */
#define SSMF_DEVICE_CHOICE(id, name, hidden) {name, SSMF_DEVICE_##id, hidden},

/* A command's usage around its table. */
struct ssmf_command_opts {
	const char *cmd;      /* "score": usage errors name it */
	const char *synopsis; /* the usage before the options */
	const char *epilogue; /* after them: exit codes */
	const struct ssmf_opt *opts;
};

/* Parses argv into the struct at base and sets *first_operand (optind); given, when not
 * NULL, has a flag per row, set for the rows the command line used. Returns 0, -1 when
 * --help was given (the usage is printed: exit 0), or an exit code after reporting the
 * error: SSMF_EXIT_USAGE for a bad option or value, SSMF_EXIT_INTERNAL when out of
 * memory. */
int ssmf_opts_parse(const struct ssmf_command_opts *c, void *base, int argc, char **argv,
                    int *first_operand, unsigned char *given);
/* The usage: synopsis, the option lines (defaults read from base), epilogue. */
void ssmf_opts_usage(FILE *out, const struct ssmf_command_opts *c, const void *base);
/* The default --help shows for a row ("" when none), in buf or a constant. */
const char *ssmf_opt_default_text(const struct ssmf_opt *o, const void *base, char *buf,
                                  size_t len);
size_t ssmf_opts_count(const struct ssmf_opt *opts);
/* The row's field in the struct at base. */
static inline const void *ssmf_opt_field(const struct ssmf_opt *o, const void *base)
{
	return (const char *)base + o->offset;
}
/* Frees the lists parsing allocated. */
void ssmf_opts_free(const struct ssmf_opt *opts, void *base);

#endif

/*
 * allowsync: the configuration's part of the internal header (config.c,
 * keys.c, presets.c, nftname.c).  Included by allowsync.h after the
 * types it needs; never on its own.
 */
#ifndef ALLOWSYNC_CONFIG_H
#define ALLOWSYNC_CONFIG_H

/* --------------------------------------------------------------- config.c */

/*
 * One source: a JSON document and its text fallback.  name is what the
 * operator wrote (locale, domain or URL) for log lines; key is the key
 * that added it.
 */
struct source {
	char		*name;
	const char	*key;		/* "locale", "domain" or "url", a
					   literal: never the parser's line */
	char		*url;		/* JSON form */
	char		*url_txt;	/* text form; NULL when none */
	size_t		 url_txt_line;	/* its config line; 0: none */
	bool		 url_txt_preset; /* a preset gave it */
	bool		 text_only;	/* a text list: no JSON form */
	bool		 private_skip;	/* a Docplanner market: private =
					   skip unless private is given */
	bool		 sniff;		/* format auto: the body decides */
};

/* One static entry and where it was written, for error messages. */
struct static_entry {
	char		*text;
	size_t		 line;		/* config line; 0 on the command line */
};

/* One item of guard-ports: a protocol and a port range. */
struct guard_port {
	uint8_t		proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t	lo, hi;		/* inclusive; lo == hi for one port */
};

/*
 * The keys that belong to a source: what to fetch, what to accept and
 * where to put it.  Each [section] of the config file has its own; the
 * keys before the first section are the defaults every section starts
 * from, and, without sections, the one section there is.
 */
struct source_opts {
	char			*name;		/* NULL: no sections */
	size_t			 line;		/* of its [name] line */
	bool			 selected;	/* to run (--section) */
	/* What to fetch. */
	struct source		 sources[MAX_SOURCES];
	size_t			 nsources;
	char			*ca_file;
	size_t			 ca_file_line;	/* its config line; 0: CLI */
	enum form		 format;	/* FORM_NONE: auto */
	struct jpaths		 paths;		/* json-path, json-keys */
	char			*preset;	/* its name, or NULL */
	bool			 inherited_sources;	/* the defaults' */
	bool			 inherited_statics;	/* likewise */
	uint64_t		 given;		/* keys set here, by index */
	struct fetch_opts	 fetch;
	/* What to accept. */
	struct policy		 policy;
	struct static_entry	*statics;
	size_t			 nstatics;
	unsigned int		 remove_after;
	unsigned int		 max_remove_percent;
	unsigned int		 stale_warn;	/* days */
	/* Where to put it. */
	char			*family;
	char			*table;
	char			*set4;		/* "" disables IPv4 */
	char			*set6;		/* "" disables IPv6 */
	/* Guard mode: on when nports > 0; the table is then guard_table. */
	struct guard_port	 ports[MAX_GUARD_PORTS];
	size_t			 nports;
	char			*guard_table;
};

/*
 * The parsed configuration: defaults, then the config file, then the
 * command line.  This is the program's only global-ish state; it is
 * built once by config_load() and then only read.  The keys are
 * described by one table in config.c (name, type, bounds, destination,
 * where it may be written, help).
 */
struct config {
	/* Program-wide. */
	char			*config_file;
	bool			 help;
	bool			 version;
	bool			 list_presets;
	bool			 dry_run;
	bool			 json;
	bool			 annotate;	/* comment the elements */
	bool			 create;
	int			 verbosity;	/* -1 quiet, 0, 1 -v, 2 -vv */
	char			*state_dir;
	char			*metrics_file;	/* NULL: none */
	bool			 restore;	/* modes: at most one */
	bool			 check;
	bool			 status;
	bool			 force;		/* apply held removals */
	bool			 uninstall;	/* mode: remove the guard */
	bool			 is_configured;	/* mode: is a source set? */
	char			*explain;	/* mode: the address, or NULL */
	unsigned int		 wait;		/* seconds for the lock */
	/* The defaults of the sections, or the only section. */
	struct source_opts	 src;
	/* The [name] sections, in the file's order. */
	struct source_opts	*sections;
	size_t			 nsections;
	/* --section: run only these. */
	char			*only[MAX_SECTIONS];
	size_t			 nonly;
	/* Keys given (file or command line), one bit by table index. */
	uint64_t		 given;
};

/*
 * The sections a run goes through: cfg->sections, or cfg->src when the
 * file has none.
 */
size_t	 config_nsections(const struct config *);
const struct source_opts *config_section(const struct config *, size_t i);

/*
 * Build the configuration from defaults, the config file and argv.
 * Returns AS_OK, AS_EUSAGE (bad command line) or AS_ECONFIG (bad file or
 * value), after logging one line that names the file and line or option.
 * config_free() releases everything.
 */
enum as_status config_load(int argc, char **argv, struct config *);
/*
 * After config_load() failed with AS_ECONFIG: apply the command line's
 * json, metrics-file and state-dir, which say where to report the error,
 * ignoring any error of theirs.
 */
void	 config_rescue(int argc, char **argv, struct config *);
/*
 * Apply the key = value lines of buf (len bytes) as if read from file
 * fname.  Exposed for tests and fuzzing.
 */
enum as_status config_parse_buffer(struct config *, const char *buf,
	    size_t len, const char *fname);
/*
 * After the file and the command line: fill in presets and decide each
 * source's forms (config_load() calls it).  Exposed for tests and
 * fuzzing.
 */
enum as_status config_finish(struct config *);
/* Set defaults; config_load() calls it. */
void	 config_defaults(struct config *);
void	 config_free(struct config *);
/* Print the usage text, made from the table of keys, to f. */
void	 config_usage(void *f);

/* ---------------------------------------------------------------- keys.c */

/* Where a config value came from, for error messages. */
struct config_origin {
	const char	*file;		/* NULL: command line */
	size_t		 line;
	bool		 cli_sources;	/* CLI has replaced file sources */
	bool		 cli_statics;	/* CLI has replaced file statics */
	bool		 url_txt_ok;	/* the last source was a --url */
	struct source_opts *so;		/* where source keys go */
	bool		 preset;	/* a preset sets the keys */
};

/*
 * Log a configuration error at its origin, "FILE: line N: KEY: WHAT" or
 * "--KEY: WHAT", followed by the escaped value in quotes unless val is
 * NULL (a value that must not be logged).  Returns AS_ECONFIG.
 */
enum as_status config_error(const struct config_origin *, const char *key,
	    const char *what, const char *val);
/*
 * Log that the value val of key is bad, the value first:
 * "FILE: line N: KEY: "VAL" WHY" or "--KEY: "VAL" WHY".  Returns
 * AS_ECONFIG.
 */
enum as_status config_bad_value(const struct config_origin *,
	    const char *key, const char *val, const char *why);
/*
 * Log why fetch_url_check() refused url, without the URL when it holds
 * credentials.  Returns AS_ECONFIG.
 */
enum as_status config_url_error(const struct config_origin *,
	    const char *key, const char *why, const char *url);

/*
 * keys.c: the keys that need more than a stored value.  Each setter
 * applies val for key from origin o and returns AS_OK or AS_ECONFIG
 * after logging; each getter writes the value as config_value() gives it.
 */
enum as_status key_set_source(struct config *, struct config_origin *o,
	    const char *key, const char *val);
void	 key_get_source(const struct config *, const struct source_opts *,
	    const char *key, char *buf, size_t bufsz);
enum as_status key_set_url_txt(struct config *, struct config_origin *o,
	    const char *key, const char *val);
void	 key_get_url_txt(const struct config *, const struct source_opts *,
	    const char *key, char *buf, size_t bufsz);
enum as_status key_set_static(struct config *, struct config_origin *o,
	    const char *key, const char *val);
void	 key_get_static(const struct config *, const struct source_opts *,
	    const char *key, char *buf, size_t bufsz);
enum as_status key_set_json_keys(struct config *, struct config_origin *o,
	    const char *key, const char *val);
enum as_status key_set_json_path(struct config *, struct config_origin *o,
	    const char *key, const char *val);
void	 key_get_json_path(const struct config *, const struct source_opts *,
	    const char *key, char *buf, size_t bufsz);
enum as_status key_set_preset(struct config *, struct config_origin *o,
	    const char *key, const char *val);
void	 key_get_preset(const struct config *, const struct source_opts *,
	    const char *key, char *buf, size_t bufsz);
enum as_status key_set_section(struct config *, struct config_origin *o,
	    const char *key, const char *val);
void	 key_get_section(const struct config *, const struct source_opts *,
	    const char *key, char *buf, size_t bufsz);
enum as_status key_set_class(struct config *, struct config_origin *o,
	    const char *key, const char *val);
void	 key_get_class(const struct config *, const struct source_opts *,
	    const char *key, char *buf, size_t bufsz);
enum as_status key_set_allow_private(struct config *,
	    struct config_origin *o, const char *key, const char *val);
void	 key_get_allow_private(const struct config *,
	    const struct source_opts *, const char *key, char *buf,
	    size_t bufsz);
enum as_status key_set_format(struct config *, struct config_origin *o,
	    const char *key, const char *val);
void	 key_get_format(const struct config *, const struct source_opts *,
	    const char *key, char *buf, size_t bufsz);
void	 key_get_json_keys(const struct config *, const struct source_opts *,
	    const char *key, char *buf, size_t bufsz);
enum as_status key_set_verbosity(struct config *, struct config_origin *o,
	    const char *key, const char *val);
void	 key_get_verbosity(const struct config *, const struct source_opts *,
	    const char *key, char *buf, size_t bufsz);
enum as_status key_set_dry_run(struct config *, struct config_origin *o,
	    const char *key, const char *val);
void	 key_get_dry_run(const struct config *, const struct source_opts *,
	    const char *key, char *buf, size_t bufsz);
/* The guard ports ports[0..n) as guard-ports writes them, into buf. */
void	 guard_ports_text(const struct guard_port *ports, size_t n,
	    char *buf, size_t bufsz);
enum as_status key_set_guard_ports(struct config *, struct config_origin *o,
	    const char *key, const char *val);
void	 key_get_guard_ports(const struct config *, const struct source_opts *,
	    const char *key, char *buf, size_t bufsz);
/* The vendor's locale codes, space-separated, into buf. */
const char *key_locale_codes(char *buf, size_t bufsz);
/* Free the lists (sources, static entries, json-keys) of so. */
void	 keys_free(struct source_opts *);
/*
 * Decide the forms of each source of so from format and its URL.
 * Returns AS_OK or AS_ECONFIG after logging.
 */
enum as_status sources_finish(const struct config *, struct source_opts *);
/*
 * Check that the CA file of so is a regular file this user can open.
 * Returns AS_OK or AS_ECONFIG after logging.
 */
enum as_status config_check_ca_file(const struct config *,
	    const struct source_opts *);
/*
 * Copy the lists of src into dst, whose own are not freed first.  The
 * sources and static entries a section inherits are replaced, not added
 * to, by its own first line of the kind.
 */
void	 keys_copy(struct source_opts *dst, const struct source_opts *src);
/*
 * NULL when name is a good section name, [a-z0-9][a-z0-9_-]{0,31}, else
 * why not.
 */
const char *section_name_check(const char *name);

/* ------------------------------------------------------------- presets.c */

#define MAX_PRESET_LINE		256	/* one key=value line of a preset */
#define MAX_PRESET_KEYS		8	/* lines of one preset */

/*
 * The key=value lines of preset name into keys (at most max); returns
 * how many, 0 for an unknown name.
 */
size_t	 preset_keys(const char *name, char keys[][MAX_PRESET_LINE],
	    size_t max);
/* The preset names, space-separated, into buf. */
const char *preset_names(char *buf, size_t bufsz);
/* Print every preset and what it fills in to f (--list-presets). */
void	 preset_list(void *f);
/*
 * Fill in so's preset (if any) with config_set(), each key that so does
 * not set itself.  Returns AS_OK or a key's error.
 */
enum as_status preset_apply(struct config *, struct source_opts *so);

/* ------------------------------------------------------------- nftname.c */

/*
 * Check a table or set name: NULL when nft can read it back from the
 * include file, else why not.
 */
const char *nft_name_check(const char *);

/* ------------------------------------------------------ config.c, again */

/*
 * Set key to val from origin o (into o->so for a source key, &cfg->src
 * when NULL), as the table says.  Returns AS_OK, or AS_ECONFIG after
 * logging.
 */
enum as_status config_set(struct config *, struct config_origin *o,
	    const char *key, const char *val);
/* The bit of key in a given mask (0 for an unknown key). */
uint64_t config_key_bit(const char *key);
/*
 * Checks across sections: the sets and guarded ports they share, and
 * --section.  Returns AS_OK or AS_ECONFIG after logging.
 */
enum as_status sections_check(struct config *);
/* Parse a boolean as written in the config file; -1 when not one. */
int	 parse_bool(const char *);
/* What config_key() tells about key i of the table. */
#define KEY_CLI_ONLY	0x01	/* command line only */
#define KEY_REPEAT	0x02	/* repeatable: each line adds to a list */
#define KEY_SOURCE	0x04	/* belongs to a source (struct source_opts) */
/*
 * The name and KEY_* flags of key i of the table, for the tests that walk
 * it; NULL past the last key.
 */
const char *config_key(size_t i, unsigned int *flags);
/*
 * The current value of key in cfg, as it would be written in the file,
 * into buf: "yes"/"no", a number, a string, or the items of a list joined
 * by ",".  Returns buf, or NULL for an unknown key.
 */
const char *config_value(const struct config *, const char *key, char *buf,
	    size_t bufsz);

/* ---------------------------------------------- config.c's key table */

#define MAX_OPTIONS	64	/* keys: struct config's given has 64 bits */

enum opt_type {
	OPT_FLAG,	/* bool: --key, --key=no; key = yes|no */
	OPT_UINT,	/* unsigned in [min, max], of size bytes */
	OPT_STRING,	/* char *, checked by check() */
	OPT_CUSTOM,	/* set() and get() do it all */
};

struct option_def;
typedef enum as_status (*opt_setter)(struct config *,
    struct config_origin *, const char *key, const char *val);
typedef void (*opt_getter)(const struct config *,
    const struct source_opts *, const char *key, char *buf, size_t bufsz);

/* One key: the whole description of it.  See the comment at the top. */
struct option_def {
	const char	*name;
	int		 shortopt;
	enum opt_type	 type;
	unsigned long	 min, max;	/* OPT_UINT */
	const char	*(*check)(const char *);	/* OPT_STRING */
	opt_setter	 set;		/* OPT_CUSTOM */
	opt_getter	 get;		/* OPT_CUSTOM */
	unsigned int	 flags;		/* KEY_* */
	size_t		 off;		/* of the value in its struct */
	size_t		 size;		/* of the value (OPT_UINT) */
	const char	*group;		/* --help heading before it, or NULL */
	const char	*arg;		/* --help's name for the value; NULL:
					   a flag */
	const char	*help;		/* --help's description */
};

/* The keys, one row each (config.c), and how many. */
extern const struct option_def	options[];
extern const size_t		noptions;
/* Checks that involve several keys, after everything is read. */
enum as_status config_check(struct config *);
/* Read and apply a config file.  A missing default file is fine. */
enum as_status config_read_file(struct config *, const char *path,
	    bool explicit);

#endif /* ALLOWSYNC_CONFIG_H */

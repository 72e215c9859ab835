/*
 * config.c - the YAML configuration file, read into jansson values.
 *
 * libyaml's event parser is walked directly rather than its document
 * loader: the loader expands aliases (a few lines of "billion laughs" can
 * ask for gigabytes) and has no depth limit, while a walk over events lets
 * us refuse both as they appear and name the line and column of each
 * problem.  Every scalar becomes a JSON string, as in a SageMaker
 * hyperparameters.json, so "num_round: 100" and "num_round: '100'" mean
 * the same thing and each tool parses its own values.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "mlpipe/config.h"
#include "mlpipe/uri.h"

/* A config is a few sections of options; anything deeper is a mistake or an attack. */
#define CONFIG_MAX_DEPTH 64
#define CONFIG_MAX_BYTES ((size_t)1 << 20)

#define YAML_STD_TAG "tag:yaml.org,2002:"

struct yaml_in {
	yaml_parser_t parser;
	const char *text;
	size_t len;
	const char *name;
	struct ml_err *err;
};

/* "<name>:line:column: message"; libyaml counts from 0, editors from 1. */
static int fail_at(struct yaml_in *in, yaml_mark_t mark, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail_at(struct yaml_in *in, yaml_mark_t mark, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ml_err_setv(in->err, ML_ERR_CONFIG, fmt, ap);
	va_end(ap);
	return ml_err_prefix(in->err, "%s:%zu:%zu", in->name, mark.line + 1, mark.column + 1);
}

static int fail_nomem(struct yaml_in *in)
{
	return ml_err_set(in->err, ML_ERR_INTERNAL, "%s: out of memory", in->name);
}

/*
 * The reader (bad UTF-8, control characters) reports a byte offset but no
 * mark; count lines and characters up to it so the message looks like the
 * others.
 */
static yaml_mark_t mark_of_offset(const struct yaml_in *in, size_t offset)
{
	yaml_mark_t m = { offset, 0, 0 };
	if (offset > in->len)
		offset = in->len;
	for (size_t i = 0; i < offset; i++) {
		unsigned char c = (unsigned char)in->text[i];
		if (c == '\n') {
			m.line++;
			m.column = 0;
		} else if ((c & 0xc0) != 0x80) {
			m.column++;	/* count characters, not continuation bytes */
		}
	}
	return m;
}

static int fail_parser(struct yaml_in *in)
{
	const yaml_parser_t *p = &in->parser;
	const char *problem = p->problem ? p->problem : "invalid YAML";

	if (p->error == YAML_MEMORY_ERROR)
		return fail_nomem(in);
	if (p->error == YAML_READER_ERROR)
		return fail_at(in, mark_of_offset(in, p->problem_offset), "%s", problem);
	if (p->context)
		return fail_at(in, p->problem_mark, "%s (%s)", problem, p->context);
	return fail_at(in, p->problem_mark, "%s", problem);
}

static int next_event(struct yaml_in *in, yaml_event_t *ev)
{
	if (yaml_parser_parse(&in->parser, ev))
		return 0;
	return fail_parser(in);
}

enum node_kind { NODE_SCALAR, NODE_SEQUENCE, NODE_MAPPING };

/* The standard tags that change nothing here ("!" is the non-specific tag). */
static const struct {
	const char *tag;
	enum node_kind kind;
} std_tags[] = {
	{ "!", NODE_SCALAR },
	{ YAML_STD_TAG "str", NODE_SCALAR },
	{ YAML_STD_TAG "int", NODE_SCALAR },
	{ YAML_STD_TAG "float", NODE_SCALAR },
	{ YAML_STD_TAG "bool", NODE_SCALAR },
	{ YAML_STD_TAG "null", NODE_SCALAR },
	{ YAML_STD_TAG "seq", NODE_SEQUENCE },
	{ YAML_STD_TAG "map", NODE_MAPPING },
};

static int tag_is(const yaml_char_t *tag, const char *name)
{
	return tag && !strcmp((const char *)tag, name);
}

/*
 * Anchors are refused with aliases: without aliases an anchor does
 * nothing, and a config that uses one expects sharing we do not do.
 * Other tags (!!binary, !!set, !custom) would need meaning we do not give.
 */
static int check_props(struct yaml_in *in, const yaml_event_t *ev, const yaml_char_t *anchor,
		       const yaml_char_t *tag, enum node_kind kind)
{
	if (anchor)
		return fail_at(in, ev->start_mark, "YAML anchors are not supported (&%.64s)",
			       (const char *)anchor);
	if (!tag)
		return 0;
	for (size_t i = 0; i < sizeof std_tags / sizeof std_tags[0]; i++)
		if (std_tags[i].kind == kind && tag_is(tag, std_tags[i].tag))
			return 0;
	const char *t = (const char *)tag;
	if (!strncmp(t, YAML_STD_TAG, strlen(YAML_STD_TAG)))
		return fail_at(in, ev->start_mark, "unsupported tag \"!!%.64s\"",
			       t + strlen(YAML_STD_TAG));
	return fail_at(in, ev->start_mark, "unsupported tag \"%.64s\"", t);
}

/* YAML's null: "~", "null" and an empty value, when not quoted; or !!null. */
static int scalar_is_null(const yaml_event_t *ev)
{
	static const char *const words[] = { "", "~", "null", "Null", "NULL" };
	const char *v = (const char *)ev->data.scalar.value;

	if (tag_is(ev->data.scalar.tag, YAML_STD_TAG "null"))
		return 1;
	if (ev->data.scalar.tag || ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (!strcmp(v, words[i]))
			return 1;
	return 0;
}

static json_t *parse_node(struct yaml_in *in, yaml_event_t *ev, int depth);

static json_t *parse_scalar(struct yaml_in *in, const yaml_event_t *ev)
{
	if (check_props(in, ev, ev->data.scalar.anchor, ev->data.scalar.tag, NODE_SCALAR) < 0)
		return NULL;
	json_t *v = scalar_is_null(ev) ? json_null()
				       : json_stringn((const char *)ev->data.scalar.value,
						      ev->data.scalar.length);
	if (!v)
		fail_nomem(in);
	return v;
}

static int enter(struct yaml_in *in, const yaml_event_t *ev, int depth)
{
	if (depth >= CONFIG_MAX_DEPTH)
		return fail_at(in, ev->start_mark, "nesting deeper than %d levels",
			       CONFIG_MAX_DEPTH);
	return 0;
}

static json_t *parse_sequence(struct yaml_in *in, const yaml_event_t *start, int depth)
{
	if (check_props(in, start, start->data.sequence_start.anchor,
			start->data.sequence_start.tag, NODE_SEQUENCE) < 0 ||
	    enter(in, start, depth) < 0)
		return NULL;
	json_t *arr = json_array();
	if (!arr) {
		fail_nomem(in);
		return NULL;
	}
	for (;;) {
		yaml_event_t ev;
		if (next_event(in, &ev) < 0)
			goto out_free_array;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return arr;
		}
		json_t *item = parse_node(in, &ev, depth + 1);
		if (!item)
			goto out_free_array;
		if (json_array_append_new(arr, item) < 0) {
			fail_nomem(in);
			goto out_free_array;
		}
	}
out_free_array:
	json_decref(arr);
	return NULL;
}

/* Check a mapping key; ev is the key's event, still owned by the caller. */
static int check_key(struct yaml_in *in, json_t *obj, const yaml_event_t *ev)
{
	if (ev->type == YAML_ALIAS_EVENT)
		return fail_at(in, ev->start_mark, "YAML aliases are not supported");
	if (ev->type != YAML_SCALAR_EVENT)
		return fail_at(in, ev->start_mark, "mapping keys must be scalars");
	if (check_props(in, ev, ev->data.scalar.anchor, ev->data.scalar.tag, NODE_SCALAR) < 0)
		return -1;
	const char *key = (const char *)ev->data.scalar.value;
	/* A "\0" escape would make a key that no option name can match. */
	if (strlen(key) != ev->data.scalar.length)
		return fail_at(in, ev->start_mark, "mapping key contains a NUL character");
	if (json_object_get(obj, key))
		return fail_at(in, ev->start_mark, "duplicate key \"%.128s\"", key);
	return 0;
}

static int parse_member(struct yaml_in *in, json_t *obj, yaml_event_t *key_ev, int depth)
{
	yaml_event_t ev;
	int ret = -1;

	if (check_key(in, obj, key_ev) < 0 || next_event(in, &ev) < 0)
		goto out_delete_key;
	json_t *value = parse_node(in, &ev, depth + 1);
	if (!value)
		goto out_delete_key;
	if (json_object_set_new(obj, (const char *)key_ev->data.scalar.value, value) < 0) {
		fail_nomem(in);
		goto out_delete_key;
	}
	ret = 0;
out_delete_key:
	yaml_event_delete(key_ev);
	return ret;
}

static json_t *parse_mapping(struct yaml_in *in, const yaml_event_t *start, int depth)
{
	if (check_props(in, start, start->data.mapping_start.anchor,
			start->data.mapping_start.tag, NODE_MAPPING) < 0 ||
	    enter(in, start, depth) < 0)
		return NULL;
	json_t *obj = json_object();
	if (!obj) {
		fail_nomem(in);
		return NULL;
	}
	for (;;) {
		yaml_event_t ev;
		if (next_event(in, &ev) < 0)
			goto out_free_object;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return obj;
		}
		if (parse_member(in, obj, &ev, depth) < 0)
			goto out_free_object;
	}
out_free_object:
	json_decref(obj);
	return NULL;
}

/* Turn the node that starts with ev into JSON; ev is consumed either way. */
static json_t *parse_node(struct yaml_in *in, yaml_event_t *ev, int depth)
{
	json_t *v = NULL;

	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		v = parse_scalar(in, ev);
		break;
	case YAML_SEQUENCE_START_EVENT:
		v = parse_sequence(in, ev, depth);
		break;
	case YAML_MAPPING_START_EVENT:
		v = parse_mapping(in, ev, depth);
		break;
	case YAML_ALIAS_EVENT:
		fail_at(in, ev->start_mark, "YAML aliases are not supported");
		break;
	default:
		/* libyaml only gives node events here; anything else is our bug. */
		ml_err_set(in->err, ML_ERR_INTERNAL, "%s: unexpected YAML event %d", in->name,
			   (int)ev->type);
		break;
	}
	yaml_event_delete(ev);
	return v;
}

/* Expect an event of one type (stream and document framing). */
static int expect(struct yaml_in *in, yaml_event_type_t type)
{
	yaml_event_t ev;
	if (next_event(in, &ev) < 0)
		return -1;
	int ok = ev.type == type;
	if (!ok)
		ml_err_set(in->err, ML_ERR_INTERNAL, "%s: unexpected YAML event %d", in->name,
			   (int)ev.type);
	yaml_event_delete(&ev);
	return ok ? 0 : -1;
}

/* The one document: a mapping, or nothing at all (an empty file, "---", "~"). */
static json_t *parse_document(struct yaml_in *in)
{
	yaml_event_t ev;
	if (next_event(in, &ev) < 0)
		return NULL;
	json_t *root = parse_node(in, &ev, 0);
	if (!root)
		return NULL;
	if (json_is_null(root)) {
		json_decref(root);
		root = json_object();
		if (!root)
			fail_nomem(in);
	} else if (!json_is_object(root)) {
		json_decref(root);
		ml_err_set(in->err, ML_ERR_CONFIG,
			   "%s: the top level must be a mapping of sections (preprocess:, train:, ...)",
			   in->name);
		return NULL;
	}
	return root;
}

/* After the document, only the end of the stream may follow. */
static int parse_stream_end(struct yaml_in *in)
{
	yaml_event_t ev;
	if (next_event(in, &ev) < 0)
		return -1;
	int ret = 0;
	if (ev.type == YAML_DOCUMENT_START_EVENT)
		ret = fail_at(in, ev.start_mark, "multiple YAML documents are not supported");
	else if (ev.type != YAML_STREAM_END_EVENT)
		ret = ml_err_set(in->err, ML_ERR_INTERNAL, "%s: unexpected YAML event %d",
				 in->name, (int)ev.type);
	yaml_event_delete(&ev);
	return ret;
}

static json_t *parse_stream(struct yaml_in *in)
{
	yaml_event_t ev;
	json_t *root = NULL;

	if (expect(in, YAML_STREAM_START_EVENT) < 0 || next_event(in, &ev) < 0)
		return NULL;
	if (ev.type == YAML_STREAM_END_EVENT) {	/* no document: empty or comments only */
		yaml_event_delete(&ev);
		root = json_object();
		if (!root)
			fail_nomem(in);
		return root;
	}
	int is_doc = ev.type == YAML_DOCUMENT_START_EVENT;
	yaml_event_delete(&ev);
	if (!is_doc) {
		ml_err_set(in->err, ML_ERR_INTERNAL, "%s: YAML stream without a document",
			   in->name);
		return NULL;
	}
	root = parse_document(in);
	if (!root)
		return NULL;
	if (expect(in, YAML_DOCUMENT_END_EVENT) < 0 || parse_stream_end(in) < 0) {
		json_decref(root);
		return NULL;
	}
	return root;
}

json_t *ml_config_parse_yaml(const char *text, size_t len, const char *name, struct ml_err *err)
{
	struct yaml_in in = { .text = text, .len = len, .name = name ? name : "<config>", .err = err };

	if (!yaml_parser_initialize(&in.parser)) {
		ml_err_set(err, ML_ERR_INTERNAL, "%s: out of memory", in.name);
		return NULL;
	}
	yaml_parser_set_input_string(&in.parser, (const unsigned char *)text, len);
	json_t *root = parse_stream(&in);
	yaml_parser_delete(&in.parser);
	return root;
}

json_t *ml_config_load_yaml(const char *uri, struct ml_err *err)
{
	size_t len;
	char *text = ml_read_all(uri, CONFIG_MAX_BYTES, &len, err);
	if (!text)
		return NULL;	/* keeps ml_read_all's class: a missing file is NOINPUT */
	json_t *root = ml_config_parse_yaml(text, len, uri, err);
	free(text);
	return root;
}

/* One level of a dotted path: key (len bytes) against a config key, "-" and "_" alike. */
static int same_key(const char *key, size_t len, const char *name)
{
	size_t i = 0;
	for (; i < len && name[i]; i++) {
		char a = key[i] == '-' ? '_' : key[i], b = name[i] == '-' ? '_' : name[i];
		if (a != b)
			return 0;
	}
	return i == len && !name[i];
}

const json_t *ml_config_get(const json_t *doc, const char *path)
{
	const json_t *node = doc;
	const char *p = path;
	for (;;) {
		size_t len = strcspn(p, ".");
		if (!json_is_object(node) || len == 0)
			return NULL;
		const char *key;
		const json_t *value, *found = NULL;
		json_object_foreach((json_t *)node, key, value) {
			if (same_key(p, len, key)) {
				found = value;
				break;
			}
		}
		if (!found || json_is_null(found))
			return NULL;
		node = found;
		if (!p[len])
			return node;
		p += len + 1;
	}
}

int ml_config_env_name(char *buf, size_t bufsz, const char *path)
{
	int n = snprintf(buf, bufsz, "MLPIPE_%s", path);
	if (n < 0 || (size_t)n >= bufsz)
		return -1;
	for (char *c = buf; *c; c++)
		*c = (*c == '-' || *c == '.') ? '_' : (*c >= 'a' && *c <= 'z') ? (char)(*c - 'a' + 'A') : *c;
	return 0;
}

# mlpipe - the machine-learning lifecycle as Unix filters.
#
#   make            build everything into build/ (usable uninstalled)
#   make check      unit tests (also under ASan+UBSan), CLI tests, fuzz smoke
#   make bench      speed against the references, printed as ratios
#   make demo       the whole loop on the bundled used-car data
#   make deps       install missing Debian packages (or print the apt-get line)
#   make install    PREFIX=/usr/local DESTDIR=
#
# New sources are picked up by wildcard: libcommon/*.c, filters/ml-*.c,
# plugins/<kind>-<name>/*.c (one .so per folder), tests/unit/test_*.c.

VERSION := 0.1.0
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
MANDIR ?= $(PREFIX)/share/man
PLUGINDIR ?= $(LIBDIR)/mlpipe/plugins
DESTDIR ?=

CC ?= cc
PKG_CONFIG ?= pkg-config
B := build

# Debian packages the build, the tests and the benchmarks need.
DEB_BUILD := build-essential pkg-config libjansson-dev libyaml-dev libssl-dev \
	libcurl4-openssl-dev libmicrohttpd-dev check
DEB_TEST := clang chromium python3-pil python3-xgboost python3-sklearn python3-scipy python3-pandas python3-aiosmtpd xgboost mawk time groff-base \
	nodejs python3-botocore jq wrk parallel
DEB_ALL := $(DEB_BUILD) $(DEB_TEST)

LIB_PKGS := jansson yaml-0.1 libcrypto
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(LIB_PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(LIB_PKGS) 2>/dev/null)
CHECK_CFLAGS := $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS := $(shell $(PKG_CONFIG) --libs check 2>/dev/null)

OPT ?= -O2
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-missing-field-initializers
CFLAGS ?= $(OPT) -g
ALL_CFLAGS := -std=gnu11 $(WARN) -fPIC -Ilibcommon/include $(PKG_CFLAGS) \
	-DMLPIPE_VERSION='"$(VERSION)"' -DMLPIPE_PLUGINDIR='"$(PLUGINDIR)"' $(CFLAGS)
LDLIBS := $(PKG_LIBS) -ldl -lpthread -lm

LIB_SRC := $(wildcard libcommon/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(B)/obj/%.o)
LIBA := $(B)/lib/libmlpipe.a

FILTER_SRC := $(wildcard filters/ml-*.c)
FILTERS := $(FILTER_SRC:filters/%.c=$(B)/bin/%)

PLUGIN_DIRS := $(patsubst %/,%,$(sort $(dir $(wildcard plugins/*/*.c))))
PLUGINS := $(PLUGIN_DIRS:plugins/%=$(B)/lib/mlpipe/plugins/ml-%.so)

TEST_SRC := $(wildcard tests/unit/test_*.c)
TESTS := $(TEST_SRC:tests/unit/%.c=$(B)/tests/%)
TEST_PLUGIN_SRC := $(wildcard tests/plugins/*.c)
TEST_PLUGINS := $(TEST_PLUGIN_SRC:tests/plugins/%.c=$(B)/tests/plugins/%.so)

SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
SAN_LIB_OBJ := $(LIB_SRC:%.c=$(B)/san/%.o)
SAN_TESTS := $(TEST_SRC:tests/unit/%.c=$(B)/san/tests/%)

BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(B)/bench/%)

MAN_PAGES := $(wildcard man/*.1)
MAN7_PAGES := $(wildcard man/*.7)
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions

.PHONY: all check check-unit check-san check-cli check-fuzz bench demo deps install \
	uninstall clean tests
.DELETE_ON_ERROR:
.SECONDARY:

all: $(FILTERS) $(PLUGINS)

# ---- library ----
$(B)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIBA): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

# ---- filters ----
$(B)/bin/%: $(B)/obj/filters/%.o $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -rdynamic -o $@ $< $(LIBA) $(LDLIBS) $(LDFLAGS)

# ml-score --serve is the one user of libmicrohttpd, and opens it with dlopen() (serve.c).

# ---- plugins: one .so per folder, exporting only ml_plugin_entry ----
define plugin_rule
$(B)/lib/mlpipe/plugins/ml-$(1).so: $(patsubst %.c,$(B)/obj/%.o,$(wildcard plugins/$(1)/*.c)) $(LIBA) plugins/plugin.map
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_CFLAGS) -shared -Wl,--version-script=plugins/plugin.map -o $$@ \
		$$(filter %.o,$$^) $$(LIBA) $$(LDLIBS) $$(PLUGIN_LIBS_$(1)) $$(LDFLAGS)
endef
$(foreach p,$(PLUGIN_DIRS:plugins/%=%),$(eval $(call plugin_rule,$(p))))

# Plugins that need more than libcommon name it here.
PLUGIN_LIBS_store-s3 := $(shell $(PKG_CONFIG) --libs libcurl 2>/dev/null)
PLUGIN_LIBS_notify-smtp := $(PLUGIN_LIBS_store-s3)
PLUGIN_LIBS_notify-webhook := $(PLUGIN_LIBS_store-s3)
PLUGIN_LIBS_notify-sns := $(PLUGIN_LIBS_store-s3)

# The tree-scoring kernel is written for the vectorizer, which -O2 runs only in its cheapest mode.
$(B)/obj/plugins/algo-gbtree/predict.o: ALL_CFLAGS += -O3

# ---- tests ----
$(B)/tests/%: tests/unit/%.c $(LIBA) tests/unit/testutil.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -Itests/unit -o $@ $< $(LIBA) $(CHECK_LIBS) $(LDLIBS)

$(B)/tests/plugins/%.so: tests/plugins/%.c $(LIBA) plugins/plugin.map
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -shared -Wl,--version-script=plugins/plugin.map -o $@ $< $(LIBA) $(LDLIBS)

$(B)/san/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -O1 -MMD -MP -c -o $@ $<

$(B)/san/lib/libmlpipe.a: $(SAN_LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

$(B)/san/tests/%: tests/unit/%.c $(B)/san/lib/libmlpipe.a tests/unit/testutil.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -O1 $(CHECK_CFLAGS) -Itests/unit -o $@ $< \
		$(B)/san/lib/libmlpipe.a $(CHECK_LIBS) $(LDLIBS)

# The gbtree plugin's unit test links the plugin's own objects (sanitized in the san build).
GBTREE_SRC := $(wildcard plugins/algo-gbtree/*.c)
$(B)/tests/test_gbtree: tests/unit/test_gbtree.c $(GBTREE_SRC:%.c=$(B)/obj/%.o) $(LIBA) tests/unit/testutil.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -Itests/unit -Iplugins/algo-gbtree -o $@ $< \
		$(GBTREE_SRC:%.c=$(B)/obj/%.o) $(LIBA) $(CHECK_LIBS) $(LDLIBS)
$(B)/san/tests/test_gbtree: tests/unit/test_gbtree.c $(GBTREE_SRC:%.c=$(B)/san/%.o) $(B)/san/lib/libmlpipe.a \
		tests/unit/testutil.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -O1 $(CHECK_CFLAGS) -Itests/unit -Iplugins/algo-gbtree -o $@ $< \
		$(GBTREE_SRC:%.c=$(B)/san/%.o) $(B)/san/lib/libmlpipe.a $(CHECK_LIBS) $(LDLIBS)

# The loader's tests dlopen the test plugins.
$(B)/tests/test_plugin $(B)/san/tests/test_plugin: $(TEST_PLUGINS)

tests: all $(TESTS) $(TEST_PLUGINS) $(SAN_TESTS)

# One runner prints every group's result and ends with "N passed, N failed".
check: tests
	@tests/run.sh

# ---- benchmarks ----
$(B)/bench/%: bench/%.c $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -O3 -march=native -o $@ $< $(LIBA) $(LDLIBS)

bench: all $(BENCH_BIN)
	@bench/run.sh

# ---- demo ----
demo: deps all
	@contrib/demo.sh

# ---- dependencies ----
deps:
	@missing=$$(for p in $(DEB_ALL); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q '^install ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then echo "deps: all Debian packages present"; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "deps: installing $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else \
		echo "deps: missing packages; run:"; \
		echo "  sudo apt-get update && sudo apt-get install -y $$missing"; exit 1; \
	fi

# ---- install ----
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(PLUGINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 $(FILTERS) $(DESTDIR)$(BINDIR)/
	$(if $(PLUGINS),install -m 644 $(PLUGINS) $(DESTDIR)$(PLUGINDIR)/)
	$(if $(MAN_PAGES),install -m 644 $(MAN_PAGES) $(DESTDIR)$(MANDIR)/man1/)
	install -d $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(BASHCOMPDIR)
	$(if $(MAN7_PAGES),install -m 644 $(MAN7_PAGES) $(DESTDIR)$(MANDIR)/man7/)
	install -m 644 contrib/completion/mlpipe.bash $(DESTDIR)$(BASHCOMPDIR)/mlpipe
	for t in $(FILTERS:$(B)/bin/%=%); do ln -sf mlpipe $(DESTDIR)$(BASHCOMPDIR)/$$t; done

uninstall:
	rm -f $(FILTERS:$(B)/bin/%=$(DESTDIR)$(BINDIR)/%)
	rm -f $(PLUGINS:$(B)/lib/mlpipe/plugins/%=$(DESTDIR)$(PLUGINDIR)/%)
	rm -f $(MAN_PAGES:man/%=$(DESTDIR)$(MANDIR)/man1/%)
	rm -f $(MAN7_PAGES:man/%=$(DESTDIR)$(MANDIR)/man7/%)
	rm -f $(DESTDIR)$(BASHCOMPDIR)/mlpipe $(FILTERS:$(B)/bin/%=$(DESTDIR)$(BASHCOMPDIR)/%)

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)

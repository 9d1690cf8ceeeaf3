# PGXS build: the packaging build. The file list is every src/<part>/*.cpp; CMakeLists.txt
# globs the same pattern (src/core as the pure C++ library, the rest as the module), so the
# two builds never drift.
EXTENSION = pg_viewmgr
MODULE_big = pg_viewmgr
OBJS = $(patsubst %.cpp,%.o,$(sort $(wildcard src/*/*.cpp)))
DATA = $(wildcard extension/pg_viewmgr--*.sql)
PGFILEDESC = "pg_viewmgr - declarative view management"

REGRESS = $(sort $(basename $(notdir $(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=. --outputdir=build/regress
# Concurrency: specs/*.spec run with pg_isolation_regress; expected output in expected/.
ISOLATION = $(sort $(basename $(notdir $(wildcard specs/*.spec))))

PG_CPPFLAGS = -I$(CURDIR)/src
PG_CXXFLAGS = -std=c++17 -Wno-register -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -fno-omit-frame-pointer
SHLIB_LINK += -lstdc++
# Header dependencies (PGXS tracks none): a changed header rebuilds what includes it.
PG_CXXFLAGS += -MMD -MP
EXTRA_CLEAN = $(OBJS:.o=.d)

# PGXS would also compile every .cpp to LLVM bitcode with clang, without PG_CXXFLAGS;
# JIT inlining of this code brings nothing, so skip the bitcode step.
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Server headers are third-party code to us: include them as system headers so our own
# warnings stay readable.
override CPPFLAGS := $(patsubst -I$(includedir_server),-isystem $(includedir_server),$(CPPFLAGS))

-include $(OBJS:.o=.d)

installcheck: | build/regress
build/regress:
	mkdir -p $@

#!/usr/bin/env python3
"""Generates the data set and the views of bench/rebuild_bench.sh (standard library only).

A base view bench_rb.base over a table, and DEPENDENTS views downstream of it in LEVELS
levels. A view of level k reads one or two views of level k-1 (level 1 reads the base
view), sometimes a view of a lower level and sometimes a small dimension table, so every
one of them depends on the base view. About MANAGED_PERCENT of the dependents are managed
(registered with viewmgr.register); the others are hand-made plain views. A managed view
reads only the base view and other managed views; a hand-made view reads any view. Some
views carry grants (table and column level) and comments (view and column); a managed
view's view comment is declared through register(comment => ...).

Writes into OUT_DIR:
  setup.sql           roles, schemas, tables and their rows (once per cluster)
  views_managed.sql   the starting state for the pg_viewmgr side: base and managed views
                      registered (apply => true), hand-made views created, grants and
                      comments set, in dependency order
  views_plain.sql     the starting state for the hand-written side: the same views, all
                      created with CREATE VIEW, with the same grants and comments
  rebuild_script.sql  the hand-written rebuild: DROP VIEW base CASCADE, then the new base
                      and every dependent with the same CREATE, GRANT and COMMENT
                      statements (the caller wraps it in one transaction and times it)
  rebuild_call.sql    the pg_viewmgr rebuild: re-registering the base view with amount
                      cast to integer (an incompatible column change)
  summary.txt         key=value lines describing the data set

Every view has one of two shapes: "row" (id, grp, amount, label) or "agg" (grp, amount,
n), so a view can read any view of a known shape.
"""
import argparse
import os
import random

DATA_SCHEMA = "bench_rb_data"
VIEW_SCHEMA = "bench_rb"
READER = "bench_rb_reader"
ANALYST = "bench_rb_analyst"

BASE = f"{VIEW_SCHEMA}.base"
BASE_OLD = (
    f"SELECT s.id, s.grp, s.amount, s.label, s.created_at FROM {DATA_SCHEMA}.src s"
)
BASE_NEW = (
    f"SELECT s.id, s.grp, s.amount::int AS amount, s.label, s.created_at FROM {DATA_SCHEMA}.src s"
)


def q(text):
    return "'" + text.replace("'", "''") + "'"


class View:
    def __init__(self, name, level, managed, shape, definition):
        self.name = name
        self.level = level
        self.managed = managed
        self.shape = shape
        self.definition = definition
        self.comment = None          # view comment
        self.column_comment = None   # comment on column amount
        self.grant = False           # GRANT SELECT ... TO READER
        self.column_grant = False    # GRANT SELECT (grp, amount) ... TO ANALYST


def definition_for(rng, parents, extra):
    """parents: 1 or 2 views of the level below; extra: an optional view of a lower level."""
    dim = f"{DATA_SCHEMA}.dim"
    p = parents[0]
    second = parents[1] if len(parents) > 1 else None
    r = rng.random()
    if p.shape == "row":
        if second is not None and second.shape == "row" and r < 0.25:
            return "row", (
                f"SELECT id, grp, amount, label FROM {p.name} WHERE grp % 2 = 0\n"
                f"UNION ALL\n"
                f"SELECT id, grp, amount, label FROM {second.name} WHERE grp % 2 = 1"
            )
        if second is not None and r < 0.45:
            return "row", (
                f"SELECT a.id, a.grp, a.amount, a.label\n"
                f"  FROM {p.name} a\n"
                f" WHERE a.grp IN (SELECT b.grp FROM {second.name} b WHERE b.amount > 0)"
            )
        if r < 0.6:
            m = rng.randrange(3, 9)
            return "row", (
                f"SELECT id, grp, amount, label FROM {p.name} WHERE id % {m} <> 0"
            )
        if r < 0.75:
            return "row", (
                f"SELECT p.id, p.grp, p.amount, d.name || ':' || p.label AS label\n"
                f"  FROM {p.name} p JOIN {dim} d ON d.grp = p.grp"
            )
        if r < 0.85:
            return "row", (
                f"SELECT id, grp, amount * 2 AS amount, upper(label) AS label FROM {p.name}"
            )
        src = p.name
        if extra is not None and extra.shape == "row":
            return "agg", (
                f"SELECT x.grp, sum(x.amount) AS amount, count(*) AS n\n"
                f"  FROM (SELECT grp, amount FROM {src} UNION ALL SELECT grp, amount FROM {extra.name}) x\n"
                f" GROUP BY x.grp"
            )
        return "agg", (
            f"SELECT grp, sum(amount) AS amount, count(*) AS n FROM {src} GROUP BY grp"
        )
    # p is an aggregate
    if second is not None and second.shape == "agg" and r < 0.4:
        return "agg", (
            f"SELECT a.grp, a.amount + coalesce(b.amount, 0) AS amount, a.n\n"
            f"  FROM {p.name} a LEFT JOIN {second.name} b ON b.grp = a.grp"
        )
    if r < 0.7:
        return "agg", (
            f"SELECT a.grp, a.amount, a.n FROM {p.name} a\n"
            f"  JOIN {dim} d ON d.grp = a.grp WHERE d.region <> 'north'"
        )
    return "agg", (f"SELECT grp, amount, n FROM {p.name} WHERE n > 1")


def generate(args):
    rng = random.Random(args.seed)
    base = View(BASE, 0, True, "row", BASE_OLD)
    base.comment = "base view of the rebuild benchmark"
    base.grant = True
    base.column_comment = "amount in cents"
    views = [base]
    by_level = {0: [base]}
    per_level = [args.dependents // args.levels] * args.levels
    for i in range(args.dependents % args.levels):
        per_level[i] += 1
    n = 0
    for level in range(1, args.levels + 1):
        by_level[level] = []
        for j in range(per_level[level - 1]):
            managed = rng.random() * 100 < args.managed_percent
            below = by_level[level - 1]
            if managed:
                below = [v for v in below if v.managed] or [base]
            parents = [rng.choice(below)]
            if level > 1 and rng.random() < 0.4:
                other = rng.choice(below)
                if other is not parents[0]:
                    parents.append(other)
            extra = None
            if level > 2 and rng.random() < 0.2:
                lower = [v for lv in range(0, level - 1) for v in by_level[lv]
                         if (v.managed or not managed)]
                extra = rng.choice(lower)
            shape, definition = definition_for(rng, parents, extra)
            v = View(f"{VIEW_SCHEMA}.l{level}_v{j:03d}", level, managed, shape, definition)
            n += 1
            if n % 4 == 0:
                v.grant = True
            if n % 10 == 3:
                v.column_grant = True
            if n % 5 == 1:
                v.comment = f"view {v.name}: level {level}"
            if n % 20 == 7:
                v.column_comment = f"amount of {v.name}"
            views.append(v)
            by_level[level].append(v)
    return views


def extras(v, managed_side):
    """GRANT and COMMENT statements of a view (its declared comment excepted on the
    pg_viewmgr side: register(comment => ...) sets that one)."""
    out = []
    if v.comment is not None and not (managed_side and v.managed):
        out.append(f"COMMENT ON VIEW {v.name} IS {q(v.comment)};")
    if v.column_comment is not None:
        out.append(f"COMMENT ON COLUMN {v.name}.amount IS {q(v.column_comment)};")
    if v.grant:
        out.append(f"GRANT SELECT ON {v.name} TO {READER};")
    if v.column_grant:
        out.append(f"GRANT SELECT (grp, amount) ON {v.name} TO {ANALYST};")
    return out


def create_view(v, definition=None):
    return f"CREATE VIEW {v.name} AS\n{definition or v.definition};"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir")
    ap.add_argument("--seed", type=int, default=20240616)
    ap.add_argument("--dependents", type=int, default=200)
    ap.add_argument("--levels", type=int, default=4)
    ap.add_argument("--managed-percent", type=float, default=50)
    ap.add_argument("--rows", type=int, default=2000)
    args = ap.parse_args()
    if args.dependents < args.levels or args.levels < 1:
        ap.error("need at least one dependent per level")
    views = generate(args)
    os.makedirs(args.out_dir, exist_ok=True)

    with open(os.path.join(args.out_dir, "setup.sql"), "w") as f:
        f.write(f"""\\set ON_ERROR_STOP on
SET client_min_messages = warning;
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{READER}') THEN CREATE ROLE {READER}; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ANALYST}') THEN CREATE ROLE {ANALYST}; END IF;
END $$;
CREATE SCHEMA {DATA_SCHEMA};
CREATE TABLE {DATA_SCHEMA}.src (id int PRIMARY KEY, grp int NOT NULL, amount numeric(12,2) NOT NULL,
  label text NOT NULL, created_at timestamptz NOT NULL);
INSERT INTO {DATA_SCHEMA}.src
SELECT i, i % 20, round(((i * 7919) % 100000) / 100.0, 2), 'item ' || i,
       timestamptz '2024-01-01 00:00:00+00' + (i % 365) * interval '1 day'
  FROM generate_series(1, {args.rows}) AS i;
CREATE TABLE {DATA_SCHEMA}.dim (grp int PRIMARY KEY, name text NOT NULL, region text NOT NULL);
INSERT INTO {DATA_SCHEMA}.dim
SELECT g, 'group ' || g, (ARRAY['north', 'south', 'east', 'west'])[1 + g % 4]
  FROM generate_series(0, 19) AS g;
GRANT USAGE ON SCHEMA {DATA_SCHEMA} TO {READER}, {ANALYST};
GRANT SELECT ON ALL TABLES IN SCHEMA {DATA_SCHEMA} TO {READER}, {ANALYST};
""")

    with open(os.path.join(args.out_dir, "views_managed.sql"), "w") as f:
        f.write("\\set ON_ERROR_STOP on\nSET client_min_messages = warning;\nBEGIN;\n")
        for v in views:
            if v.managed:
                comment = "NULL" if v.comment is None else q(v.comment)
                f.write(f"SELECT viewmgr.register({q(v.name)}, {q(v.definition)}, "
                        f"comment => {comment}) AS action \\gset\n")
            else:
                f.write(create_view(v) + "\n")
            for line in extras(v, True):
                f.write(line + "\n")
        f.write("COMMIT;\n")

    with open(os.path.join(args.out_dir, "views_plain.sql"), "w") as f:
        f.write("\\set ON_ERROR_STOP on\nSET client_min_messages = warning;\nBEGIN;\n")
        for v in views:
            f.write(create_view(v) + "\n")
            for line in extras(v, False):
                f.write(line + "\n")
        f.write("COMMIT;\n")

    with open(os.path.join(args.out_dir, "rebuild_script.sql"), "w") as f:
        f.write("-- hand-written rebuild: drop the base view with everything on it, recreate all\n")
        f.write(f"DROP VIEW {BASE} CASCADE;\n")
        for v in views:
            f.write(create_view(v, BASE_NEW if v is views[0] else None) + "\n")
            for line in extras(v, False):
                f.write(line + "\n")

    with open(os.path.join(args.out_dir, "rebuild_call.sql"), "w") as f:
        f.write(f"SELECT viewmgr.register({q(BASE)}, {q(BASE_NEW)}, "
                f"comment => {q(views[0].comment)}) AS action \\gset rb_\n")

    deps = views[1:]
    with open(os.path.join(args.out_dir, "summary.txt"), "w") as f:
        f.write(f"view_schema={VIEW_SCHEMA}\n")
        f.write(f"data_schema={DATA_SCHEMA}\n")
        f.write(f"rows={args.rows}\n")
        f.write(f"dependents={len(deps)}\n")
        f.write(f"levels={args.levels}\n")
        f.write(f"managed={sum(v.managed for v in deps)}\n")
        f.write(f"unmanaged={sum(not v.managed for v in deps)}\n")
        f.write(f"granted={sum(v.grant for v in views)}\n")
        f.write(f"column_granted={sum(v.column_grant for v in views)}\n")
        f.write(f"commented={sum(v.comment is not None for v in views)}\n")
        f.write(f"column_commented={sum(v.column_comment is not None for v in views)}\n")
        f.write(f"agg_views={sum(v.shape == 'agg' for v in deps)}\n")


if __name__ == "__main__":
    main()

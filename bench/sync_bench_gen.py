#!/usr/bin/env python3
"""Generates the data set and the view DAG of bench/sync_bench.sh (standard library only).

Writes into OUT_DIR:
  setup.sql     schemas, base tables and their rows
  baseline.sql  the CREATE [MATERIALIZED] VIEW statements in topological order (the caller
                wraps them in one transaction and times them)
  register.sql  viewmgr.register(..., apply => false) for the same views, in shuffled
                order, in one transaction
  declare.json  the same views, in the same shuffled order, as the JSON array
                viewmgr.declare() takes
  summary.txt   key=value lines describing the data set

Every view outputs the same columns (k int, grp int, val numeric, label text), so any view
can read any other. Level 0 views read one or two base tables; a view at level L reads one
to three views of level L-1 and sometimes one view of a lower level. To keep the planning
and execution cost of each view modest, a view's "inline size" (how many base tables and
materialized views its query scans once plain views are expanded) is capped; extra sources
that would exceed the cap are skipped.
"""
import argparse
import json
import os
import random

DATA_SCHEMA = "bench_data"
VIEW_SCHEMA = "bench_views"


def table_name(i):
    return f"{DATA_SCHEMA}.t{i:02d}"


def view_name(level, idx):
    return f"{VIEW_SCHEMA}.l{level}_v{idx:03d}"


def level0_definition(rng, tables):
    shape = rng.random()
    if shape < 0.45:
        t = rng.choice(tables)
        days = rng.randrange(0, 60)
        return [t], (
            f"SELECT id AS k, grp, val, label\n"
            f"  FROM {t}\n"
            f" WHERE created_at >= timestamptz '2024-01-01 00:00:00+00' + interval '{days} days'"
        )
    if shape < 0.85:
        a, b = rng.sample(tables, 2)
        g = rng.randrange(100)
        return [a, b], (
            f"SELECT a.id AS k, a.grp, a.val + b.val AS val, a.label || '/' || b.label AS label\n"
            f"  FROM {a} a\n"
            f"  JOIN {b} b ON b.id = a.id\n"
            f" WHERE a.grp <> {g}"
        )
    t = rng.choice(tables)
    return [t], (
        f"SELECT min(id) AS k, grp, sum(val) AS val, max(label) AS label\n"
        f"  FROM {t}\n"
        f" GROUP BY grp"
    )


def upper_definition(rng, sources):
    if len(sources) == 1:
        s = sources[0]
        shape = rng.random()
        if shape < 0.5:
            m = rng.randrange(2, 9)
            return (
                f"SELECT k, grp, round(val * 1.01, 4) AS val, label\n"
                f"  FROM {s}\n"
                f" WHERE grp % {m} <> {rng.randrange(m)}"
            )
        if shape < 0.75:
            return (
                f"SELECT min(k) AS k, grp, round(avg(val), 4) AS val, max(label) AS label\n"
                f"  FROM {s}\n"
                f" GROUP BY grp"
            )
        lim = rng.randrange(20, 100)
        return (
            f"WITH r AS (\n"
            f"  SELECT k, grp, val, label, rank() OVER (PARTITION BY grp ORDER BY val DESC, k) AS pos\n"
            f"    FROM {s}\n"
            f")\n"
            f"SELECT k, grp, val, upper(label) AS label FROM r WHERE pos <= {lim}"
        )
    joins = []
    val_terms = ["a.val"]
    for i, s in enumerate(sources[1:], start=1):
        alias = f"s{i}"
        if rng.random() < 0.5:
            joins.append(f"  JOIN {s} {alias} ON {alias}.k = a.k")
            val_terms.append(f"{alias}.val")
        else:
            joins.append(
                f"  LEFT JOIN (SELECT grp, sum(val) AS total, count(*) AS n FROM {s} GROUP BY grp) {alias}\n"
                f"         ON {alias}.grp = a.grp"
            )
            val_terms.append(f"coalesce({alias}.total / {alias}.n, 0)")
    where = ""
    if rng.random() < 0.5:
        where = f"\n WHERE a.grp < {rng.randrange(60, 100)}"
    return (
        f"SELECT a.k, a.grp, {' + '.join(val_terms)} AS val, a.label\n"
        f"  FROM {sources[0]} a\n" + "\n".join(joins) + where
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out_dir")
    ap.add_argument("--seed", type=int, default=20240615)
    ap.add_argument("--tables", type=int, default=50)
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--levels", type=int, default=10)
    ap.add_argument("--per-level", type=int, default=100)
    ap.add_argument("--materialized-percent", type=int, default=20)
    ap.add_argument("--inline-cap", type=int, default=8)
    args = ap.parse_args()

    rng = random.Random(args.seed)
    tables = [table_name(i) for i in range(1, args.tables + 1)]
    per_mat = args.per_level * args.materialized_percent // 100

    views = []  # (level, name, materialized, definition)
    size = {t: 1 for t in tables}  # inline size of each relation
    materialized = {}
    by_level = []
    for level in range(args.levels):
        names = [view_name(level, i) for i in range(1, args.per_level + 1)]
        mats = set(rng.sample(names, per_mat))
        for name in names:
            materialized[name] = name in mats
            if level == 0:
                sources, definition = level0_definition(rng, tables)
            else:
                prev = by_level[level - 1]
                want = rng.choices([1, 2, 3], weights=[45, 35, 20])[0]
                first = rng.choice(prev)
                sources = [first]
                total = size[first]
                candidates = [v for v in prev if v != first]
                rng.shuffle(candidates)
                extra = []
                for c in candidates:
                    if len(extra) == want - 1:
                        break
                    if total + size[c] <= args.inline_cap:
                        extra.append(c)
                        total += size[c]
                if level >= 2 and rng.random() < 0.3:
                    lower = [v for lv in by_level[: level - 1] for v in lv]
                    rng.shuffle(lower)
                    for c in lower[:20]:
                        if total + size[c] <= args.inline_cap:
                            extra.append(c)
                            total += size[c]
                            break
                sources += extra
                definition = upper_definition(rng, sources)
            inline = sum(size[s] for s in sources)
            size[name] = 1 if materialized[name] else inline
            views.append((level, name, materialized[name], definition))
        by_level.append(names)

    os.makedirs(args.out_dir, exist_ok=True)

    with open(os.path.join(args.out_dir, "setup.sql"), "w") as f:
        f.write(f"CREATE SCHEMA {DATA_SCHEMA};\n")
        for n, t in enumerate(tables, start=1):
            f.write(
                f"CREATE TABLE {t} (id int PRIMARY KEY, grp int NOT NULL, val numeric NOT NULL, "
                f"label text NOT NULL, created_at timestamptz NOT NULL);\n"
                f"INSERT INTO {t} SELECT i, (i * 7 + {n}) % 100, ((i * 37 + {n} * 11) % 1000) / 10.0, "
                f"'L' || ((i + {n}) % 50), timestamptz '2024-01-01 00:00:00+00' + i * interval '1 hour' "
                f"FROM generate_series(1, {args.rows}) AS i;\n"
            )
        f.write("VACUUM ANALYZE;\n")

    def create_stmt(name, mat, definition):
        kind = "MATERIALIZED VIEW" if mat else "VIEW"
        return f"CREATE {kind} {name} AS\n{definition}\n{'WITH DATA' if mat else ''};\n"

    with open(os.path.join(args.out_dir, "baseline.sql"), "w") as f:
        for level, name, mat, definition in views:  # generated level by level: topological
            f.write(create_stmt(name, mat, definition))

    shuffled = list(views)
    rng.shuffle(shuffled)
    with open(os.path.join(args.out_dir, "register.sql"), "w") as f:
        f.write("\\set ON_ERROR_STOP on\n")
        f.write("BEGIN;\n")
        for level, name, mat, definition in shuffled:
            f.write(
                f"SELECT viewmgr.register('{name}', $def$\n{definition}\n$def$, "
                f"materialized => {'true' if mat else 'false'}, apply => false);\n"
            )
        f.write("COMMIT;\n")

    with open(os.path.join(args.out_dir, "declare.json"), "w") as f:
        f.write(json.dumps([
            {"view_name": name, "definition": definition, "materialized": mat}
            for level, name, mat, definition in shuffled
        ], indent=0))
        f.write("\n")

    n_mat = sum(1 for v in views if v[2])
    with open(os.path.join(args.out_dir, "summary.txt"), "w") as f:
        f.write(f"tables={args.tables}\nrows={args.rows}\nviews={len(views)}\n")
        f.write(f"levels={args.levels}\nmaterialized={n_mat}\nseed={args.seed}\n")
        f.write(f"view_schema={VIEW_SCHEMA}\ndata_schema={DATA_SCHEMA}\n")


if __name__ == "__main__":
    main()

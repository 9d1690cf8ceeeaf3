#!/usr/bin/env python3
"""Generates the data sets of bench/refresh_bench.sh (standard library only).

Writes into OUT_DIR:
  rf_setup.sql     (database bench_rf) 50 tables bench_rf_data.t01 ... t50 of ROWS rows and
                   a dimension table of GROUPS rows; one materialized view per table,
                   bench_rf.mv01 ... mv50, registered with viewmgr.register(materialized =>
                   true). Odd-numbered views get a unique index on grp (so refresh_all
                   refreshes them CONCURRENTLY), even-numbered ones a plain index.
                   View N reads table tN only (and, for some, the dimension table, which
                   is never written).
  rf_touch.sql     writes to t01 and t02 only (so exactly mv01 and mv02 become stale)
  par_setup.sql    (database bench_par) one table bench_par_data.facts of PAR_ROWS rows and
                   40 independent materialized views bench_par.p01 ... p40 over it (grouped
                   aggregates, no unique index), registered with viewmgr.register
  summary.txt      key=value lines describing the data sets
"""
import argparse
import os


def q(text):
    return "'" + text.replace("'", "''") + "'"


def rf_definition(i, groups):
    t = f"bench_rf_data.t{i:02d}"
    shape = i % 3
    if shape == 0:
        return (f"SELECT t.grp, count(*) AS n, sum(t.val) AS total, avg(t.qty) AS avg_qty, "
                f"max(t.created_at) AS last_at\n  FROM {t} t\n GROUP BY t.grp")
    if shape == 1:
        return (f"SELECT t.grp, d.name, count(*) AS n, sum(t.val * t.qty) AS total, "
                f"min(t.created_at) AS first_at\n  FROM {t} t\n"
                f"  JOIN bench_rf_data.dim d ON d.grp = t.grp\n GROUP BY t.grp, d.name")
    return (f"SELECT t.grp, count(DISTINCT t.label) AS labels, sum(t.val) AS total, "
            f"max(t.qty) AS max_qty\n  FROM {t} t\n WHERE t.qty > 0\n GROUP BY t.grp")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir")
    ap.add_argument("--views", type=int, default=50)
    ap.add_argument("--rows", type=int, default=40000)
    ap.add_argument("--groups", type=int, default=500)
    ap.add_argument("--par-views", type=int, default=40)
    ap.add_argument("--par-rows", type=int, default=300000)
    args = ap.parse_args()
    if args.views < 2:
        ap.error("--views must be at least 2")
    os.makedirs(args.out_dir, exist_ok=True)

    with open(os.path.join(args.out_dir, "rf_setup.sql"), "w") as f:
        f.write("\\set ON_ERROR_STOP on\nSET client_min_messages = warning;\n")
        f.write("CREATE SCHEMA bench_rf_data;\nCREATE SCHEMA bench_rf;\n")
        f.write("CREATE TABLE bench_rf_data.dim (grp int PRIMARY KEY, name text NOT NULL);\n")
        f.write(f"INSERT INTO bench_rf_data.dim SELECT g, 'group ' || g "
                f"FROM generate_series(0, {args.groups - 1}) AS g;\n")
        for i in range(1, args.views + 1):
            t = f"bench_rf_data.t{i:02d}"
            f.write(f"CREATE TABLE {t} (id int PRIMARY KEY, grp int NOT NULL, val numeric(12,2) NOT NULL,\n"
                    f"  qty int NOT NULL, label text NOT NULL, created_at timestamptz NOT NULL);\n")
            f.write(f"INSERT INTO {t}\n"
                    f"SELECT n, (n * 7 + {i}) % {args.groups}, ((n::bigint * 7919 + {i} * 104729) % 1000000) / 100.0,\n"
                    f"       (n + {i}) % 50, 'label ' || ((n * 31 + {i}) % 997),\n"
                    f"       timestamptz '2024-01-01 00:00:00+00' + ((n * 13 + {i}) % 525600) * interval '1 minute'\n"
                    f"  FROM generate_series(1, {args.rows}) AS n;\n")
        f.write("VACUUM ANALYZE;\n")
        for i in range(1, args.views + 1):
            index = "UNIQUE (grp)" if i % 2 == 1 else "(total)"
            f.write(f"SELECT viewmgr.register('bench_rf.mv{i:02d}', {q(rf_definition(i, args.groups))},\n"
                    f"  materialized => true, indexes => ARRAY[{q(index)}]) AS action \\gset\n")

    with open(os.path.join(args.out_dir, "rf_touch.sql"), "w") as f:
        f.write("\\set ON_ERROR_STOP on\n")
        f.write("UPDATE bench_rf_data.t01 SET val = val + 1 WHERE id % 100 = 0;\n")
        f.write("UPDATE bench_rf_data.t02 SET qty = qty + 1 WHERE id % 100 = 0;\n")

    with open(os.path.join(args.out_dir, "par_setup.sql"), "w") as f:
        f.write("\\set ON_ERROR_STOP on\nSET client_min_messages = warning;\n")
        f.write("CREATE SCHEMA bench_par_data;\nCREATE SCHEMA bench_par;\n")
        f.write("CREATE TABLE bench_par_data.facts (id int PRIMARY KEY, a int NOT NULL, b int NOT NULL,\n"
                "  c int NOT NULL, val numeric(12,2) NOT NULL, label text NOT NULL);\n")
        f.write(f"INSERT INTO bench_par_data.facts\n"
                f"SELECT n, (n * 7) % 1009, (n * 13) % 997, n % 100, ((n::bigint * 7919) % 1000000) / 100.0,\n"
                f"       'item ' || ((n * 31) % 4999)\n"
                f"  FROM generate_series(1, {args.par_rows}) AS n;\n")
        f.write("VACUUM ANALYZE;\n")
        for i in range(1, args.par_views + 1):
            m = 200 + 45 * i
            definition = (
                f"SELECT (f.a * {i} + f.b) % {m} AS k, count(*) AS n, sum(f.val) AS total,\n"
                f"       avg(f.c) AS avg_c, max(f.label) AS top_label\n"
                f"  FROM bench_par_data.facts f\n WHERE f.id % {args.par_views} <> {i - 1}\n GROUP BY 1")
            f.write(f"SELECT viewmgr.register('bench_par.p{i:02d}', {q(definition)}, "
                    f"materialized => true) AS action \\gset\n")

    with open(os.path.join(args.out_dir, "summary.txt"), "w") as f:
        f.write(f"views={args.views}\nrows={args.rows}\ngroups={args.groups}\n")
        f.write(f"unique_views={(args.views + 1) // 2}\n")
        f.write(f"par_views={args.par_views}\npar_rows={args.par_rows}\n")


if __name__ == "__main__":
    main()

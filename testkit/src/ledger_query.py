"""Runs one of the erasure ledger's Athena queries with DuckDB over records on disk.

Usage: ledger_query.py <root> <columns JSON> <SQL> <parameters JSON>

<root> holds the ledger's keys as files (<root>/erasures/year=.../month=.../day=.../*.json).
<columns JSON> maps each record field to its type, as the template's Glue table declares
it. The table `records` reads every JSON line with those columns, and the partition
columns year, month and day from the paths as strings, as Athena's partition projection
gives them. The SQL runs with its `?` parameters bound in order, as Athena's execution
parameters bind them; the rows are printed as a JSON list of objects.
"""

import json
import sys

import duckdb


def main():
    root, columns, sql, parameters = sys.argv[1:5]
    columns = json.loads(columns)
    connection = duckdb.connect()
    connection.execute(
        f"""CREATE VIEW records AS SELECT * FROM read_json(
            '{root}/erasures/*/*/*/*.json', format = 'newline_delimited',
            columns = {columns!r}, hive_partitioning = true,
            hive_types = {{'year': 'VARCHAR', 'month': 'VARCHAR', 'day': 'VARCHAR'}})"""
    )
    cursor = connection.execute(sql, json.loads(parameters))
    # Athena names result columns in lower case, as the Glue table does.
    names = [d[0].lower() for d in cursor.description]
    rows = [dict(zip(names, row)) for row in cursor.fetchall()]
    json.dump(rows, sys.stdout, default=str)


if __name__ == "__main__":
    main()

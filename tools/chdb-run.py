"""Runs SQL on chdb (a current ClickHouse embedded in Python) for test/clickhouse-compat.test.ts.

Reads JSON from stdin: {"database": str, "statements": [sql], "inserts": [{"table": str, "rows": [obj]}],
"queries": {name: sql}}. Writes JSON to stdout: {"version": str, "results": {name: [row]}, "errors": {name: msg}}.
A statement or insert that fails ends the run (exit 1); a failing query is reported under "errors".
"""
import json
import sys

import chdb.session


def main() -> int:
    job = json.load(sys.stdin)
    session = chdb.session.Session()
    db = job["database"]
    session.query(f"CREATE DATABASE IF NOT EXISTS {db}")
    session.query(f"USE {db}")
    for sql in job["statements"]:
        session.query(sql)
    for insert in job["inserts"]:
        body = "\n".join(json.dumps(r) for r in insert["rows"])
        session.query(f"INSERT INTO {insert['table']} FORMAT JSONEachRow\n{body}")
    version = str(session.query("SELECT version()", "CSV")).strip().strip('"')
    results, errors = {}, {}
    for name, sql in job["queries"].items():
        try:
            out = str(session.query(sql, "JSONEachRow"))
            results[name] = [json.loads(line) for line in out.splitlines() if line.strip()]
        except Exception as err:  # the query's own error, reported per query
            errors[name] = str(err)
    json.dump({"version": version, "results": results, "errors": errors}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())

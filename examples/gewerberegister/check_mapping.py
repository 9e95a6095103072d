#!/usr/bin/python3
"""Checks that every value in every mapped column of the example database converts under the
mapping of fachadapter.yaml, by the rules of docs/configuration.md (read direction: trim,
null_values, codes, format / decimal text), without the daemon. Also checks that each mapped
column exists, that code maps are one-to-one, that no text is longer than its CHAR(n), and that
all text fits ISO-8859-1 (as the original 1990s system would have required).

    /usr/bin/python3 examples/gewerberegister/check_mapping.py [--db PATH] [--config PATH]

Needs python3-yaml (Debian). Exits 0 when everything converts, 1 otherwise.
"""

import argparse
import datetime
import os
import re
import sqlite3
import sys

try:
    import yaml
except ImportError:
    sys.exit("check_mapping.py needs PyYAML: apt-get install python3-yaml (and use /usr/bin/python3)")

HERE = os.path.dirname(os.path.abspath(__file__))

DATE_FORMATS = {
    "YYYYMMDD": r"(?P<Y>\d{4})(?P<M>\d{2})(?P<D>\d{2})",
    "DD.MM.YYYY": r"(?P<D>\d{2})\.(?P<M>\d{2})\.(?P<Y>\d{4})",
    "YYYY-MM-DD": r"(?P<Y>\d{4})-(?P<M>\d{2})-(?P<D>\d{2})",
    "DDMMYYYY": r"(?P<D>\d{2})(?P<M>\d{2})(?P<Y>\d{4})",
}
TIMESTAMP_FORMATS = {
    "YYYYMMDDHHMMSS": r"(?P<Y>\d{4})(?P<M>\d{2})(?P<D>\d{2})(?P<h>\d{2})(?P<m>\d{2})(?P<s>\d{2})",
    "YYYY-MM-DD HH:MM:SS": r"(?P<Y>\d{4})-(?P<M>\d{2})-(?P<D>\d{2}) (?P<h>\d{2}):(?P<m>\d{2}):(?P<s>\d{2})",
    "DD.MM.YYYY HH:MM:SS": r"(?P<D>\d{2})\.(?P<M>\d{2})\.(?P<Y>\d{4}) (?P<h>\d{2}):(?P<m>\d{2}):(?P<s>\d{2})",
}


class ConversionError(Exception):
    pass


def make_converter(spec):
    """Returns a function raw -> API value (None for NULL) for one field mapping."""
    typ = spec.get("type")
    trim = spec.get("trim", "none")
    nulls = spec.get("null_values", [])
    codes = {str(k): v for k, v in (spec.get("codes") or {}).items()}
    fmt = spec.get("format")
    dsep = spec.get("decimal_separator", ".")
    gsep = spec.get("grouping_separator")

    if fmt in DATE_FORMATS:
        fmt_re = re.compile(DATE_FORMATS[fmt] + r"\Z")
    elif fmt in TIMESTAMP_FORMATS:
        fmt_re = re.compile(TIMESTAMP_FORMATS[fmt] + r"\Z")
    elif fmt is not None:
        raise SystemExit("format %s: not covered by this check" % fmt)
    if typ == "decimal":
        g = re.escape(gsep) if gsep else None
        intpart = r"\d{1,3}(?:%s\d{3})+|\d+" % g if g else r"\d+"
        dec_re = re.compile(r"(?P<neg>-?)(?P<int>%s)(?:%s(?P<frac>\d+))?\Z" % (intpart, re.escape(dsep)))

    def convert(raw):
        if raw is None:
            return None
        v = raw
        if isinstance(v, str):
            if trim in ("left", "both"):
                v = v.lstrip(" \0")
            if trim in ("right", "both"):
                v = v.rstrip(" \0")
        if nulls and (v if isinstance(v, str) else str(v)) in nulls:
            return None
        if codes:
            key = v if isinstance(v, str) else str(v)
            if key not in codes:
                raise ConversionError("no code %r" % key)
            v = codes[key]
        if typ in ("date", "timestamp") and fmt:
            m = fmt_re.match(v) if isinstance(v, str) else None
            if not m:
                raise ConversionError("not %s: %r" % (fmt, v))
            try:
                d = datetime.date(int(m["Y"]), int(m["M"]), int(m["D"]))
                if typ == "timestamp":
                    return datetime.datetime(d.year, d.month, d.day, int(m["h"]), int(m["m"]),
                                             int(m["s"]))
                return d
            except ValueError as e:
                raise ConversionError("%r: %s" % (v, e))
        if typ == "decimal":
            m = dec_re.match(v) if isinstance(v, str) else None
            if not m:
                raise ConversionError("not a decimal text: %r" % (v,))
            text = m["neg"] + (m["int"].replace(gsep, "") if gsep else m["int"])
            return text + ("." + m["frac"] if m["frac"] is not None else "")
        if typ == "bool":
            if v not in ("true", "false"):
                raise ConversionError("not a truth value: %r" % (v,))
            return v == "true"
        if typ == "int64":
            if not isinstance(v, int):
                raise ConversionError("not an integer: %r" % (v,))
            return v
        if typ == "string":
            if not isinstance(v, str):
                raise ConversionError("not text: %r" % (v,))
            return v
        raise SystemExit("type %s: not covered by this check" % typ)

    return convert


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", default=os.path.join(HERE, "data", "gewerbe.db"))
    ap.add_argument("--config", default=os.path.join(HERE, "fachadapter.yaml"))
    args = ap.parse_args()
    with open(args.config, encoding="utf-8") as f:
        config = yaml.safe_load(f)
    con = sqlite3.connect("file:%s?mode=ro" % args.db, uri=True)
    problems = 0

    for entity, ent in config["entities"].items():
        table = ent["table"]
        columns = {r[1]: r[2] for r in con.execute("PRAGMA table_info(%s)" % table)}
        if not columns:
            print("%s: table %s does not exist" % (entity, table))
            problems += 1
            continue
        fields = ent["fields"]
        for key in ent.get("key", []):
            if key not in fields:
                print("%s: key field %s is not mapped" % (entity, key))
                problems += 1
        rows = con.execute("SELECT COUNT(*) FROM %s" % table).fetchone()[0]
        print("%s <- %s (%d rows)" % (entity, table, rows))
        for name, spec in fields.items():
            col = spec["column"]
            if col not in columns:
                print("  %s: column %s does not exist" % (name, col))
                problems += 1
                continue
            codes = spec.get("codes") or {}
            if len(set(codes.values())) != len(codes):
                print("  %s: codes are not one-to-one" % name)
                problems += 1
            width = re.match(r"CHAR\((\d+)\)", columns[col])
            convert = make_converter(spec)
            nulls = errors = 0
            samples = {}
            for (raw,) in con.execute("SELECT %s FROM %s" % (col, table)):
                try:
                    v = convert(raw)
                except ConversionError as e:
                    errors += 1
                    if errors <= 3:
                        print("  %s (%s): %s" % (name, col, e))
                    continue
                if v is None:
                    nulls += 1
                elif len(samples) < 3:
                    samples.setdefault(str(v), None)
                if isinstance(raw, str):
                    if width and len(raw) > int(width.group(1)):
                        errors += 1
                        print("  %s (%s): longer than %s: %r" % (name, col, columns[col], raw))
                    try:
                        raw.encode("iso-8859-1")
                    except UnicodeEncodeError:
                        errors += 1
                        print("  %s (%s): not ISO-8859-1: %r" % (name, col, raw))
            problems += errors
            print("  %-22s %-12s %-9s nulls %6d  errors %d  e.g. %s"
                  % (name, col, spec["type"], nulls, errors, " | ".join(samples)))
    print("OK: every mapped value converts" if problems == 0 else "%d problem(s)" % problems)
    return 0 if problems == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""A Fachadapter client in Python with stock gRPC tooling (Debian: python3-grpcio with protoc and
grpc_python_plugin), talking to fachadapterd serving the example Gewerberegister.

It compiles the Python stubs from the repository's proto/ into a temporary folder at run time,
then calls ListEntities, DescribeEntity, a Query with a structured filter (twice, the second
page through the page token), and a Get of a key that does not exist, to show how errors arrive.

    /usr/bin/python3 examples/gewerberegister/client.py [--target 127.0.0.1:50051]
        [--ort Berlin] [--seit 2015-01-01] [--limit 5] [--pages 2]

Exit status: 0 success, 1 a call failed, 2 the daemon cannot be reached or stubs cannot be built.
"""

import argparse
import datetime
import importlib
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_ROOT = os.path.normpath(os.path.join(HERE, "..", "..", "proto"))
PROTO_FILES = ["fachadapter/v1/value.proto", "fachadapter/v1/error.proto",
               "fachadapter/v1/adapter.proto"]



def die(message):
    print("client.py: " + message, file=sys.stderr)
    sys.exit(2)


try:
    import grpc
except ImportError as e:
    die("needs grpcio (Debian: apt-get install python3-grpcio python3-protobuf) "
             "and the system Python, /usr/bin/python3: %s" % e)


def protoc_command():
    """The protoc to run, as (argv prefix, include folders for google/protobuf/*.proto).

    Preferred: Debian's protoc with grpc_python_plugin (packages protobuf-compiler and
    protobuf-compiler-grpc, which the C++ build needs anyway). Debian 12's python3-grpc-tools
    bundles protoc 3.5, too old for proto3 `optional` (Timestamp.utc_offset_minutes), so
    grpc_tools.protoc is only the fallback, for a pip-installed grpcio-tools elsewhere.
    """
    system_protoc = shutil.which("protoc")
    plugin = shutil.which("grpc_python_plugin")
    if system_protoc and plugin:
        return ([system_protoc, "--plugin=protoc-gen-grpc_python=" + plugin], ["/usr/include"]), None
    try:
        from grpc_tools import protoc
    except ImportError:
        return None, ("neither protoc with grpc_python_plugin (Debian: protobuf-compiler, "
                      "protobuf-compiler-grpc) nor grpcio-tools found")
    # protobuf's well-known types ship with grpc_tools.
    return (["grpc_tools.protoc"], [os.path.join(os.path.dirname(protoc.__file__), "_proto")]), \
        protoc


def build_stubs(out_dir):
    """Compiles the public API's .proto files into Python modules under out_dir."""
    found, runner = protoc_command()
    if found is None:
        die(runner)
    argv, includes = found
    wkt = [d for d in includes if os.path.exists(os.path.join(d, "google/protobuf/any.proto"))]
    if not wkt:
        die("google/protobuf/any.proto not found in %s" % " or ".join(includes))
    args = argv + ["-I" + PROTO_ROOT, "-I" + wkt[0], "--python_out=" + out_dir,
                   "--grpc_python_out=" + out_dir] + PROTO_FILES
    if runner is None:
        rc = subprocess.run(args).returncode
    else:
        rc = runner.main(args)
    if rc != 0:
        die("%s failed on the protos in %s" % (args[0], PROTO_ROOT))
    # Regular packages, so that no other 'fachadapter' on sys.path (e.g. the Python binding)
    # shadows the generated modules.
    for pkg in ("fachadapter", "fachadapter/v1"):
        open(os.path.join(out_dir, pkg, "__init__.py"), "a").close()
    sys.path.insert(0, out_dir)
    return (importlib.import_module("fachadapter.v1.adapter_pb2"),
            importlib.import_module("fachadapter.v1.adapter_pb2_grpc"),
            importlib.import_module("fachadapter.v1.value_pb2"),
            importlib.import_module("fachadapter.v1.error_pb2"))


class Client:
    def __init__(self, target, stubs, timeout):
        self.api, api_grpc, self.val, self.err = stubs
        self.timeout = timeout
        self.channel = grpc.insecure_channel(target)
        self.stub = api_grpc.AdapterStub(self.channel)

    # -- building values and filters ----------------------------------------------------------
    def string(self, s):
        return self.val.Value(string_value=s)

    def date(self, d):
        return self.val.Value(date_value=self.val.Date(year=d.year, month=d.month, day=d.day))

    def field(self, name, op, value=None, values=None):
        f = self.val.FieldFilter(field=name, op=op)
        if value is not None:
            f.value.CopyFrom(value)
        if values:
            f.values.extend(values)
        return self.val.Filter(field=f)

    def all_of(self, *filters):
        return self.val.Filter(**{"and": self.val.FilterList(filters=list(filters))})

    # -- reading values -----------------------------------------------------------------------
    def show(self, v):
        kind = v.WhichOneof("kind")
        if kind is None or kind == "null_value":
            return ""
        if kind == "decimal_value":
            return v.decimal_value.value
        if kind == "date_value":
            d = v.date_value
            return "%04d-%02d-%02d" % (d.year, d.month, d.day)
        if kind == "time_value":
            t = v.time_value
            return "%02d:%02d:%02d" % (t.hours, t.minutes, t.seconds)
        if kind == "timestamp_value":
            # `seconds` is the instant; with an offset, show the local time it was recorded in.
            ts = v.timestamp_value
            offset = ts.utc_offset_minutes if ts.HasField("utc_offset_minutes") else None
            local = datetime.datetime(1970, 1, 1) + datetime.timedelta(
                seconds=ts.seconds + 60 * (offset or 0))
            text = local.strftime("%Y-%m-%dT%H:%M:%S")
            if offset is not None:
                text += "%s%02d:%02d" % ("-" if offset < 0 else "+", abs(offset) // 60, abs(offset) % 60)
            return text
        if kind == "bytes_value":
            return v.bytes_value.hex()
        if kind == "bool_value":
            return "true" if v.bool_value else "false"
        return str(getattr(v, kind))

    def explain(self, e):
        """A failed call in plain words: code, message, and the machine-readable reason."""
        trailers = dict(e.trailing_metadata() or ())
        reason, field = trailers.get("fachadapter-reason", ""), trailers.get("fachadapter-field", "")
        details = trailers.get("grpc-status-details-bin")
        if details:  # google.rpc.Status with an ErrorInfo, the rich form of the same facts
            status = self.err.RpcStatus.FromString(details)
            for any_ in status.details:
                if any_.type_url.endswith("google.rpc.ErrorInfo"):
                    info = self.err.ErrorInfo.FromString(any_.value)
                    reason = info.reason or reason
                    field = info.metadata.get("field", field)
        text = "%s: %s" % (e.code().name, e.details())
        if reason:
            text += "  [reason %s%s]" % (reason, ", field " + field if field else "")
        return text


def table(header, rows):
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)] if rows else \
        [len(h) for h in header]
    line = "  ".join("%%-%ds" % w for w in widths)
    print((line % tuple(header)).rstrip())
    print(line % tuple("-" * w for w in widths))
    for r in rows:
        print((line % tuple(r)).rstrip())


def main():
    ap = argparse.ArgumentParser(description="Query the example Gewerberegister through "
                                             "fachadapterd with Python's stock gRPC tooling.")
    ap.add_argument("--target", default="127.0.0.1:50051", help="daemon address (host:port)")
    ap.add_argument("--ort", default="Berlin", help="filter: Ort of the Betriebsstätte")
    ap.add_argument("--seit", default="2015-01-01", type=datetime.date.fromisoformat,
                    help="filter: Beginn on or after this date (YYYY-MM-DD)")
    ap.add_argument("--limit", type=int, default=5, help="records per page")
    ap.add_argument("--pages", type=int, default=2, help="pages to fetch with the page token")
    ap.add_argument("--timeout", type=float, default=10.0, help="deadline per call, seconds")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="fachadapter-stubs-") as tmp:
        c = Client(args.target, build_stubs(tmp), args.timeout)
        try:
            grpc.channel_ready_future(c.channel).result(timeout=5)
        except grpc.FutureTimeoutError:
            print("client.py: no answer from %s. Is fachadapterd running? Start it with\n"
                  "  build/bin/fachadapterd --config examples/gewerberegister/fachadapter.yaml"
                  % args.target, file=sys.stderr)
            return 2
        api, val = c.api, c.val
        try:
            print("== ListEntities")
            resp = c.stub.ListEntities(api.ListEntitiesRequest(), timeout=c.timeout)
            ops = ("get", "query", "create", "update", "delete")
            table(["entity", "source", "operations", "description"],
                  [(e.name, e.source, " ".join(o for o in ops if getattr(e.capabilities, o)),
                    e.description) for e in resp.entities])

            print("\n== DescribeEntity Gewerbebetrieb")
            schema = c.stub.DescribeEntity(api.DescribeEntityRequest(entity="Gewerbebetrieb"),
                                           timeout=c.timeout)
            flags = [("key", "key"), ("nullable", "null"), ("personal_data", "personal"),
                     ("read_only", "read-only"), ("filterable", "filter"), ("sortable", "sort")]
            table(["field", "type", "flags", "values / description"],
                  [(f.name, val.FieldType.Name(f.type).replace("FIELD_TYPE_", "").lower(),
                    ",".join(short for attr, short in flags if getattr(f, attr)),
                    ("{" + ", ".join(f.allowed_values) + "}") if f.allowed_values
                    else f.description) for f in schema.fields])

            # ort = <ort> AND rechtsform IN ('GmbH', 'UG (haftungsbeschränkt)')
            #   AND beginn >= <seit>, newest first: a structured filter, never SQL text.
            query = api.QueryRequest(
                entity="Gewerbebetrieb",
                filter=c.all_of(
                    c.field("ort", val.OPERATOR_EQ, c.string(args.ort)),
                    c.field("rechtsform", val.OPERATOR_IN,
                            values=[c.string("GmbH"), c.string("UG (haftungsbeschränkt)")]),
                    c.field("beginn", val.OPERATOR_GE, c.date(args.seit))),
                fields=["betriebsnummer", "name", "rechtsform", "plz", "ort", "beginn",
                        "stammkapital", "kapitalWaehrung"],
                order_by=[val.OrderBy(field="beginn", descending=True)],
                limit=args.limit)
            for page in range(1, args.pages + 1):
                print("\n== Query Gewerbebetrieb: ort = '%s' and rechtsform in (GmbH, UG) and "
                      "beginn >= %s, newest first, page %d of at most %d records"
                      % (args.ort, args.seit, page, args.limit))
                fields, rows, messages, next_token = [], [], 0, ""
                for msg in c.stub.Query(query, timeout=c.timeout):
                    messages += 1
                    fields = fields or list(msg.fields)
                    rows.extend([c.show(v) for v in r.values] for r in msg.batch.records)
                    next_token = msg.next_page_token or next_token
                table(fields or list(query.fields), rows)
                print("(%d records in %d message%s%s)" % (len(rows), messages, "" if messages == 1 else "s",
                      "; more with page_token" if next_token else ""))
                if not next_token:
                    break
                query.page_token = next_token

            print("\n== Get Gewerbebetrieb 1 (there is no such Betriebsnummer)")
            try:
                c.stub.Get(api.GetRequest(entity="Gewerbebetrieb",
                                          key=api.Key(values=[val.Value(int_value=1)])),
                           timeout=c.timeout)
                print("unexpected: found")
            except grpc.RpcError as e:
                print(c.explain(e))
        except grpc.RpcError as e:
            print("client.py: call failed: " + c.explain(e), file=sys.stderr)
            return 1
        finally:
            c.channel.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

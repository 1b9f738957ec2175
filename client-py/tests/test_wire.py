"""The wire against ``protocol/vectors/``: each frame decodes to its JSON value and re-encodes to
the same bytes (protocol/README.md, "Test vectors"); and the generated ``wire_types.py`` and
``wireTypes.ts`` are what ``protocol/generate.py`` makes of ``protocol/schema.json``."""

import json
import pathlib
import shutil
import struct
import subprocess
import sys

import pytest

from headroom import wire

ROOT = pathlib.Path(__file__).resolve().parents[2]
VECTORS = ROOT / "protocol" / "vectors"
GENERATE = ROOT / "protocol" / "generate.py"
NAMES = sorted(p.stem for p in VECTORS.glob("*.bin"))


def test_all_vectors_are_present():
    # 26 vectors at protocol version 2; a missing directory must fail, not skip.
    assert len(NAMES) >= 26, f"expected the protocol vectors in {VECTORS}"
    for name in ("request_memory_add", "request_memory_search", "request_memory_list", "request_memory_forget",
                 "reply_memory_added", "reply_memory_facts", "reply_memory_forgotten"):
        assert name in NAMES


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def to_serde(value):
    """The serde JSON form of a wire value, as the vector files hold it."""
    if isinstance(value, wire.ErrorCode):
        return value.name
    if isinstance(value, wire.ProviderFormat):
        return value.name
    if isinstance(value, (bytes, bytearray)):
        return list(value)
    if isinstance(value, list):
        return [to_serde(v) for v in value]
    if isinstance(value, (wire.Request, wire.Reply)):
        inner = value.op if isinstance(value, wire.Request) else value.body
        return {"id": value.id, ("op" if isinstance(value, wire.Request) else "body"): variant(inner)}
    if hasattr(value, "__slots__"):
        return {name: to_serde(getattr(value, name)) for name in value.__slots__}
    return value


VARIANTS = {
    wire.Hello: "Hello", wire.Ping: "Ping", wire.CompressRequest: "Compress",
    wire.RetrieveRequest: "Retrieve", wire.Stats: "Stats", wire.Metrics: "Metrics",
    wire.HelloReply: "Hello", wire.Pong: "Pong", wire.CompressReply: "Compressed",
    wire.RetrieveReply: "Retrieved", wire.StatsReply: "Stats", wire.ErrorReply: "Error",
    wire.MetricsReply: "Metrics", wire.MemoryAddRequest: "MemoryAdd", wire.MemorySearchRequest: "MemorySearch",
    wire.MemoryListRequest: "MemoryList", wire.MemoryForgetRequest: "MemoryForget",
    wire.MemoryAddReply: "MemoryAdded", wire.MemoryFactsReply: "MemoryFacts", wire.MemoryForgetReply: "MemoryForgotten",
    wire.Info: "Info", wire.InfoReply: "Info", wire.SavingsRequest: "Savings", wire.SavingsReply: "Savings",
}


def variant(value):
    name = VARIANTS[type(value)]
    if not value.__slots__:
        return name
    return {name: to_serde(value)}


F32_FIELDS = ("target_ratio", "score")


def normalise(json_value):
    """The vector JSON with its ``f32`` fields rounded to single precision, as on the wire."""
    if isinstance(json_value, dict):
        return {k: (f32(v) if k in F32_FIELDS and v is not None else normalise(v)) for k, v in json_value.items()}
    if isinstance(json_value, list):
        return [normalise(v) for v in json_value]
    return json_value


@pytest.mark.parametrize("name", NAMES)
def test_vector_round_trips_byte_for_byte(name):
    data = (VECTORS / f"{name}.bin").read_bytes()
    expected = json.loads((VECTORS / f"{name}.json").read_text())
    length = wire.frame_length(data[:4])
    assert length == len(data) - 4, "exactly one frame and nothing after it"
    body = data[4:]
    decode, encode = (
        (wire.decode_request, wire.encode_request) if expected["kind"] == "request"
        else (wire.decode_reply, wire.encode_reply)
    )
    value = decode(body)
    assert to_serde(value) == normalise(expected["value"])
    assert wire.frame(encode(value)) == data


@pytest.mark.parametrize("n,encoded", [
    (3, "03"), (250, "fa"), (251, "fbfb00"), (300, "fb2c01"), (70_000, "fc70110100"),
    (5_000_000_000, "fd00f2052a01000000"), (2**64 - 1, "fdffffffffffffffff"),
])
def test_varints_from_the_readme(n, encoded):
    body = wire.encode_request(wire.Request(n, wire.Ping()))
    assert body == bytes.fromhex(encoded) + b"\x01"
    assert wire.decode_request(body).id == n


@pytest.mark.parametrize("body,why", [
    (b"\x01", "truncated"),
    (b"\x01\x01\x00", "left over"),
    (b"\x01\x0c", "unknown ReplyBody"),
    (b"\x01\x09", "truncated"),
    (b"\x01\x08\x01\x00", "truncated"),
    (b"\x01\x05\x08\x00", "unknown ErrorCode"),
    (b"\x01\x03\x00\x00\x02", "invalid bool"),
    (b"\x01\x00\xfd\x01\x00\x00\x00\x00\x00\x00\x00\x00", "not valid for a u32"),
    (b"\x01\x03\x00\x02\xc3\x28\x00", "invalid UTF-8"),
    (b"\xfe\x01", "not valid"),
])
def test_malformed_replies_are_refused(body, why):
    with pytest.raises(wire.WireError, match=why):
        wire.decode_reply(body)


def test_default_options_are_nine_zero_bytes():
    body = wire.encode_request(wire.Request(1, wire.CompressRequest(b"[]")))
    assert body == b"\x01\x02\x02[]" + bytes(9)


def test_memory_fact_times_are_utc_datetimes():
    fact = wire.MemoryFact("0" * 16, wire.MemoryScope("ada"), "t", None, None, 1_700_000_000_000, 1_700_000_000_500,
                           None, None, 0.0)
    assert fact.created.isoformat() == "2023-11-14T22:13:20+00:00"
    assert fact.valid_from.timestamp() == 1_700_000_000.5 and fact.valid_to is None


# --- The generated code -----------------------------------------------------------------------


def generate(root, *args):
    return subprocess.run([sys.executable, str(root / "protocol" / "generate.py"), *args], capture_output=True,
                          text=True, check=False)


def test_generated_wire_code_is_current():
    # wire_types.py and client-ts/src/wireTypes.ts must be what protocol/generate.py makes of
    # protocol/schema.json; after changing the Rust types, regenerate both (protocol/README.md).
    result = generate(ROOT, "--check")
    assert result.returncode == 0, result.stderr


def test_the_check_names_a_stale_file(tmp_path):
    shutil.copytree(ROOT / "protocol", tmp_path / "protocol", ignore=shutil.ignore_patterns("vectors", "src", "tests"))
    (tmp_path / "client-py" / "headroom").mkdir(parents=True)
    (tmp_path / "client-ts" / "src").mkdir(parents=True)
    assert generate(tmp_path, "--check").returncode == 1  # nothing generated yet
    assert generate(tmp_path).returncode == 0
    assert generate(tmp_path, "--check").returncode == 0
    for out in ("client-py/headroom/wire_types.py", "client-ts/src/wireTypes.ts"):
        assert (tmp_path / out).read_text() == (ROOT / out).read_text()  # the same output every run
    ts = tmp_path / "client-ts" / "src" / "wireTypes.ts"
    ts.write_text(ts.read_text().replace("protect_recent", "protect_latest"))
    result = generate(tmp_path, "--check")
    assert result.returncode == 1 and "client-ts/src/wireTypes.ts is stale" in result.stderr
    assert "wire_types.py" not in result.stderr

"""Oracle for the TensorBoard writer: event files made by PyPI's protobuf and crc32c.

Writes OUT_DIR/tensorboard/spec.json (what to write: scalars, histograms, PNG images, text) and
expected.tfevents (the same events serialized by the protobuf library, framed as TFRecords with
CRC32C from the crc32c package). The schema below is typed from tensorboard/compat/proto
(event.proto, summary.proto, histogram.proto, tensor.proto, tensor_shape.proto); `decode_events`
reads any event file back and is reused by the CLI tests.
"""
import base64
import io
import json
import os
import struct
import sys

import crc32c
import numpy as np
from google.protobuf import descriptor_pb2, message_factory
from PIL import Image

F = descriptor_pb2.FieldDescriptorProto
WALL_TIME = 1700000000.25
HOST = "oracle"


def _schema():
    fdp = descriptor_pb2.FileDescriptorProto(name="cnnscope_tensorboard.proto", package="tb",
                                             syntax="proto3")

    def message(name, fields, oneof=None):
        m = fdp.message_type.add(name=name)
        if oneof:
            m.oneof_decl.add(name=oneof[0])
        for fname, number, ftype, type_name, repeated in fields:
            f = m.field.add(name=fname, number=number, type=ftype,
                            label=F.LABEL_REPEATED if repeated else F.LABEL_OPTIONAL)
            if type_name:
                f.type_name = ".tb." + type_name
            if oneof and fname in oneof[1]:
                f.oneof_index = 0
        return m

    message("HistogramProto", [("min", 1, F.TYPE_DOUBLE, None, False),
                               ("max", 2, F.TYPE_DOUBLE, None, False),
                               ("num", 3, F.TYPE_DOUBLE, None, False),
                               ("sum", 4, F.TYPE_DOUBLE, None, False),
                               ("sum_squares", 5, F.TYPE_DOUBLE, None, False),
                               ("bucket_limit", 6, F.TYPE_DOUBLE, None, True),
                               ("bucket", 7, F.TYPE_DOUBLE, None, True)])
    message("Image", [("height", 1, F.TYPE_INT32, None, False),
                      ("width", 2, F.TYPE_INT32, None, False),
                      ("colorspace", 3, F.TYPE_INT32, None, False),
                      ("encoded_image_string", 4, F.TYPE_BYTES, None, False)])
    message("Dim", [("size", 1, F.TYPE_INT64, None, False), ("name", 2, F.TYPE_STRING, None, False)])
    message("TensorShapeProto", [("dim", 2, F.TYPE_MESSAGE, "Dim", True)])
    message("TensorProto", [("dtype", 1, F.TYPE_INT32, None, False),
                            ("tensor_shape", 2, F.TYPE_MESSAGE, "TensorShapeProto", False),
                            ("string_val", 8, F.TYPE_BYTES, None, True)])
    message("PluginData", [("plugin_name", 1, F.TYPE_STRING, None, False),
                           ("content", 2, F.TYPE_BYTES, None, False)])
    message("SummaryMetadata", [("plugin_data", 1, F.TYPE_MESSAGE, "PluginData", False)])
    message("Value", [("tag", 1, F.TYPE_STRING, None, False),
                      ("simple_value", 2, F.TYPE_FLOAT, None, False),
                      ("image", 4, F.TYPE_MESSAGE, "Image", False),
                      ("histo", 5, F.TYPE_MESSAGE, "HistogramProto", False),
                      ("tensor", 8, F.TYPE_MESSAGE, "TensorProto", False),
                      ("metadata", 9, F.TYPE_MESSAGE, "SummaryMetadata", False)],
            oneof=("value", {"simple_value", "image", "histo", "tensor"}))
    message("Summary", [("value", 1, F.TYPE_MESSAGE, "Value", True)])
    message("Event", [("wall_time", 1, F.TYPE_DOUBLE, None, False),
                      ("step", 2, F.TYPE_INT64, None, False),
                      ("file_version", 3, F.TYPE_STRING, None, False),
                      ("summary", 5, F.TYPE_MESSAGE, "Summary", False)])
    return message_factory.GetMessages([fdp])


MESSAGES = _schema()
Event = MESSAGES["tb.Event"]


def masked_crc(data):
    crc = crc32c.crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def frame(data):
    length = struct.pack("<Q", len(data))
    return length + struct.pack("<I", masked_crc(length)) + data + struct.pack("<I", masked_crc(data))


def decode_events(raw):
    """Splits a TFRecord file, checks both CRCs of every record, returns the parsed Events."""
    events, pos = [], 0
    while pos < len(raw):
        if pos + 12 > len(raw):
            raise ValueError(f"truncated record header at byte {pos}")
        length_bytes = raw[pos:pos + 8]
        (length,) = struct.unpack("<Q", length_bytes)
        (length_crc,) = struct.unpack("<I", raw[pos + 8:pos + 12])
        if length_crc != masked_crc(length_bytes):
            raise ValueError(f"bad length CRC at byte {pos}")
        data = raw[pos + 12:pos + 12 + length]
        (data_crc,) = struct.unpack("<I", raw[pos + 12 + length:pos + 16 + length])
        if len(data) != length or data_crc != masked_crc(data):
            raise ValueError(f"bad data CRC at byte {pos}")
        event = Event()
        event.ParseFromString(data)
        events.append(event)
        pos += 16 + length
    return events


def _png(array):
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


def main(out_dir):
    rng = np.random.default_rng(7)
    out = os.path.join(out_dir, "tensorboard")
    os.makedirs(out, exist_ok=True)
    spec = {"wall_time": WALL_TIME, "host": HOST, "entries": []}
    expected = [Event(wall_time=WALL_TIME, file_version="brain.Event:2")]

    def add(entry, value, step):
        spec["entries"].append(dict(entry, step=step))
        ev = Event(wall_time=WALL_TIME, step=step)
        ev.summary.value.append(value)
        expected.append(ev)

    Value = MESSAGES["tb.Value"]
    for step, x in [(0, 0.0), (1, -2.5), (300, 1e-7)]:
        add({"kind": "scalar", "tag": "loss/x", "value": x}, Value(tag="loss/x", simple_value=x),
            step)
    # Values on a 1/256 grid: float64 sums are exact, so any summation order gives these bytes.
    for tag, bins, n in [("conv1.weight", 50, 1000), ("fc.bias", 7, 5)]:
        values = (rng.integers(-2000, 2000, n) / 256.0).astype(np.float32)
        counts, edges = np.histogram(values, bins)
        v64 = values.astype(np.float64)
        histo = MESSAGES["tb.HistogramProto"](
            min=v64.min(), max=v64.max(), num=float(n), sum=v64.sum(), sum_squares=(v64 * v64).sum(),
            bucket_limit=[float(e) for e in edges[1:]], bucket=[float(c) for c in counts])
        add({"kind": "histogram", "tag": tag, "values": [float(v) for v in values],
             "edges": [float(e) for e in edges], "counts": [float(c) for c in counts]},
            Value(tag=tag, histo=histo), 2)
    for tag, array, colorspace in [
            ("features/conv1", rng.integers(0, 256, (5, 7, 3), dtype=np.uint8), 3),
            ("features/grey", rng.integers(0, 256, (4, 3), dtype=np.uint8), 1)]:
        png = _png(array)
        img = MESSAGES["tb.Image"](height=array.shape[0], width=array.shape[1], colorspace=colorspace,
                                   encoded_image_string=png)
        add({"kind": "image", "tag": tag, "png_base64": base64.b64encode(png).decode()},
            Value(tag=tag, image=img), 3)
    text = "| key | mean |\n|---|---|\n| conv1.weight | 0.01 |  (ünïcode ✓)"
    tensor = MESSAGES["tb.TensorProto"](dtype=7, string_val=[text.encode()])
    tensor.tensor_shape.dim.add(size=1)
    meta = MESSAGES["tb.SummaryMetadata"]()
    meta.plugin_data.plugin_name = "text"
    add({"kind": "text", "tag": "stats", "text": text},
        Value(tag="stats", tensor=tensor, metadata=meta), 0)

    raw = b"".join(frame(e.SerializeToString()) for e in expected)
    assert len(decode_events(raw)) == len(expected)
    for name, data in [("expected.tfevents", raw), ("spec.json", json.dumps(spec).encode())]:
        tmp = os.path.join(out, name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, os.path.join(out, name))


if __name__ == "__main__":
    main(sys.argv[1])

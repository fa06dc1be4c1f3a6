#!/usr/bin/env python3
"""Interop driver: sends and receives messages through Ferric with PyPI `rocketmq` 0.4.4
(Apache's C++ client, rocketmq-client-cpp, wrapped with ctypes).

    interop.py produce --namesrv ADDR --topic T --group G --mode sync|oneway|ordered --input FILE
    interop.py consume --namesrv ADDR --topic T --group G --expect N --timeout-secs S
                       --property-keys k1,k2

`--input` holds one JSON object per line: {"tags", "keys": [..], "properties": {..},
"body_hex"}. The producer prints one JSON line per send. The consumer prints one JSON line per
received message: {"topic", "tags", "keys", "properties", "body_hex", "msg_id"}, and exits 0
once it has `--expect` distinct messages, or 3 at the timeout.

Client limits this driver works around: the C API returns received bodies as C strings, so a
body with a NUL byte would arrive cut short (callers send NUL-free bodies); it offers no way to
list a received message's properties, so the consumer reads the keys named by
`--property-keys`; its batch send is broken and not used.
"""
import argparse
import json
import sys
import threading
import time

from rocketmq.client import Message, Producer, PushConsumer
from rocketmq.ffi import dll
from rocketmq.exceptions import ffi_check


def read_specs(path):
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def build_message(topic, spec):
    message = Message(topic)
    message.set_tags(spec["tags"])
    message.set_keys(" ".join(spec["keys"]))
    for key, value in spec["properties"].items():
        message.set_property(key, value)
    body = bytes.fromhex(spec["body_hex"])
    # SetByteMessageBody keeps the length (SetMessageBody would stop at the first NUL).
    ffi_check(dll.SetByteMessageBody(message._handle, body, len(body)))
    return message


def emit(record):
    sys.stdout.write(json.dumps(record, sort_keys=True) + "\n")
    sys.stdout.flush()


def produce(args):
    specs = read_specs(args.input)
    producer = Producer(args.group, timeout=10000)
    producer.set_namesrv_addr(args.namesrv)
    producer.start()
    try:
        for index, spec in enumerate(specs):
            message = build_message(args.topic, spec)
            if args.mode == "sync":
                result = producer.send_sync(message)
                emit({"sent": index, "msg_id": result.msg_id, "status": int(result.status)})
            elif args.mode == "oneway":
                producer.send_oneway(message)
                emit({"sent": index})
            elif args.mode == "ordered":
                order = int(spec["properties"].get("order", "0"))
                result = producer.send_orderly(message, order)
                emit({"sent": index, "msg_id": result.msg_id, "status": int(result.status)})
            else:
                raise SystemExit("unknown mode %r" % args.mode)
        if args.mode == "oneway":
            time.sleep(0.5)
    finally:
        producer.shutdown()


def decode(value):
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def consume(args):
    keys = [key for key in args.property_keys.split(",") if key]
    seen = set()
    lock = threading.Lock()

    def on_message(message):
        msg_id = decode(message.id)
        with lock:
            if msg_id in seen:
                return None
            seen.add(msg_id)
        properties = {}
        for key in keys:
            value = decode(message.get_property(key))
            if value:
                properties[key] = value
        body = message.body or b""
        emit({
            "topic": decode(message.topic),
            "tags": decode(message.tags),
            "keys": decode(message.keys),
            "properties": properties,
            "body_hex": body.hex(),
            "msg_id": msg_id,
            "queue_id": message.queue_id,
            "queue_offset": message.queue_offset,
        })
        return None

    consumer = PushConsumer(args.group, orderly=args.orderly)
    consumer.set_namesrv_addr(args.namesrv)
    consumer.subscribe(args.topic, on_message)
    consumer.start()
    deadline = time.monotonic() + args.timeout_secs
    try:
        while time.monotonic() < deadline:
            with lock:
                if len(seen) >= args.expect:
                    break
            time.sleep(0.1)
    finally:
        consumer.shutdown()
    with lock:
        received = len(seen)
    if received < args.expect:
        sys.stderr.write("received %d of %d messages before the timeout\n" % (received, args.expect))
        sys.exit(3)


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    prod = sub.add_parser("produce")
    prod.add_argument("--namesrv", required=True)
    prod.add_argument("--topic", required=True)
    prod.add_argument("--group", required=True)
    prod.add_argument("--mode", required=True, choices=["sync", "oneway", "ordered"])
    prod.add_argument("--input", required=True)
    cons = sub.add_parser("consume")
    cons.add_argument("--namesrv", required=True)
    cons.add_argument("--topic", required=True)
    cons.add_argument("--group", required=True)
    cons.add_argument("--expect", type=int, required=True)
    cons.add_argument("--timeout-secs", type=float, required=True)
    cons.add_argument("--property-keys", default="")
    cons.add_argument("--orderly", action="store_true")
    args = parser.parse_args()
    if args.command == "produce":
        produce(args)
    else:
        consume(args)


if __name__ == "__main__":
    main()

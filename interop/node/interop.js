#!/usr/bin/env node
// Interop driver: sends and receives messages through Ferric with the npm client `ali-ons`
// (a pure JavaScript RocketMQ remoting client).
//
//   node interop.js produce --namesrv ADDR --topic T --group G --mode sync --input FILE
//   node interop.js consume --namesrv ADDR --topic T --group G --expect N --timeout-secs S
//
// `--input` holds one JSON object per line: {"tags", "keys": [..], "properties": {..},
// "body_hex"}. The producer prints one JSON line per acknowledged send. The consumer prints one
// JSON line per received message: {"topic", "tags", "keys", "properties", "body_hex",
// "msg_id"} and exits 0 once it has `--expect` distinct messages, or 3 at the timeout.
// ali-ons only sends synchronously, and it needs the topic to exist before it sends.
'use strict';

const fs = require('fs');
const { Producer, Consumer, Message } = require('ali-ons');

// ali-ons asserts an HTTP client is given; it is only used to look up Aliyun's NameServer
// list, which never happens when `nameSrv` is set.
const unusedHttpClient = {};

function parseArgs(argv) {
  const [command, ...rest] = argv;
  const options = {};
  for (let i = 0; i < rest.length; i += 2) {
    if (!rest[i].startsWith('--') || i + 1 >= rest.length) {
      throw new Error(`bad argument ${rest[i]}`);
    }
    options[rest[i].slice(2)] = rest[i + 1];
  }
  return { command, options };
}

function required(options, name) {
  if (!(name in options)) throw new Error(`missing --${name}`);
  return options[name];
}

function emit(record) {
  process.stdout.write(JSON.stringify(record) + '\n');
}

async function produce(options) {
  const specs = fs.readFileSync(required(options, 'input'), 'utf8')
    .split('\n').filter(line => line.trim()).map(line => JSON.parse(line));
  const mode = required(options, 'mode');
  if (mode !== 'sync') throw new Error(`unsupported mode ${mode}`);
  const producer = new Producer({
    httpclient: unusedHttpClient,
    nameSrv: required(options, 'namesrv'),
    producerGroup: required(options, 'group'),
    instanceName: `interop-producer-${process.pid}`,
  });
  await producer.ready();
  try {
    for (let index = 0; index < specs.length; index++) {
      const spec = specs[index];
      const msg = new Message(required(options, 'topic'), spec.tags, Buffer.from(spec.body_hex, 'hex'));
      msg.keys = spec.keys;
      for (const [key, value] of Object.entries(spec.properties)) {
        msg.properties[key] = value;
      }
      const result = await producer.send(msg);
      if (result.sendStatus !== 'SEND_OK') {
        throw new Error(`send ${index}: ${JSON.stringify(result)}`);
      }
      emit({ sent: index, msg_id: result.msgId, status: result.sendStatus });
    }
  } finally {
    await producer.close();
  }
}

async function consume(options) {
  const expect = Number(required(options, 'expect'));
  const timeoutMs = Number(required(options, 'timeout-secs')) * 1000;
  const consumer = new Consumer({
    httpclient: unusedHttpClient,
    nameSrv: required(options, 'namesrv'),
    consumerGroup: required(options, 'group'),
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    instanceName: `interop-consumer-${process.pid}`,
  });
  const seen = new Set();
  let finish;
  const done = new Promise(resolve => { finish = resolve; });
  consumer.subscribe(required(options, 'topic'), '*', async msg => {
    if (seen.has(msg.msgId)) return;
    seen.add(msg.msgId);
    emit({
      topic: msg.topic,
      tags: msg.tags || null,
      keys: msg.keys || null,
      properties: msg.properties,
      body_hex: Buffer.from(msg.body).toString('hex'),
      msg_id: msg.msgId,
      queue_id: msg.queueId,
      queue_offset: Number(msg.queueOffset),
    });
    if (seen.size >= expect) finish(true);
  });
  consumer.on('error', err => process.stderr.write(`consumer error: ${err && err.stack}\n`));
  await consumer.ready();
  const timer = setTimeout(() => finish(false), timeoutMs);
  const complete = await done;
  clearTimeout(timer);
  await consumer.close();
  if (!complete) {
    process.stderr.write(`received ${seen.size} of ${expect} messages before the timeout\n`);
    process.exit(3);
  }
}

async function main() {
  const { command, options } = parseArgs(process.argv.slice(2));
  if (command === 'produce') return produce(options);
  if (command === 'consume') return consume(options);
  throw new Error(`usage: interop.js produce|consume --namesrv ADDR ...`);
}

main().then(() => process.exit(0), err => {
  process.stderr.write(`${err && err.stack || err}\n`);
  process.exit(1);
});

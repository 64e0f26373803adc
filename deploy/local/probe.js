#!/usr/bin/env node
// Readiness probe for deploy/local/services: one real request to a service through the client library
// the project uses. Exits 0 when the service answered. Usage: probe.js <redis|redis-cluster|kafka|kafka-cluster|clickhouse|ferretdb|stripe> <url>
'use strict';
const [name, url] = process.argv.slice(2);
const timeout = setTimeout(() => { console.error(`${name}: probe timed out`); process.exit(2); }, 8000);

async function redis() {
  const Redis = require('ioredis');
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  await r.connect();
  const pong = await r.ping();
  r.disconnect();
  if (pong !== 'PONG') throw new Error(`unexpected ${pong}`);
}

// Every master answers and the cluster says its slots are all served.
async function redisCluster() {
  const Redis = require('ioredis');
  const seeds = url.replace(/^redis-cluster:\/\//, '').split(',').map((hp) => ({ host: hp.split(':')[0], port: Number(hp.split(':')[1]) }));
  const c = new Redis.Cluster(seeds, { lazyConnect: true, clusterRetryStrategy: () => null, redisOptions: { maxRetriesPerRequest: 0 } });
  try {
    await c.connect();
    const info = await c.cluster('INFO');
    if (!/cluster_state:ok/.test(info)) throw new Error('cluster_state is not ok yet');
    if (c.nodes('master').length !== seeds.length) throw new Error(`${c.nodes('master').length} masters, expected ${seeds.length}`);
    await c.set('probe:{a}', '1');
    await c.set('probe:{b}', '1');
  } finally {
    c.disconnect();
  }
}

async function kafka() {
  const { Kafka, logLevel } = require('kafkajs');
  const admin = new Kafka({ clientId: 'probe', brokers: [url], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
  await admin.connect();
  const cluster = await admin.describeCluster();
  await admin.disconnect();
  if (!cluster.controller && cluster.controller !== 0) throw new Error('no controller yet');
}

// All three brokers are in the cluster and a topic replicated three times can be created and written.
async function kafkaCluster() {
  const { Kafka, logLevel } = require('kafkajs');
  const kafka = new Kafka({ clientId: 'probe', brokers: url.split(','), logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length !== 3) throw new Error(`${cluster.brokers.length} brokers, expected 3`);
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: 'probe-replicated', numPartitions: 1, replicationFactor: 3 }] });
  } finally {
    await admin.disconnect();
  }
}

async function clickhouse() {
  const { createClient } = require('@clickhouse/client');
  const c = createClient({ url, request_timeout: 5000 });
  const rs = await c.query({ query: 'SELECT 1 AS ok', format: 'JSONEachRow' });
  const rows = await rs.json();
  await c.close();
  if (rows[0]?.ok !== 1) throw new Error(`unexpected ${JSON.stringify(rows)}`);
}

async function ferretdb() {
  const { MongoClient } = require('mongodb');
  const c = new MongoClient(url, { serverSelectionTimeoutMS: 3000 });
  await c.connect();
  const r = await c.db('admin').command({ ping: 1 });
  await c.close();
  if (r.ok !== 1) throw new Error(`unexpected ${JSON.stringify(r)}`);
}

async function stripe() {
  const Stripe = require('stripe');
  const u = new URL(url);
  const s = new Stripe('sk_test_probe', { host: u.hostname, port: Number(u.port), protocol: 'http', maxNetworkRetries: 0 });
  const list = await s.customers.list({ limit: 1 });
  if (list.object !== 'list') throw new Error(`unexpected ${JSON.stringify(list).slice(0, 80)}`);
}

const probes = { redis, 'redis-cluster': redisCluster, kafka, 'kafka-cluster': kafkaCluster, clickhouse, ferretdb, stripe };
if (!probes[name]) { console.error(`unknown service ${name}`); process.exit(64); }
probes[name]().then(() => { clearTimeout(timeout); process.exit(0); }, (err) => { console.error(`${name}: ${err.message}`); process.exit(1); });

// Once per run of the integration tests: a database migrated to the latest schema, which every
// test database is cloned from (CREATE DATABASE … TEMPLATE) instead of migrating its own, and the
// `kindler` command bundled from src/ as npm run build bundles it, which the tests that run the CLI
// as a child process run (KINDLER_TEST_CLI). Their names are unique to the run, so runs side by
// side do not meet; both are removed at the end.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { bundleCli } from '../scripts/bundle.mjs';
import { migrate } from '../src/store/migrate.js';
import { PgDb } from '../src/store/pg-db.js';

const ADMIN_URL =
  process.env.KINDLER_TEST_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function setup(): Promise<() => Promise<void>> {
  const name = `kindler_test_template_${crypto.randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`create database ${name}`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const db = new PgDb(url.toString(), { max: 1 });
  try {
    await migrate(db);
  } finally {
    await db.close();
  }
  process.env.KINDLER_TEST_TEMPLATE = name;
  // Beside dist/'s own bundle, where the package's node_modules and templates are found from it.
  const cli = path.resolve(import.meta.dirname, `../dist/cli-test-${name.slice(-8)}`);
  await bundleCli(cli);
  process.env.KINDLER_TEST_CLI = path.join(cli, 'kindler.mjs');
  return async () => {
    fs.rmSync(cli, { recursive: true, force: true });
    await admin((c) => c.query(`drop database if exists ${name} with (force)`));
  };
}

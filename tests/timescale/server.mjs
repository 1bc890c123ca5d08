// A real TimescaleDB for the store tests: PGlite (PostgreSQL 17 in WebAssembly) with the
// timescaledb extension, served over the PostgreSQL wire protocol on 127.0.0.1.
// Usage: node server.mjs <port>. Prints "ready <port>" once listening; stops on SIGTERM/SIGINT
// or when stdin closes (so a crashed test run never leaves it behind).
import { PGlite } from "@electric-sql/pglite";
import { timescaledb } from "@electric-sql/pglite/timescaledb";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

const port = Number(process.argv[2] ?? "0");
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error(`usage: node server.mjs <port>   (got ${process.argv[2]})`);
  process.exit(2);
}

const db = await PGlite.create({ extensions: { timescaledb } });
const server = new PGLiteSocketServer({ db, port, host: "127.0.0.1" });
await server.start();
console.log(`ready ${port}`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await server.stop();
  await db.close();
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.stdin.on("end", stop);
process.stdin.resume();

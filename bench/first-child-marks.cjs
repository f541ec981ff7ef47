// Loaded into a `kindler create` under the bench (NODE_OPTIONS=--require): when the process ran its
// first line of JavaScript, connected to the database, read its last answer before its first child,
// and started that child (ms from the process's time origin), and how many answers it read before
// it — written once, at that first child, to KINDLER_BENCH_MARKS. It takes both variables out of
// the environment at once: nothing the create starts sees them.
'use strict';
const cp = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const { performance } = require('node:perf_hooks');

const out = process.env.KINDLER_BENCH_MARKS;
delete process.env.KINDLER_BENCH_MARKS;
delete process.env.NODE_OPTIONS;
if (out) {
  const marks = {
    js: performance.now(),
    connected: null,
    lastAnswer: null,
    answers: 0,
    child: null,
  };
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (...args) {
    if (marks.child === null) {
      this.once('connect', () => {
        marks.connected ??= performance.now();
      });
      this.on('data', () => {
        if (marks.child !== null) return;
        marks.answers++;
        marks.lastAnswer = performance.now();
      });
    }
    return connect.apply(this, args);
  };
  const spawn = cp.ChildProcess.prototype.spawn;
  cp.ChildProcess.prototype.spawn = function (...args) {
    if (marks.child === null) {
      marks.child = performance.now();
      fs.writeFileSync(out, JSON.stringify(marks));
    }
    return spawn.apply(this, args);
  };
}

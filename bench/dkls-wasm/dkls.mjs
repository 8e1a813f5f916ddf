// @silencelaboratories/dkls-wasm-ll-node (Silence Laboratories' DKLs23, Rust compiled to WebAssembly) figures for
// docs/performance.md, beside Rotor's threshold ECDSA (bench/Rotor.Bench: `-- ecdsa`): key generation (DKG with
// the pairwise OT setup), signing by t parties (pre-signature rounds, last message and combination) and key
// rotation (refresh), every party's work in one process, messages passed as the package's README shows. Usage:
//   node dkls.mjs [--op keygen,sign,refresh] [--quorum 2-of-3,3-of-5,7-of-10]
// Each measurement warms up, then repeats until about a second has passed (at least 3 runs, or 1 run when one run
// takes longer than 5 s) and prints the median (the same method as bench/noble/frost.mjs and Rotor's `-- ecdsa`), and
// beside it the mean processor time of a run (the steadier figure on a loaded machine).
import { KeygenSession, Keyshare, SignSession } from '@silencelaboratories/dkls-wasm-ll-node';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { measure, fmt } from '../measure.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf('--' + name);
  return (i >= 0 ? process.argv[i + 1] : dflt).split(',');
};
const ops = arg('op', 'keygen,sign,refresh');
const quorums = arg('quorum', '2-of-3,3-of-5,7-of-10').map((q) => q.split('-of-').map(Number));
const digest = new Uint8Array(createHash('sha256').update('benchmark transaction').digest());

const others = (msgs, party) => msgs.filter((m) => m.from_id !== party).map((m) => m.clone());
const toMe = (msgs, party) => msgs.filter((m) => m.to_id === party).map((m) => m.clone());
const freeAll = (msgs) => msgs.forEach((m) => m.free());

// The README's dkg_inner: four message rounds among all parties, then every party's key share.
function keygenRounds(parties) {
  const m1 = parties.map((p) => p.createFirstMessage());
  const m2 = parties.flatMap((p, i) => p.handleMessages(others(m1, i)));
  const commitments = parties.map((p) => p.calculateChainCodeCommitment());
  const m3 = parties.flatMap((p, i) => p.handleMessages(toMe(m2, i)));
  const m4 = parties.flatMap((p, i) => p.handleMessages(toMe(m3, i), commitments));
  parties.forEach((p, i) => p.handleMessages(others(m4, i)));
  [m1, m2, m3, m4].forEach(freeAll);
  return parties.map((p) => p.keyshare().toBytes());
}

const keygen = (t, n) => keygenRounds(Array.from({ length: n }, (_, i) => new KeygenSession(n, t, i)));

// Key rotation of every party's share (the package's refresh: new shares of the same key, new OT material).
const refresh = (shares) => keygenRounds(shares.map((b) => KeygenSession.initKeyRotation(Keyshare.fromBytes(b))));

// The README's dsg with the first t parties; the signature is checked against the group key by combine().
function sign(shares, t) {
  const parties = shares.slice(0, t).map((b) => new SignSession(Keyshare.fromBytes(b), 'm'));
  const m1 = parties.map((p) => p.createFirstMessage());
  const m2 = parties.flatMap((p, i) => p.handleMessages(others(m1, i)));
  const m3 = parties.flatMap((p, i) => p.handleMessages(toMe(m2, i)));
  parties.forEach((p, i) => p.handleMessages(toMe(m3, i)));
  const m4 = parties.map((p) => p.lastMessage(digest));
  const sigs = parties.map((p, i) => p.combine(others(m4, i)));
  [m1, m2, m3, m4].forEach(freeAll);
  if (sigs.length !== t || sigs[0][0].length !== 32) throw new Error('no signature');
  return sigs[0];
}

const pkg = JSON.parse(readFileSync(new URL('./node_modules/@silencelaboratories/dkls-wasm-ll-node/package.json', import.meta.url)));
const load = () => { try { return readFileSync('/proc/loadavg', 'utf8').split(' ')[0]; } catch { return '?'; } };
console.log(`@silencelaboratories/dkls-wasm-ll-node ${pkg.version}, node ${process.version}, load average ${load()}`);
for (const [t, n] of quorums) {
  const shares = keygen(t, n);
  for (const op of ops) {
    const f = op === 'keygen' ? () => keygen(t, n) : op === 'sign' ? () => sign(shares, t) : () => refresh(shares);
    const r = measure(f);
    console.log(`| dkls-wasm | ${op} | ${t}-of-${n} | ${fmt(r.median)} | cpu ${fmt(r.cpu)} | ${r.runs} runs | load ${load()} |`);
  }
}

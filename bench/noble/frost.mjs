// @noble/curves FROST figures for docs/performance.md: DKG, signing and a zero-secret refresh built from
// noble's parts, every member's work in one process. Usage:
//   node frost.mjs [--suite ed25519,secp256k1,schnorr] [--op sign,dkg,refresh] [--quorum 2-of-3,3-of-5,...]
// Each measurement warms up, then repeats until about a second has passed (at least 3 runs, or 1 run when one run takes
// longer than 5 s) and prints the median.
import { ed25519, ed25519_FROST } from '@noble/curves/ed25519.js';
import { secp256k1, secp256k1_FROST, schnorr_FROST } from '@noble/curves/secp256k1.js';
import { mulAddUnsafe } from '@noble/curves/abstract/curve.js';
import { readFileSync } from 'node:fs';
import { measure, fmt } from '../measure.mjs';

const suites = {
  ed25519: { frost: ed25519_FROST, Point: ed25519.Point },
  secp256k1: { frost: secp256k1_FROST, Point: secp256k1.Point },
  schnorr: { frost: schnorr_FROST, Point: secp256k1.Point },
};

const arg = (name, dflt) => {
  const i = process.argv.indexOf('--' + name);
  return (i >= 0 ? process.argv[i + 1] : dflt).split(',');
};
const suiteNames = arg('suite', 'ed25519,secp256k1');
const ops = arg('op', 'sign,dkg,refresh');
const quorums = arg('quorum', '2-of-3,3-of-5,7-of-10,34-of-50').map((q) => q.split('-of-').map(Number));

const msg = new TextEncoder().encode('benchmark message');

function ids(frost, n) {
  return Array.from({ length: n }, (_, i) => frost.Identifier.fromNumber(i + 1));
}

// Every member's DKG rounds 1-3 (RFC 9591 appendix C with proofs of knowledge).
function dkg(frost, t, n) {
  const signers = { min: t, max: n };
  const members = ids(frost, n);
  const r1 = members.map((id) => frost.DKG.round1(id, signers));
  const r2 = r1.map((m, i) => frost.DKG.round2(m.secret, r1.filter((_, j) => j !== i).map((o) => o.public)));
  return r1.map((m, i) => {
    const id = members[i];
    const others = r1.filter((_, j) => j !== i).map((o) => o.public);
    const received = r2.filter((_, j) => j !== i).map((out) => out[id]);
    return frost.DKG.round3(m.secret, others, received);
  });
}

// Commit, sign and aggregate (aggregate checks the signature) with the first t members.
function sign(frost, keys, t) {
  const signing = keys.slice(0, t);
  const round1 = signing.map((k) => frost.commit(k.secret));
  const list = round1.map((r) => r.commitments);
  const shares = {};
  signing.forEach((k, i) => { shares[k.secret.identifier] = frost.signShare(k.secret, k.public, round1[i].nonces, list, msg); });
  const sig = frost.aggregate(keys[0].public, list, msg, shares);
  if (sig.length === 0) throw new Error('no signature');
  return sig;
}

// Zero-secret refresh from noble's parts: every member deals f_i with f_i(0) = 0 (commitments to the t-1 other
// coefficients), every receiver decodes and checks the commitments as noble's FROST does (on the curve, not the
// identity, in the prime-order subgroup), Feldman-verifies its share, adds the shares to its signing share and
// recomputes every verifying share from the summed commitment.
function refresh(s, keys, t, n) {
  const { frost, Point } = s;
  const Fn = frost.utils.Fn;
  const members = keys.map((k) => Fn.fromBytes(hexToBytes(k.secret.identifier)));
  const parse = (b) => {
    const p = Point.fromBytes(b);
    p.assertValidity();
    if (p.is0()) throw new Error('identity');
    if (!p.isTorsionFree()) throw new Error('torsion');
    return p;
  };
  const dealt = keys.map(() => {
    const coeffs = [Fn.ZERO];
    for (let k = 1; k < t; k++) coeffs.push(Fn.fromBytes(frost.utils.randomScalar()));
    const commitment = coeffs.slice(1).map((c) => Point.BASE.multiply(c).toBytes());
    const shares = members.map((x) => { let acc = Fn.ZERO; for (let k = t - 1; k >= 0; k--) acc = Fn.add(Fn.mul(acc, x), coeffs[k]); return acc; });
    return { commitment, shares };
  });
  return keys.map((key, j) => {
    const x = members[j];
    const powers = []; for (let k = 1, p = x; k < t; k++, p = Fn.mul(p, x)) powers.push(p);
    let share = Fn.fromBytes(key.secret.signingShare);
    const summed = new Array(t - 1).fill(Point.ZERO);
    dealt.forEach((d) => {
      const c = d.commitment.map(parse);
      const s = d.shares[j];
      if (!Point.BASE.multiply(s).equals(mulAddUnsafe(Point, c, powers))) throw new Error('bad share');
      share = Fn.add(share, s);
      c.forEach((p, k) => { summed[k] = summed[k].add(p); });
    });
    const verifying = {};
    members.forEach((m, i) => {
      const pw = []; for (let k = 1, p = m; k < t; k++, p = Fn.mul(p, m)) pw.push(p);
      const old = Point.fromBytes(key.public.verifyingShares[keys[i].secret.identifier]);
      verifying[keys[i].secret.identifier] = old.add(mulAddUnsafe(Point, summed, pw)).toBytes();
    });
    return { share: Fn.toBytes(share), verifying };
  });
}

function hexToBytes(h) { return Uint8Array.from(h.match(/../g).map((b) => parseInt(b, 16))); }

const pkg = JSON.parse(readFileSync(new URL('./node_modules/@noble/curves/package.json', import.meta.url)));
console.log(`@noble/curves ${pkg.version}, node ${process.version}`);
for (const name of suiteNames) {
  const s = suites[name];
  for (const [t, n] of quorums) {
    const keys = dkg(s.frost, t, n);
    for (const op of ops) {
      const f = op === 'dkg' ? () => dkg(s.frost, t, n) : op === 'sign' ? () => sign(s.frost, keys, t) : () => refresh(s, keys, t, n);
      const r = measure(f);
      console.log(`| ${name} | ${op} | ${t}-of-${n} | ${fmt(r.median)} | ${r.runs} runs |`);
    }
  }
}

/*
 * djctl 抽签核验器 — an independent implementation of the verifiable draw (DESIGN §3, djctl-draw-v1).
 *
 * No libraries. SHA-256 through the browser's Web Crypto (crypto.subtle); where a page is opened in a
 * context without it (an http:// intranet server is not a "secure context"), a small SHA-256 written out
 * below is used instead and the page says so. Exact arithmetic: the rate is parsed into an integer
 * numerator and a power-of-ten denominator (BigInt); nothing is computed with floating point.
 *
 * The steps, as DESIGN §3 states them:
 *  1. P sorted by Unicode code point; population hash = SHA-256 hex of the UTF-8 of P joined with "\n".
 *  2. k = ceil(rate × |P|) exactly, at least min_count, at most |P|; or k = min(count, |P|).
 *  3. key(c) = SHA-256 hex of the UTF-8 of seed + "\x1f" + label + "\x1f" + c.
 *  4. M = mandatory codes in P; E = excluded codes in P and not in M; if |P − E| < k, E is emptied.
 *  5. Not stratified: M (code point order), then P − E − M by ascending key until k are chosen.
 *  6. Stratified: quotas by largest remainder (larger remainder, then larger group, then group name by
 *     code point); groups in code point order each take M_g, then P_g − E − M by key while fewer than
 *     q_g; a shortfall below k is filled from all remaining codes of P − E − M by key.
 * Inspectors (双随机, label "inspect:<period>"): see verifyInspection below.
 *
 * Works in a browser (window.DjctlVerifier) and in Node 20 (module.exports), where the tests run it
 * against the Python implementation over fixed vectors and random records.
 */
(function (root) {
  "use strict";

  const ALGORITHM = "djctl-draw-v1";
  const SEP = "\u001f";
  // The keys of the canonical record (djctl.domain.sampling.DrawRecord); the audit digest covers exactly these.
  const RECORD_FIELDS = ["algorithm", "label", "seed", "rate", "k", "population", "population_hash", "mandatory",
    "excluded", "strata", "quotas", "keys", "selected", "min_count", "count", "excluded_requested",
    "excluded_waived", "excluded_waived_reason", "inspection", "strata_rates", "strata_reasons"];

  // ------------------------------------------------------------------ SHA-256

  const subtle = root.crypto && root.crypto.subtle;

  function hex(bytes) {
    let out = "";
    for (let i = 0; i < bytes.length; i++) out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    return out;
  }

  // FIPS 180-4 SHA-256, used only where crypto.subtle is missing.
  const K256 = new Uint32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2]);

  function sha256Plain(data) {
    const bitLen = data.length * 8;
    const padded = new Uint8Array(((data.length + 9 + 63) >> 6) << 6);
    padded.set(data);
    padded[data.length] = 0x80;
    const view = new DataView(padded.buffer);
    view.setUint32(padded.length - 8, Math.floor(bitLen / 0x100000000));
    view.setUint32(padded.length - 4, bitLen >>> 0);
    const h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
    const w = new Uint32Array(64);
    const rotr = (x, n) => (x >>> n) | (x << (32 - n));
    for (let off = 0; off < padded.length; off += 64) {
      for (let i = 0; i < 16; i++) w[i] = view.getUint32(off + 4 * i);
      for (let i = 16; i < 64; i++) {
        const s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
        const s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
        w[i] = (w[i - 16] + s0 + w[i - 7] + s1) >>> 0;
      }
      let [a, b, c, d, e, f, g, hh] = h;
      for (let i = 0; i < 64; i++) {
        const t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K256[i] + w[i]) >>> 0;
        const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
        hh = g; g = f; f = e; e = (d + t1) >>> 0; d = c; c = b; b = a; a = (t1 + t2) >>> 0;
      }
      h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
    }
    const out = new Uint8Array(32);
    const ov = new DataView(out.buffer);
    for (let i = 0; i < 8; i++) ov.setUint32(4 * i, h[i]);
    return hex(out);
  }

  const encoder = new TextEncoder();

  async function sha256hex(text) {
    const data = encoder.encode(text);
    if (subtle) return hex(new Uint8Array(await subtle.digest("SHA-256", data)));
    return sha256Plain(data);
  }

  // ------------------------------------------------------------------ code point order, exact k

  // Compare two strings by Unicode code point. JavaScript's own < compares UTF-16 code units, which
  // puts U+10000 and above (surrogate pairs) before U+E000–U+FFFF; code point order puts them after.
  function cmp(a, b) {
    if (a === b) return 0;
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const x = a.charCodeAt(i), y = b.charCodeAt(i);
      if (x !== y) {
        const sx = x >= 0xd800 && x <= 0xdfff, sy = y >= 0xd800 && y <= 0xdfff;
        if (sx !== sy) return sx ? 1 : -1;
        return x < y ? -1 : 1;
      }
    }
    return a.length < b.length ? -1 : 1;
  }

  const sorted = (codes) => codes.slice().sort(cmp);
  const gcd = (a, b) => (b === 0n ? a : gcd(b, a % b));

  // A decimal text ("0.2", "1e-1", " 0.25 ") as {negative, num, den} with BigInt num / den = |value|.
  // Underscores are dropped and full-width digits read as digits, as Python's Decimal() does.
  function parseRate(value) {
    if (typeof value === "boolean" || value === null || value === undefined) throw new Error("抽取比例不是数字");
    const text = String(value).normalize("NFKC").trim().replace(/_/g, "");
    const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
    if (!m || (m[2] === "" && (m[3] === undefined || m[3] === ""))) throw new Error(`抽取比例「${value}」不是有效数字`);
    const frac = m[3] || "";
    let exp = m[4] === undefined ? 0 : Number(m[4]);
    if (!Number.isSafeInteger(exp) || Math.abs(exp) > 100000) throw new Error(`抽取比例「${value}」超出可核验的范围`);
    exp -= frac.length;
    let num = BigInt((m[2] || "0") + frac);
    let den = 1n;
    if (exp >= 0) num *= 10n ** BigInt(exp); else den = 10n ** BigInt(-exp);
    return { negative: m[1] === "-" && num !== 0n, num, den };
  }

  function pyInt(v, what) {
    // int() of a JSON value as the Python verifier applies it
    if (typeof v === "number" && Number.isFinite(v)) return Math.trunc(v);
    if (typeof v === "string" && /^\s*[+-]?\d+\s*$/.test(v)) return Number(v.trim());
    if (typeof v === "boolean") return v ? 1 : 0;
    throw new Error(`${what}「${v}」不是整数`);
  }

  function computeK(rate, n, minCount, count) {
    if (count !== null && count !== undefined) {
      if (count < 0) throw new Error(`抽取数量「${count}」应为非负整数`);
      return Math.min(count, n);
    }
    if (rate === null || rate === undefined) throw new Error("请给出抽取比例或抽取数量");
    if (minCount < 0) throw new Error(`最少抽取数量「${minCount}」不能为负数`);
    const r = parseRate(rate);
    if (r.negative) throw new Error(`抽取比例「${rate}」不能为负数`);
    const product = r.num * BigInt(n);
    const k = (product + r.den - 1n) / r.den; // ceil for a non-negative product
    const kk = k > BigInt(n) ? n : Number(k);
    return Math.min(n, Math.max(minCount, kk));
  }

  // Largest remainder: q_g = k × w_g / Σw, w_g = |P_g| (one rate) or r_g × |P_g| (risk strata, `weights`
  // as BigInt numerators over one common denominator); larger remainder first, then larger group, then name.
  function quotasFor(k, sizes, weights) {
    const groups = sorted(Object.keys(sizes));
    const w = {};
    for (const g of groups) w[g] = weights ? weights[g] : BigInt(sizes[g]);
    const total = groups.reduce((s, g) => s + w[g], 0n);
    if (total === 0n) {
      if (k && !weights) throw new Error("总体为空，无法分配名额");
      return Object.fromEntries(groups.map((g) => [g, 0]));
    }
    const q = {}, rem = {};
    for (const g of groups) {
      const p = BigInt(k) * w[g];
      q[g] = Number(p / total);
      rem[g] = p % total;
    }
    let left = k - groups.reduce((s, g) => s + q[g], 0);
    const order = groups.slice().sort((a, b) => (rem[b] > rem[a] ? 1 : rem[b] < rem[a] ? -1 : 0)
      || (sizes[b] - sizes[a]) || cmp(a, b));
    for (const g of order) { if (left-- <= 0) break; q[g] += 1; }
    return q;
  }

  // ------------------------------------------------------------------ the draw

  function reasons(value) {
    // code -> reason, as the record may give it (an object, a list, a single code)
    if (value === null || value === undefined) return new Map();
    if (typeof value === "string") return new Map([[value, ""]]);
    if (Array.isArray(value)) return new Map(value.map((c) => [String(c), ""]));
    return new Map(Object.entries(value).map(([c, r]) => [c, r === null ? "" : String(r)]));
  }

  function checkCodes(codes) {
    const seen = new Set();
    for (const c of codes) {
      if (typeof c !== "string" || c === "") throw new Error("总体中有空编码");
      if (c.includes("\n") || c.includes(SEP)) throw new Error(`编码「${c}」含有换行或分隔符，不能参加抽签`);
      if (seen.has(c)) throw new Error(`总体中编码「${c}」重复`);
      seen.add(c);
    }
  }

  async function keysFor(seed, label, codes) {
    const keys = {};
    const digests = await Promise.all(codes.map((c) => sha256hex(seed + SEP + label + SEP + c)));
    codes.forEach((c, i) => { keys[c] = digests[i]; });
    return keys;
  }

  const byKey = (codes, keys) => codes.slice().sort((a, b) => (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : cmp(a, b)));

  // Recompute a draw from its inputs: the same steps, the same order, the same tie rules.
  async function recompute(rec) {
    const seed = String(rec.seed), label = String(rec.label);
    if (seed.includes(SEP) || label.includes(SEP)) throw new Error("种子或标签含有分隔符 \\x1f");
    const codes = (rec.population || []).map(String);
    checkCodes(codes);
    const pop = sorted(codes);
    const n = pop.length;
    const count = rec.count === null || rec.count === undefined ? null : pyInt(rec.count, "抽取数量");
    const minCount = "min_count" in rec ? pyInt(rec.min_count, "最少抽取数量") : 1;
    // risk strata: each stratum its own rate; Σ r_g × |P_g| exactly, as integers a_g over one denominator
    let weights = null, den = 1n;
    if (rec.strata_rates !== null && rec.strata_rates !== undefined) {
      if (rec.strata === null || rec.strata === undefined) throw new Error("按风险分层的抽取比例需要分层");
      const sizes = new Map();
      for (const c of pop) {
        const g = Object.prototype.hasOwnProperty.call(rec.strata, c) ? rec.strata[c] : null;
        if (g === null || g === undefined) throw new Error(`分层抽签时编码「${c}」没有分组`);
        sizes.set(String(g), (sizes.get(String(g)) || 0) + 1);
      }
      const ratios = new Map();
      for (const g of sizes.keys()) {
        const r = Object.prototype.hasOwnProperty.call(rec.strata_rates, g) ? rec.strata_rates[g] : null;
        if (r === null || r === undefined) throw new Error(`分层「${g}」没有抽取比例`);
        const p = parseRate(r);
        if (p.negative) throw new Error(`抽取比例「${r}」不能为负数`);
        ratios.set(g, p);
        if (den % p.den !== 0n) den = den * p.den / gcd(den, p.den);
      }
      weights = {};
      for (const [g, p] of ratios) weights[g] = p.num * (den / p.den) * BigInt(sizes.get(g));
    }
    let k;
    if (weights && count === null) {
      if (minCount < 0) throw new Error(`最少抽取数量「${minCount}」不能为负数`);
      const sum = Object.values(weights).reduce((s, a) => s + a, 0n);
      const expected = (sum + den - 1n) / den;
      k = Math.min(n, Math.max(minCount, expected > BigInt(n) ? n : Number(expected)));
    } else {
      k = computeK(weights ? null : rec.rate, n, minCount, count);
    }
    const keys = await keysFor(seed, label, pop);
    const inP = new Set(pop);
    const mAll = reasons(rec.mandatory);
    const mandatory = new Map(sorted([...mAll.keys()]).filter((c) => inP.has(c)).map((c) => [c, mAll.get(c)]));
    const eAll = reasons(rec.excluded_requested === null || rec.excluded_requested === undefined ? rec.excluded : rec.excluded_requested);
    const requested = new Map(sorted([...eAll.keys()]).filter((c) => inP.has(c) && !mandatory.has(c)).map((c) => [c, eAll.get(c)]));
    const waived = n - requested.size < k;
    const excluded = waived ? new Map() : requested;
    const free = pop.filter((c) => !mandatory.has(c) && !excluded.has(c));
    let selected = [], quotas = null;
    if (rec.strata === null || rec.strata === undefined) {
      selected = [...mandatory.keys()];
      selected = selected.concat(byKey(free, keys).slice(0, Math.max(0, k - selected.length)));
    } else {
      const strata = {};
      const sizes = {};
      for (const c of pop) {
        const g = Object.prototype.hasOwnProperty.call(rec.strata, c) ? rec.strata[c] : null;
        if (g === null || g === undefined) throw new Error(`分层抽签时编码「${c}」没有分组`);
        strata[c] = String(g);
        sizes[strata[c]] = (sizes[strata[c]] || 0) + 1;
      }
      quotas = quotasFor(k, sizes, weights);
      const chosen = new Set();
      for (const g of sorted(Object.keys(sizes))) {
        const taken = [...mandatory.keys()].filter((c) => strata[c] === g);
        for (const c of byKey(free.filter((c) => strata[c] === g), keys)) {
          if (taken.length >= quotas[g]) break;
          taken.push(c);
        }
        taken.forEach((c) => chosen.add(c));
        selected = selected.concat(taken);
      }
      if (selected.length < k) {
        selected = selected.concat(byKey(free.filter((c) => !chosen.has(c)), keys).slice(0, k - selected.length));
      }
    }
    return { population: pop, population_hash: await sha256hex(pop.join("\n")), k, keys,
      mandatory: Object.fromEntries(mandatory), excluded: Object.fromEntries(excluded),
      excluded_waived: waived, quotas, selected };
  }

  function short(codes, limit = 20) {
    if (!codes.length) return "（空）";
    return codes.slice(0, limit).join("、") + (codes.length > limit ? ` 等 ${codes.length} 个` : "");
  }

  function sameMap(a, b) {
    const ka = Object.keys(a), kb = Object.keys(b);
    return ka.length === kb.length && ka.every((c) => Object.prototype.hasOwnProperty.call(b, c) && a[c] === b[c]);
  }

  // The differences between a record and its recomputation ([] = 一致), in Chinese.
  async function verifyRecord(rec) {
    if (rec === null || typeof rec !== "object" || Array.isArray(rec)) return ["抽签记录不是一个 JSON 对象"];
    if (rec.algorithm !== ALGORITHM) return [`抽签算法「${rec.algorithm}」无法核验（本核验器使用 ${ALGORITHM}）`];
    if (!Array.isArray(rec.population) || rec.seed === undefined || rec.label === undefined || rec.seed === null || rec.label === null) {
      return ["抽签记录缺少种子、标签或总体，无法核验"];
    }
    const diffs = [];
    const given = rec.population.map(String);
    if (given.some((c, i) => i > 0 && cmp(given[i - 1], c) > 0)) diffs.push("记录中的总体未按编码码位排序");
    const hash = await sha256hex(sorted(given).join("\n"));
    if (rec.population_hash !== hash) diffs.push(`总体哈希不一致：应为 ${hash}，记录为 ${rec.population_hash}`);
    let fresh;
    try {
      fresh = await recompute(rec);
    } catch (e) {
      diffs.push(`无法按记录重新抽签：${e.message}`);
      return diffs;
    }
    if (rec.k !== fresh.k) diffs.push(`抽取数量 k 不一致：应为 ${fresh.k}，记录为 ${rec.k}`);
    const recKeys = rec.keys && typeof rec.keys === "object" ? rec.keys : {};
    for (const c of fresh.population) {
      if (!Object.prototype.hasOwnProperty.call(recKeys, c)) diffs.push(`编码「${c}」缺少键值`);
      else if (recKeys[c] !== fresh.keys[c]) diffs.push(`编码「${c}」的键值不一致：应为 ${fresh.keys[c]}，记录为 ${recKeys[c]}`);
    }
    for (const c of Object.keys(recKeys)) if (!(c in fresh.keys)) diffs.push(`编码「${c}」不在总体中却有键值`);
    if (!sameMap(Object.fromEntries(reasons(rec.mandatory)), fresh.mandatory)) {
      diffs.push(`必抽名单不一致：应为 ${short(Object.keys(fresh.mandatory))}`);
    }
    if (!sameMap(Object.fromEntries(reasons(rec.excluded)), fresh.excluded)) {
      diffs.push(`排除名单不一致：应为 ${short(Object.keys(fresh.excluded))}，记录为 ${short(Object.keys(rec.excluded || {}))}`);
    }
    if (rec.quotas !== null && rec.quotas !== undefined && (fresh.quotas === null || !sameMap(rec.quotas, fresh.quotas))) {
      diffs.push(`分层名额不一致：应为 ${JSON.stringify(fresh.quotas)}，记录为 ${JSON.stringify(rec.quotas)}`);
    }
    const sel = (rec.selected || []).map(String);
    const a = new Set(sel), b = new Set(fresh.selected);
    if (sel.length !== fresh.selected.length || a.size !== b.size || [...a].some((c) => !b.has(c))) {
      diffs.push(`抽中名单不一致：应为 ${short(fresh.selected)}，记录为 ${short(sel)}`);
    } else if (sel.some((c, i) => c !== fresh.selected[i])) {
      diffs.push(`抽中名单相同但顺序不一致：应为 ${short(fresh.selected)}，记录为 ${short(sel)}`);
    }
    return diffs;
  }

  // ------------------------------------------------------------------ the canonical record and its digest

  // JSON as Python's json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False) writes it.
  function canonical(v) {
    if (v === null || typeof v !== "object") return JSON.stringify(v);
    if (Array.isArray(v)) return "[" + v.map(canonical).join(",") + "]";
    return "{" + sorted(Object.keys(v)).map((k) => JSON.stringify(k) + ":" + canonical(v[k])).join(",") + "}";
  }

  // SHA-256 of the canonical JSON of the record's own fields: the digest the audit event of the draw carries.
  async function recordDigest(rec) {
    const own = {};
    for (const f of RECORD_FIELDS) if (Object.prototype.hasOwnProperty.call(rec, f)) own[f] = rec[f];
    return sha256hex(canonical(own));
  }

  // The label the n-th draw of a series must carry: the base for the first, base#n after.
  function expectedLabel(base, n) { return n <= 1 ? base : `${base}#${n}`; }

  // ------------------------------------------------------------------ inspectors (双随机)

  // See DESIGN §3 "Inspectors": every inspector of the pool gets a key by the same rule (label
  // inspect:<period>). The drawn units, in selection order, each take per_unit inspectors from the pool
  // minus those in conflict with the unit (回避, with reasons in the record), ordered by the number of
  // units they already took in this draw, then key, then code: the work is spread evenly, the order
  // within equal loads is the random one.
  async function verifyInspection(rec) {
    const ins = rec.inspection;
    if (ins === null || ins === undefined) return [];
    const diffs = [];
    if (typeof ins !== "object" || !Array.isArray(ins.pool) || typeof ins.assignments !== "object") {
      return ["检查人员抽取记录格式不对，无法核验"];
    }
    const pool = ins.pool.map(String);
    if (pool.some((c, i) => i > 0 && cmp(pool[i - 1], c) >= 0)) diffs.push("检查人员库未按编码码位排序或有重复");
    const poolHash = await sha256hex(sorted(pool).join("\n"));
    if (ins.pool_hash !== poolHash) diffs.push(`检查人员库哈希不一致：应为 ${poolHash}，记录为 ${ins.pool_hash}`);
    const label = String(ins.label);
    const drawLabel = String(rec.label), colon = drawLabel.indexOf(":");
    const want = "inspect:" + (colon < 0 ? "" : drawLabel.slice(colon + 1));
    if (label !== want) diffs.push(`检查人员抽取标签「${label}」应为「${want}」`);
    if (label.includes(SEP) || String(rec.seed).includes(SEP)) return diffs.concat(["检查人员抽取标签含有分隔符"]);
    const perUnit = pyInt(ins.per_unit, "每单位检查人员数");
    const keys = await keysFor(String(rec.seed), label, sorted(pool));
    const recKeys = ins.keys || {};
    for (const c of pool) {
      if (recKeys[c] !== keys[c]) diffs.push(`检查人员「${c}」的键值不一致：应为 ${keys[c]}，记录为 ${recKeys[c]}`);
    }
    const order = byKey(sorted(pool), keys);
    const rank = new Map(order.map((c, i) => [c, i]));
    const load = new Map(pool.map((c) => [c, 0]));
    const selected = (rec.selected || []).map(String);
    const conflicts = ins.conflicts || {};
    const assigned = ins.assignments || {};
    for (const unit of selected) {
      const excluded = conflicts[unit] || {};
      for (const c of Object.keys(excluded)) {
        if (!pool.includes(c)) diffs.push(`单位「${unit}」的回避名单中有不在人员库中的「${c}」`);
      }
      const eligible = order.filter((c) => !Object.prototype.hasOwnProperty.call(excluded, c))
        .sort((a, b) => (load.get(a) - load.get(b)) || (rank.get(a) - rank.get(b)));
      const expected = eligible.slice(0, perUnit);
      expected.forEach((c) => load.set(c, load.get(c) + 1));
      const got = (assigned[unit] || []).map(String);
      if (expected.length < perUnit) {
        diffs.push(`单位「${unit}」回避后只剩 ${expected.length} 名检查人员，少于每单位 ${perUnit} 名`);
      } else if (got.length !== expected.length || got.some((c, i) => c !== expected[i])) {
        diffs.push(`单位「${unit}」的检查人员不一致：应为 ${short(expected)}，记录为 ${short(got)}`);
      }
    }
    for (const unit of Object.keys(assigned)) {
      if (!selected.includes(unit)) diffs.push(`单位「${unit}」未被抽中却分配了检查人员`);
    }
    return diffs;
  }

  // The units and the inspectors, from the record alone (what djctl's own verify_record checks).
  async function verifyDraw(rec) {
    const diffs = await verifyRecord(rec);
    if (rec && typeof rec === "object" && !Array.isArray(rec)) diffs.push(...await verifyInspection(rec));
    return diffs;
  }

  // ------------------------------------------------------------------ everything a page checks

  // ctx (from the page): base (the series label without #n), n (this draw's place in its series) and
  // digest (record_sha256 from the audit event written when the draw was made).
  async function verifyAll(rec, ctx) {
    const diffs = await verifyDraw(rec);
    if (rec && typeof rec === "object" && !Array.isArray(rec)) {
      const digest = await recordDigest(rec);
      if (ctx && ctx.digest) {
        if (digest !== ctx.digest) diffs.push(`记录摘要与抽签时写入审计日志的不一致：审计为 ${ctx.digest}，现为 ${digest}`);
      } else if (rec.record_sha256 && rec.record_sha256 !== digest) {
        diffs.push(`记录摘要不一致：记录中为 ${rec.record_sha256}，按内容计算为 ${digest}`);
      }
      if (ctx && ctx.base) {
        const want = expectedLabel(ctx.base, ctx.n);
        if (rec.label !== want) diffs.push(`标签「${rec.label}」与本页抽签应有的标签「${want}」不一致`);
      }
    }
    return diffs;
  }

  // ------------------------------------------------------------------ the page

  function show(doc, diffs, note) {
    const verdict = doc.getElementById("verdict");
    const list = doc.getElementById("differences");
    list.textContent = "";
    verdict.className = diffs.length ? "bad" : "good";
    verdict.textContent = diffs.length ? `不一致（${diffs.length} 处）` : "一致";
    for (const d of diffs) {
      const li = doc.createElement("li");
      li.textContent = d;
      list.appendChild(li);
    }
    doc.getElementById("verify-note").textContent = note;
  }

  async function runPage(doc) {
    const box = doc.getElementById("verify");
    const ctx = { base: box.dataset.base, n: Number(box.dataset.n), digest: box.dataset.digest };
    const how = subtle ? "（SHA-256 由浏览器 Web Crypto 计算）" : "（此浏览器环境没有 Web Crypto，SHA-256 由本页脚本计算）";
    async function check(text, pasted) {
      let rec;
      try {
        rec = JSON.parse(text);
      } catch (e) {
        show(doc, [`记录不是有效的 JSON：${e.message}`], "");
        return;
      }
      const diffs = await verifyAll(rec, pasted ? null : ctx);
      const digest = rec && typeof rec === "object" ? await recordDigest(rec) : "";
      const same = pasted ? (digest === ctx.digest ? "；与本页公示的记录相同" : "；与本页公示的记录不同") : "";
      show(doc, diffs, `已在本机重新计算总体哈希、k、每个编码的键与抽中名单${how}${same}。记录摘要 ${digest}`);
    }
    doc.getElementById("run").addEventListener("click", () => check(doc.getElementById("record").value, true));
    doc.getElementById("reset").addEventListener("click", () => {
      doc.getElementById("record").value = doc.getElementById("record").defaultValue;
      check(doc.getElementById("record").defaultValue, false);
    });
    await check(doc.getElementById("record").value, false);
  }

  const api = { ALGORITHM, RECORD_FIELDS, sha256hex, sha256Plain, cmp, parseRate, computeK, quotasFor, recompute,
    verifyRecord, verifyInspection, verifyDraw, verifyAll, canonical, recordDigest, expectedLabel, runPage };
  root.DjctlVerifier = api;
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  if (root.document && root.document.getElementById("verify")) {
    root.document.addEventListener("DOMContentLoaded", () => runPage(root.document));
    if (root.document.readyState !== "loading") runPage(root.document);
  }
})(typeof globalThis !== "undefined" ? globalThis : this);

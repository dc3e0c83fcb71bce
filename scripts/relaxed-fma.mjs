#!/usr/bin/env node
// Fuses the multiply-adds of the relaxed-SIMD binary (scripts/build.sh: the optimised, linked
// module built with the `relaxed` feature; any SIMD128 module works the same):
//
//   node scripts/relaxed-fma.mjs pkg/relaxed-simd/wasm_attention_bg.wasm pkg/relaxed-simd/wasm_attention_bg.wasm
//
// rustc 1.63 (LLVM 14) cannot emit the final relaxed-SIMD opcodes, so the fusion happens
// here, on binaryen's IR of the finished module: every `f32x4.add` with an `f32x4.mul`
// operand becomes `f32x4.relaxed_madd(a, b, c)` (one rounding instead of two where the
// engine fuses). In binaryen IR a function body is an expression tree, so a `f32x4.mul`
// that is a direct operand of the add has exactly one use (a product kept in a local and
// reused would appear as `local.get`, never as that child): fusing never duplicates or
// drops a product.
//
// `add(mul(a, b), c)` keeps its evaluation order (a, b, c). `add(c, mul(a, b))` would
// evaluate c after a and b, so it is fused only when that cannot be observed: neither side
// calls, branches, throws or writes memory or globals, and neither writes a local the other
// uses (the usual case: c is the kernel's accumulator, a local.get); others are counted as skipped.
//
// The exported `wa_simd` (1 in the SIMD build) is rewritten to return 2, so a module
// reports which build it is (ts/init.ts reads it) whichever way it was loaded.
import binaryen from 'binaryen';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: node scripts/relaxed-fma.mjs <simd.wasm> <relaxed.wasm>');
  process.exit(2);
}

const B = binaryen;
const ids = B.ExpressionIds;

/** Child slots of each expression kind: [getter, setter] pairs of binaryen's C API. */
const SLOTS = {
  [ids.If]: [['IfGetCondition', 'IfSetCondition'], ['IfGetIfTrue', 'IfSetIfTrue'], ['IfGetIfFalse', 'IfSetIfFalse']],
  [ids.Loop]: [['LoopGetBody', 'LoopSetBody']],
  [ids.Break]: [['BreakGetValue', 'BreakSetValue'], ['BreakGetCondition', 'BreakSetCondition']],
  [ids.Switch]: [['SwitchGetValue', 'SwitchSetValue'], ['SwitchGetCondition', 'SwitchSetCondition']],
  [ids.LocalSet]: [['LocalSetGetValue', 'LocalSetSetValue']],
  [ids.GlobalSet]: [['GlobalSetGetValue', 'GlobalSetSetValue']],
  [ids.Load]: [['LoadGetPtr', 'LoadSetPtr']],
  [ids.Store]: [['StoreGetPtr', 'StoreSetPtr'], ['StoreGetValue', 'StoreSetValue']],
  [ids.Unary]: [['UnaryGetValue', 'UnarySetValue']],
  [ids.Binary]: [['BinaryGetLeft', 'BinarySetLeft'], ['BinaryGetRight', 'BinarySetRight']],
  [ids.Select]: [['SelectGetIfTrue', 'SelectSetIfTrue'], ['SelectGetIfFalse', 'SelectSetIfFalse'],
    ['SelectGetCondition', 'SelectSetCondition']],
  [ids.Drop]: [['DropGetValue', 'DropSetValue']],
  [ids.Return]: [['ReturnGetValue', 'ReturnSetValue']],
  [ids.MemoryGrow]: [['MemoryGrowGetDelta', 'MemoryGrowSetDelta']],
  [ids.SIMDExtract]: [['SIMDExtractGetVec', 'SIMDExtractSetVec']],
  [ids.SIMDReplace]: [['SIMDReplaceGetVec', 'SIMDReplaceSetVec'], ['SIMDReplaceGetValue', 'SIMDReplaceSetValue']],
  [ids.SIMDShuffle]: [['SIMDShuffleGetLeft', 'SIMDShuffleSetLeft'], ['SIMDShuffleGetRight', 'SIMDShuffleSetRight']],
  [ids.SIMDTernary]: [['SIMDTernaryGetA', 'SIMDTernarySetA'], ['SIMDTernaryGetB', 'SIMDTernarySetB'],
    ['SIMDTernaryGetC', 'SIMDTernarySetC']],
  [ids.SIMDShift]: [['SIMDShiftGetVec', 'SIMDShiftSetVec'], ['SIMDShiftGetShift', 'SIMDShiftSetShift']],
  [ids.SIMDLoad]: [['SIMDLoadGetPtr', 'SIMDLoadSetPtr']],
  [ids.SIMDLoadStoreLane]: [['SIMDLoadStoreLaneGetPtr', 'SIMDLoadStoreLaneSetPtr'],
    ['SIMDLoadStoreLaneGetVec', 'SIMDLoadStoreLaneSetVec']],
  [ids.MemoryCopy]: [['MemoryCopyGetDest', 'MemoryCopySetDest'], ['MemoryCopyGetSource', 'MemoryCopySetSource'],
    ['MemoryCopyGetSize', 'MemoryCopySetSize']],
  [ids.MemoryFill]: [['MemoryFillGetDest', 'MemoryFillSetDest'], ['MemoryFillGetValue', 'MemoryFillSetValue'],
    ['MemoryFillGetSize', 'MemoryFillSetSize']],
  [ids.MemoryInit]: [['MemoryInitGetDest', 'MemoryInitSetDest'], ['MemoryInitGetOffset', 'MemoryInitSetOffset'],
    ['MemoryInitGetSize', 'MemoryInitSetSize']],
};
/** Kinds with no children. */
const LEAVES = new Set([ids.Nop, ids.LocalGet, ids.GlobalGet, ids.Const, ids.MemorySize, ids.Unreachable,
  ids.DataDrop, ids.AtomicFence]);
/** Effects that make evaluating an operand early or late observable (local writes are checked by index). */
const ORDERED = B.SideEffects.Branches | B.SideEffects.Calls
  | B.SideEffects.WritesGlobal | B.SideEffects.WritesMemory | B.SideEffects.WritesTable
  | B.SideEffects.Throws | B.SideEffects.IsAtomic | B.SideEffects.DanglingPop;

const module = B.readBinary(readFileSync(input));
module.setFeatures(module.getFeatures() | B.Features.SIMD128 | B.Features.RelaxedSIMD);

const isOp = (expr, op) => B.getExpressionId(expr) === ids.Binary && B._BinaryenBinaryGetOp(expr) === op;

/** The child operands of `expr`, each as [child, replace(next)]; absent optional operands are left out. */
function children(expr) {
  const id = B.getExpressionId(expr);
  const out = [];
  const listed = (kind, count, at, setAt) => {
    const n = B[`_Binaryen${kind}${count}`](expr);
    for (let i = 0; i < n; i++) {
      out.push([B[`_Binaryen${kind}${at}`](expr, i), (next) => B[`_Binaryen${kind}${setAt}`](expr, i, next)]);
    }
  };
  if (id === ids.Block) {
    listed('Block', 'GetNumChildren', 'GetChildAt', 'SetChildAt');
  } else if (id === ids.Call) {
    listed('Call', 'GetNumOperands', 'GetOperandAt', 'SetOperandAt');
  } else if (id === ids.CallIndirect) {
    out.push([B._BinaryenCallIndirectGetTarget(expr), (next) => B._BinaryenCallIndirectSetTarget(expr, next)]);
    listed('CallIndirect', 'GetNumOperands', 'GetOperandAt', 'SetOperandAt');
  } else if (SLOTS[id] !== undefined) {
    for (const [get, set] of SLOTS[id]) {
      const child = B[`_Binaryen${get}`](expr);
      if (child !== 0) out.push([child, (next) => B[`_Binaryen${set}`](expr, next)]);
    }
  } else if (!LEAVES.has(id)) {
    throw new Error(`relaxed-fma: unhandled expression kind ${id}; extend SLOTS`);
  }
  return out;
}

/** The locals the tree under `expr` reads and writes. */
function localsOf(expr, use = { reads: new Set(), writes: new Set() }) {
  const id = B.getExpressionId(expr);
  if (id === ids.LocalGet) use.reads.add(B._BinaryenLocalGetGetIndex(expr));
  if (id === ids.LocalSet) use.writes.add(B._BinaryenLocalSetGetIndex(expr));
  for (const [child] of children(expr)) localsOf(child, use);
  return use;
}

const disjoint = (a, b) => [...a].every((x) => !b.has(x));

/**
 * Whether `addend`, evaluated before `mul` in `add(addend, mul)`, may be evaluated after it:
 * neither side calls, branches, throws or writes memory or globals, and neither writes a
 * local the other reads or writes. (Both may load, and so trap: with no write between
 * them, either order ends in the same trap.)
 */
function reorderable(addend, mul) {
  if ((B.getSideEffects(addend, module) & ORDERED) !== 0 || (B.getSideEffects(mul, module) & ORDERED) !== 0) return false;
  const a = localsOf(addend), m = localsOf(mul);
  return disjoint(a.writes, m.reads) && disjoint(a.writes, m.writes) && disjoint(m.writes, a.reads);
}

let fused = 0, skipped = 0;

/** Rewrites the tree under `expr` bottom-up; returns the expression that replaces it. */
function rewrite(expr) {
  if (B.getExpressionId(expr) === ids.Call) calls.get(current).add(B.getExpressionInfo(expr).target);
  for (const [child, replace] of children(expr)) {
    const next = rewrite(child);
    if (next !== child) replace(next);
  }
  if (!isOp(expr, B.AddVecF32x4)) return expr;
  const left = B._BinaryenBinaryGetLeft(expr), right = B._BinaryenBinaryGetRight(expr);
  let mul, addend;
  if (isOp(left, B.MulVecF32x4)) {
    mul = left; addend = right; // a, b, c: the order is unchanged
  } else if (isOp(right, B.MulVecF32x4)) {
    if (!reorderable(left, right)) {
      skipped++;
      unfused.set(current, (unfused.get(current) ?? 0) + 1);
      return expr;
    }
    mul = right; addend = left;
  } else {
    return expr;
  }
  fused++;
  perFunction.set(current, (perFunction.get(current) ?? 0) + 1);
  return B._BinaryenSIMDTernary(module.ptr, B.RelaxedMaddVecF32x4,
    B._BinaryenBinaryGetLeft(mul), B._BinaryenBinaryGetRight(mul), addend);
}

const perFunction = new Map();
const unfused = new Map();
/** Direct callees of each function (to name the fused functions after the exports that reach them). */
const calls = new Map();
let current = '';
for (let i = 0; i < module.getNumFunctions(); i++) {
  const func = module.getFunctionByIndex(i);
  const info = B.getFunctionInfo(func);
  if (info.body === 0) continue; // an import
  current = info.name;
  calls.set(current, new Set());
  const next = rewrite(info.body);
  if (next !== info.body) B._BinaryenFunctionSetBody(func, next);
}

// wa_simd: `i32.const 1` in the SIMD build; 2 marks the relaxed-SIMD build.
const simdExport = module.getExport('wa_simd');
if (simdExport === 0) throw new Error('relaxed-fma: the module exports no wa_simd');
const marker = module.getFunction(B.getExportInfo(simdExport).value);
const body = B.getExpressionInfo(B.getFunctionInfo(marker).body);
if (body.id !== ids.Const || body.value !== 1) throw new Error('relaxed-fma: wa_simd does not return the constant 1');
B._BinaryenFunctionSetBody(marker, module.i32.const(2));

if (!module.validate()) throw new Error('relaxed-fma: the rewritten module does not validate');
if (fused === 0) throw new Error('relaxed-fma: no f32x4.add(f32x4.mul) pair found to fuse');
mkdirSync(dirname(output), { recursive: true });
writeFileSync(output, module.emitBinary());

/** The exports from which `name` is reached by direct calls. */
function exportsReaching(name) {
  const exported = new Map();
  for (let i = 0; i < module.getNumExports(); i++) {
    const e = B.getExportInfo(module.getExportByIndex(i));
    if (e.kind === B.ExternalFunction) exported.set(e.value, e.name);
  }
  const found = [];
  for (const [fn, exp] of exported) {
    const seen = new Set([fn]), todo = [fn];
    while (todo.length > 0) {
      const f = todo.pop();
      if (f === name) { found.push(exp); break; }
      for (const g of calls.get(f) ?? []) if (!seen.has(g)) { seen.add(g); todo.push(g); }
    }
  }
  return found;
}

const label = (name) => `function ${name} (reached from ${exportsReaching(name).join(', ') || 'no export'})`;
const top = [...perFunction].sort((a, b) => b[1] - a[1]).map(([name, n]) => [label(name), n]);
console.log(`relaxed-fma: fused ${fused} f32x4.add(f32x4.mul) into f32x4.relaxed_madd in ${top.length} functions`
  + ` (${skipped} left unfused: reordering their operands could be observed)`);
for (const [name, n] of top.slice(0, 12)) console.log(`  ${String(n).padStart(4)} fused  ${name}`);
for (const [name, n] of unfused) console.log(`  ${String(n).padStart(4)} left   ${label(name)}`);
module.dispose();
